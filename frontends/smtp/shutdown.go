package smtp

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// At shutdown a session with a mail transaction under way (from MAIL to
// the reply to its data) may finish it, within shutdownGrace; an idle one
// (just greeted, after EHLO or RSET, or between messages) is told 421
// 4.3.2 and closed at once, as MTAs do, rather than hold the shutdown
// until the client's next command or the read timeout. go-smtp's own
// Shutdown waits for every connection, so the server tracks its
// connections and their state itself.

// errShuttingDown refuses a transaction that would start once shutdown has
// begun; the session then closes.
var errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
	Message: "Service shutting down, try again later"}

// conns is the set of the server's open connections.
type conns struct {
	mu       sync.Mutex
	m        map[*trackedConn]struct{}
	stopping bool
}

// trackListener registers every connection it accepts in set.
type trackListener struct {
	net.Listener
	set *conns
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, set: l.set}
	tc.out = tc // plain text until a session says otherwise
	l.set.mu.Lock()
	if l.set.m == nil {
		l.set.m = make(map[*trackedConn]struct{})
	}
	l.set.m[tc] = struct{}{}
	tc.stopping = l.set.stopping
	l.set.mu.Unlock()
	return tc, nil
}

// closeIdle starts the shutdown of every connection: those without a
// transaction under way are woken from their wait for a command, answered
// 421 and closed; the others when their transaction ends.
func (set *conns) closeIdle() {
	set.mu.Lock()
	defer set.mu.Unlock()
	set.stopping = true
	for c := range set.m {
		c.stop()
	}
}

// trackedConn is a connection of the server with what shutdown needs to
// know of its session.
type trackedConn struct {
	net.Conn
	set *conns

	mu       sync.Mutex
	txn      bool      // a mail transaction is under way (see beginTxn)
	stopping bool      // shutdown has begun
	out      io.Writer // where a reply goes (this conn, or TLS over it); nil: unknown, close without one
	session  bool      // a session (after EHLO) is open
}

// aLongTimeAgo is a deadline that has passed: setting it wakes a read.
var aLongTimeAgo = time.Unix(1, 0)

// stop marks the connection as shutting down and, when it is idle, wakes
// the read that waits for its next command.
func (c *trackedConn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	if !c.txn {
		_ = c.Conn.SetReadDeadline(aLongTimeAgo)
	}
}

// Read is where the session waits for the client: at shutdown, an idle
// session says goodbye instead of reading, and what a client sent as
// shutdown began is not taken.
func (c *trackedConn) Read(p []byte) (int, error) {
	if c.closing() {
		return 0, c.goodbye()
	}
	n, err := c.Conn.Read(p)
	if c.closing() {
		return 0, c.goodbye()
	}
	if n > 0 {
		c.mu.Lock()
		if !c.session {
			// A command before EHLO, perhaps STARTTLS: from here until a
			// session begins, what framing a reply needs is not known.
			c.out = nil
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *trackedConn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping && !c.txn
}

// goodbye writes the 421 reply and returns net.ErrClosed, on which go-smtp
// ends the session quietly and closes the connection (which sends what
// was written).
func (c *trackedConn) goodbye() error {
	c.mu.Lock()
	out := c.out
	c.out = nil
	c.mu.Unlock()
	if out != nil {
		_, _ = io.WriteString(out, "421 4.3.2 Service shutting down, try again later\r\n")
	}
	return net.ErrClosed
}

func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.m, c)
	c.set.mu.Unlock()
	return c.Conn.Close()
}

// beginSession is called when a session starts, on conn, the connection
// go-smtp speaks on: c, or TLS over it.
func (c *trackedConn) beginSession(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.session, c.out, c.txn = true, conn, false
}

// endSession is called when a session ends: the connection closes, or
// STARTTLS starts a new one over TLS.
func (c *trackedConn) endSession() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.session, c.out, c.txn = false, nil, false
}

// beginTxn marks a transaction under way, unless shutdown has begun: it
// reports false then, and the transaction must be refused with
// errShuttingDown (which is the session's last reply).
func (c *trackedConn) beginTxn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		c.out = nil
		return false
	}
	c.txn = true
	return true
}

// endTxn marks the transaction over: at shutdown, the session closes when
// it next waits for a command.
func (c *trackedConn) endTxn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.txn = false
}

// tracked returns the trackedConn under conn (go-smtp's connection: the
// accepted one, or TLS over it), or nil.
func tracked(conn net.Conn) *trackedConn {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	c, _ := conn.(*trackedConn)
	return c
}
