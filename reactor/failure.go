package reactor

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/thejerf/suture/v4"
)

// Permanent marks err as a failure that restarting cannot fix: a listener
// that died (see ListenerFailed), a setting the peer refuses (the IRC
// server password, the SASL account). A service returning it stops the
// whole process, and Supervisor.Serve returns err naming the service. Any
// other error from a running service is taken as transient, and the
// service is restarted: restarting a service whose socket is gone would
// only fail again at once, forever, while the process looked alive.
//
// It is the one such marker in quotesd: frontends use it rather than a
// type of their own, so that the supervisor needs to know only this one.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// permanentError is err marked by Permanent; service is the name of the
// service that returned it, once the supervisor knows it.
type permanentError struct {
	err     error
	service string
}

func (e *permanentError) Error() string {
	if e.service == "" {
		return e.err.Error()
	}
	return e.service + " cannot be restarted: " + e.err.Error()
}

func (e *permanentError) Unwrap() error { return e.err }

// Is makes a permanent error terminate the suture tree.
func (e *permanentError) Is(target error) bool { return target == suture.ErrTerminateSupervisorTree }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// ListenerDead reports whether err, from Accept on a listener or ReadFrom
// on a datagram socket that its own Serve has not closed, means the socket
// will never deliver another connection or datagram: it was closed under
// the service (net.ErrClosed), its descriptor is gone (EBADF) or is no
// socket (ENOTSOCK), or the socket is not listening (EINVAL: after
// shutdown(2), or a connected socket passed by systemd).
//
// Temporary errors (EMFILE, ENFILE, ECONNABORTED) and the other errors
// accept(2) reports (ENOBUFS, ENOMEM, EPERM from a firewall rule, a network
// error pending on the new connection) are not: the socket works again once
// they pass.
func ListenerDead(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EBADF) ||
		errors.Is(err, syscall.ENOTSOCK) || errors.Is(err, syscall.EINVAL)
}

// KeepAccepting wraps ln for servers that retry only the Accept errors
// that say they are temporary (net/http's and go-smtp's Serve, which back
// off from 5 ms to 1 s) and return on any other: an error that leaves the
// listener alive (see ListenerDead) then says it is temporary too, so that
// the server backs off and accepts again instead of returning, and only a
// dead listener ends its Serve.
func KeepAccepting(ln net.Listener) net.Listener { return keepAccepting{ln} }

type keepAccepting struct{ net.Listener }

func (l keepAccepting) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil && !ListenerDead(err) {
		return nil, passingError{err}
	}
	return c, err
}

// passingError is an Accept error after which the listener works again.
type passingError struct{ error }

func (e passingError) Unwrap() error   { return e.error }
func (e passingError) Temporary() bool { return true }
func (e passingError) Timeout() bool   { return false }

// ListenerFailed is what a service's Serve returns when its socket at addr
// failed with err while the service's context was still live: a Permanent
// error when the socket is dead (ListenerDead), so that the process stops
// rather than restart the service in a loop; otherwise err, naming the
// address, for the supervisor to restart the service.
func ListenerFailed(addr net.Addr, err error) error {
	// The *net.OpError's text repeats the address; its operation and
	// cause are what the message needs.
	cause := err
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		cause = fmt.Errorf("%s: %w", oe.Op, oe.Err)
	}
	if ListenerDead(err) {
		return Permanent(fmt.Errorf("listener %s died: %w", addr, cause))
	}
	return fmt.Errorf("listener %s failed: %w", addr, cause)
}
