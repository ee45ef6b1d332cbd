package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/coreos/go-systemd/v22/activation"
)

// Sockets is the Listeners of a process. Sockets passed by systemd socket
// activation (LISTEN_FDS) are handed out by their FileDescriptorName, so a
// unit can give quotesd port 17 or 25 without running it as root; any other
// socket is bound on the spot, so that a busy or malformed address fails the
// start rather than the first client.
//
// Every socket handed out is logged at INFO as msg="listening" with its
// listener name and bound address: operators read it, and the end-to-end
// tests learn the ports of servers started on 127.0.0.1:0 from it.
//
// Sockets is a Wrapper Facade over socket(2)/bind(2)/listen(2) and the
// sd_listen_fds(3) protocol: frontends ask for "the qotd socket" and never
// learn which of the two produced it.
type Sockets struct {
	log *slog.Logger

	mu        sync.Mutex
	inherited map[string][]*os.File // not yet claimed, by FileDescriptorName
	bound     []BoundSocket         // handed out, in order
}

// BoundSocket is a socket Sockets handed out: its listener name, the
// address it is bound to, and whether systemd passed it.
type BoundSocket struct {
	Name      string
	Addr      net.Addr
	Inherited bool
}

// Bound returns the sockets handed out so far, in the order they were.
func (s *Sockets) Bound() []BoundSocket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BoundSocket(nil), s.bound...)
}

// NewSockets returns the process's Sockets, taking over the sockets systemd
// passed (if LISTEN_PID names this process). The LISTEN_* variables are
// removed from the environment so that child processes do not believe the
// sockets are theirs.
func NewSockets(log *slog.Logger) *Sockets {
	return newSockets(log, activation.Files(true))
}

// newSockets is NewSockets with the inherited files given, for tests.
func newSockets(log *slog.Logger, files []*os.File) *Sockets {
	s := &Sockets{log: log, inherited: map[string][]*os.File{}}
	for _, f := range files {
		s.inherited[f.Name()] = append(s.inherited[f.Name()], f)
	}
	return s
}

// Inherited reports whether systemd passed a socket named name that has not
// been claimed yet.
func (s *Sockets) Inherited(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inherited[name]) > 0
}

// claim takes the first inherited socket named name, if any.
func (s *Sockets) claim(name string) *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.inherited[name]
	if len(fs) == 0 {
		return nil
	}
	f := fs[0]
	if len(fs) == 1 {
		delete(s.inherited, name)
	} else {
		s.inherited[name] = fs[1:]
	}
	return f
}

// Listen returns the stream socket named name: the inherited one if systemd
// passed it, else a new TCP listener on addr. Errors name the listener and
// the address. An inherited socket that is not listening is refused here,
// so that the start fails rather than the first Accept.
func (s *Sockets) Listen(name, addr string) (net.Listener, error) {
	return s.listen(name, addr, net.ListenConfig{})
}

// ListenOneShot is Listen for protocols whose connections carry a single
// short exchange, such as QOTD: TCP keep-alive is left off on the
// connections it accepts, since each is over long before a first probe,
// and turning it on costs four setsockopt(2) calls per connection (a tenth
// of the server's CPU time at QOTD rates). Sockets inherited from systemd
// are served as Listen serves them: Go turns keep-alive on for the
// connections accepted from a listener it did not create.
func (s *Sockets) ListenOneShot(name, addr string) (net.Listener, error) {
	return s.listen(name, addr, net.ListenConfig{KeepAlive: -1})
}

// ListenOneShot calls l.ListenOneShot when l has it (as *Sockets does),
// else l.Listen.
func ListenOneShot(l Listeners, name, addr string) (net.Listener, error) {
	if o, ok := l.(interface {
		ListenOneShot(name, addr string) (net.Listener, error)
	}); ok {
		return o.ListenOneShot(name, addr)
	}
	return l.Listen(name, addr)
}

func (s *Sockets) listen(name, addr string, lc net.ListenConfig) (net.Listener, error) {
	if f := s.claim(name); f != nil {
		defer f.Close() // net.FileListener dups the descriptor
		l, err := net.FileListener(f)
		if err != nil {
			return nil, fmt.Errorf("listener %s: inherited socket (fd %d) is not a stream listener: %w", name, f.Fd(), err)
		}
		if ok, err := listening(l); !ok {
			l.Close()
			if err != nil {
				return nil, fmt.Errorf("listener %s: inherited socket (fd %d): %w", name, f.Fd(), err)
			}
			return nil, fmt.Errorf("listener %s: inherited socket (fd %d) is not listening (systemd passes connections, not a listener, to a .socket unit with Accept=yes)", name, f.Fd())
		}
		s.logListening(name, l.Addr(), true)
		return l, nil
	}
	if addr == "" {
		return nil, fmt.Errorf("listener %s: no address to listen on and no inherited socket", name)
	}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listener %s: cannot listen on %s: %w", name, addr, unwrapOpError(err))
	}
	s.logListening(name, l.Addr(), false)
	return l, nil
}

// ListenPacket is Listen for datagram sockets (UDP).
func (s *Sockets) ListenPacket(name, addr string) (net.PacketConn, error) {
	if f := s.claim(name); f != nil {
		defer f.Close()
		pc, err := net.FilePacketConn(f)
		if err != nil {
			return nil, fmt.Errorf("listener %s: inherited socket (fd %d) is not a datagram socket: %w", name, f.Fd(), err)
		}
		s.logListening(name, pc.LocalAddr(), true)
		return pc, nil
	}
	if addr == "" {
		return nil, fmt.Errorf("listener %s: no address to listen on and no inherited socket", name)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listener %s: cannot listen on udp %s: %w", name, addr, unwrapOpError(err))
	}
	s.logListening(name, pc.LocalAddr(), false)
	return pc, nil
}

func (s *Sockets) logListening(name string, addr net.Addr, inherited bool) {
	s.mu.Lock()
	s.bound = append(s.bound, BoundSocket{Name: name, Addr: addr, Inherited: inherited})
	s.mu.Unlock()
	if s.log == nil {
		return
	}
	s.log.Info("listening", "listener", name, "addr", addr.String(), "systemd", inherited)
}

// CloseUnused closes the inherited sockets no frontend claimed (each is
// logged as a warning: the unit names a socket that quotesd does not know,
// or whose frontend is disabled) and returns their names.
func (s *Sockets) CloseUnused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, fs := range s.inherited {
		for _, f := range fs {
			f.Close()
		}
		names = append(names, name)
		if s.log != nil {
			s.log.Warn("inherited socket not used by any frontend; closing it", "listener", name)
		}
	}
	s.inherited = map[string][]*os.File{}
	return names
}

// unwrapOpError drops the *net.OpError wrapper's "listen tcp addr:" prefix,
// which would repeat the address the caller's message already names.
func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

var _ Listeners = (*Sockets)(nil)
