// Package reactor runs every quotesd frontend as a service in one process,
// around one shared quoter: it binds (or inherits from systemd) their
// listeners before anything is served, supervises them, and owns signals.
//
// Go's runtime netpoller already is the Reactor of POSA2: it demultiplexes
// readiness events on all sockets and wakes the goroutine waiting on each.
// This package does not re-implement that; it names the roles around it.
package reactor

import (
	"context"
	"net"
)

// Service is one long-running part of quotesd, usually a frontend's accept
// loop. Serve runs until ctx is cancelled, then stops accepting, lets work in
// flight finish and returns nil; any other return is a failure that the
// supervisor handles: a Permanent error stops the process, anything else
// (nil included) gets the service restarted. An accept loop whose socket
// fails returns ListenerFailed's error, which says which of the two it is.
type Service interface {
	Serve(ctx context.Context) error
}

// Listeners hands frontends their sockets. name identifies the frontend's
// socket (e.g. "qotd", "qotd-udp", "web", "smtp"): under systemd socket
// activation the socket with that FileDescriptorName is returned and addr is
// ignored; otherwise addr is bound now, so that a bad or busy address fails
// the start with an error naming name and addr.
type Listeners interface {
	Listen(name, addr string) (net.Listener, error)
	ListenPacket(name, addr string) (net.PacketConn, error)
}
