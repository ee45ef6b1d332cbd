package smtp

import (
	"net"
	"sync"
	"time"
)

// limitConn is a connection of limitListener. It also coalesces the
// server's replies: go-smtp writes (and so sends) each reply on its own,
// which for a pipelining client (RFC 2920) means one packet and one system
// call per command. limitConn holds replies in a buffer and sends them all
// when the server next waits for input, or closes: the moment a reply must
// be on its way, since the client may be waiting for it.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
	mu      sync.Mutex
	out     []byte
	werr    error
	// The deadlines in force on Conn (see setDeadline); go-smtp's
	// session goroutine sets them, one at a time.
	readDeadline, writeDeadline time.Time
}

// SetReadDeadline and SetWriteDeadline are called by go-smtp before every
// command it reads and every reply it writes, and each call moves a
// runtime timer: eight per message. A new deadline only a little later
// than the one in force (by less than an eighth of the time it gives) is
// not passed on, so that the connection still times out after at least
// seven eighths of the configured timeout, at a fraction of the cost.
func (c *limitConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return setDeadline(&c.readDeadline, t, c.Conn.SetReadDeadline)
}

func (c *limitConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock() // the flush in Read may write at the same time
	defer c.mu.Unlock()
	// What was written under a later deadline goes out under that one
	// before a nearer deadline applies. crypto/tls closes a session by
	// writing its close_notify alert and then setting the write deadline
	// to now: without this, the replies still held (221 to QUIT) and the
	// alert would be dropped, unsent.
	if nearer(t, c.writeDeadline) {
		c.flushLocked()
	}
	return setDeadline(&c.writeDeadline, t, c.Conn.SetWriteDeadline)
}

// SetDeadline sets both deadlines exactly.
func (c *limitConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline, c.writeDeadline = t, t
	return c.Conn.SetDeadline(t)
}

// nearer reports whether deadline t comes before cur (a zero time is no
// deadline: the farthest).
func nearer(t, cur time.Time) bool {
	return !t.IsZero() && (cur.IsZero() || t.Before(cur))
}

func setDeadline(cur *time.Time, t time.Time, set func(time.Time) error) error {
	if !t.IsZero() && !cur.IsZero() && !t.Before(*cur) && t.Sub(*cur) < time.Until(t)/8 {
		return nil
	}
	*cur = t
	return set(t)
}

func (c *limitConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	c.out = append(c.out, p...)
	if len(c.out) >= 16<<10 {
		c.flushLocked()
	}
	return len(p), nil
}

func (c *limitConn) flushLocked() {
	if len(c.out) == 0 || c.werr != nil {
		return
	}
	_, c.werr = c.Conn.Write(c.out)
	c.out = c.out[:0]
}

func (c *limitConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.flushLocked()
	err := c.werr
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *limitConn) Close() error {
	c.mu.Lock()
	c.flushLocked()
	c.mu.Unlock()
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
