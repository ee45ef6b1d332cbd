package web

import (
	"net"
	"sync"
	"time"
)

// deadlineSlack is how much earlier than asked a write deadline may fire.
const deadlineSlack = time.Second

// deadlineListener hands out connections whose deadlines are set lazily
// (see deadlineConn).
type deadlineListener struct{ net.Listener }

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c}, nil
}

// deadlineConn makes the server timeouts cheap on keep-alive connections.
// net/http moves a connection's deadlines eight times per request when
// ReadTimeout, WriteTimeout, IdleTimeout and ReadHeaderTimeout are set
// (header, whole request, background read, its abort, write, clear,
// idle...), and each move of a deadline re-arms a runtime timer: about a
// tenth of a bare handler's CPU per request under wrk. Most of those moves
// are never observed by any read or write. So:
//
//   - a deadline that comes earlier than the one in force (or one where
//     none is) is applied at once: that is how net/http interrupts a read
//     in progress, and how a header timeout starts;
//   - a later deadline, or none, is only recorded, and applied at the next
//     Read or Write, which thus always runs under the deadline last asked
//     for, except that
//   - a write deadline within deadlineSlack later than the one in force is
//     left as is: WriteTimeout is re-armed once a second per connection
//     instead of twice per request, and may end a response up to
//     deadlineSlack early (29 s of a 30 s timeout).
//
// Read deadlines are exact at every Read.
type deadlineConn struct {
	net.Conn
	mu                  sync.Mutex
	readWant, readSet   time.Time
	writeWant, writeSet time.Time
}

// earlier reports whether t, a deadline, cuts in before the one in force.
func earlier(t, set time.Time) bool {
	return !t.IsZero() && (set.IsZero() || t.Before(set))
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readWant = t
	if earlier(t, c.readSet) {
		c.readSet = t
		return c.Conn.SetReadDeadline(t)
	}
	return nil
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeWant = t
	if earlier(t, c.writeSet) {
		c.writeSet = t
		return c.Conn.SetWriteDeadline(t)
	}
	return nil
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if !c.readWant.Equal(c.readSet) {
		c.readSet = c.readWant
		if err := c.Conn.SetReadDeadline(c.readWant); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if want, set := c.writeWant, c.writeSet; !want.Equal(set) &&
		(want.IsZero() || set.IsZero() || set.After(want) || want.Sub(set) > deadlineSlack) {
		c.writeSet = want
		if err := c.Conn.SetWriteDeadline(want); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's half-close of TCP connections (it looks for
// this method on the connection).
func (c *deadlineConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
