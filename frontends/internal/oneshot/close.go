package oneshot

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// Bounds on the lingering close of a client that sent input the server
// did not read: how long to wait for its end of the stream, and how much
// of its input to read and drop meanwhile. Past either, the connection is
// closed regardless.
const (
	LingerTimeout = 2 * time.Second
	LingerMax     = 64 << 10
)

// discardPool holds the buffers that swallow what clients send.
var discardPool = sync.Pool{New: func() any { return new(Discard) }}

// Discard is a buffer for input to drop, with what the drop found; the
// flags live here rather than in a closure, which would move them to the
// heap on every connection. Get one with GetDiscard, give it back with Put.
type Discard struct {
	buf       [4096]byte
	Sent, EOF bool // the client sent input; it closed its end
}

// GetDiscard takes a Discard from the pool.
func GetDiscard() *Discard { return discardPool.Get().(*Discard) }

// Put gives d back to the pool.
func (d *Discard) Put() { discardPool.Put(d) }

// WriteReply writes reply to conn, ends our half of the stream, and drops
// whatever the client has sent, lingering for its end of the stream when
// it sent anything.
//
// A reply fits the empty send buffer of a new connection, so one
// non-blocking write(2) nearly always sends it whole; only when it does not
// is the write deadline armed (a runtime timer per connection, measurable
// at tens of thousands of connections per second) for the rest.
//
// Closing a socket that holds unread input makes the kernel send a reset
// instead of a FIN, and input arriving after the close draws one too. A
// reset reaches the client as "connection reset by peer" instead of the
// end of the reply, and on a real network can overtake a retransmitted
// reply and destroy it. So, as HTTP servers do (a "lingering close"):
//
//  1. shutdown(SHUT_WR) right after the reply: the FIN follows the reply
//     at once, so the client holds the whole reply and a clean end of
//     stream before any reset we might still cause;
//  2. read and drop what the client has sent so far, without waiting;
//  3. if it sent anything (a telnet user who typed, a Finger client whose
//     query was refused unread), keep reading and dropping until it closes
//     its end, within LingerTimeout and LingerMax, so that the close finds
//     nothing unread.
//
// A client that sends nothing more costs one more syscall, shutdown(2),
// and no timer: waiting for every client to close first halved the QOTD
// connection rate.
//
// Step 3 holds the connection's slot, so it is taken only when mayLinger
// allows it (see Acceptor.MayLinger); otherwise the connection is closed
// at once, its client already holding the whole reply and our end of
// stream.
func WriteReply(conn net.Conn, reply []byte, timeout time.Duration, mayLinger func() bool) error {
	var rc syscall.RawConn
	if sc, ok := conn.(syscall.Conn); ok {
		rc, _ = sc.SyscallConn()
	}
	if rc != nil {
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = syscall.Write(int(fd), reply)
			return true // never wait for writability here
		}); err != nil {
			return err
		}
		switch {
		case werr == nil:
			reply = reply[n:]
		case werr != syscall.EAGAIN && werr != syscall.EINTR:
			return werr
		}
	}
	if len(reply) > 0 {
		conn.SetWriteDeadline(Deadline(time.Now(), timeout))
		if _, err := conn.Write(reply); err != nil {
			return err
		}
	}
	if rc == nil {
		return nil
	}
	d := GetDiscard()
	defer d.Put()
	rc.Read(func(fd uintptr) bool {
		d.EndWrite(int(fd))
		return true // never wait for readability here
	})
	if d.Sent && !d.EOF && mayLinger() {
		Linger(conn, d)
	}
	return nil
}

// EndWrite ends our half of the stream on the socket fd and drops what the
// client has sent so far, noting whether it sent anything and whether it
// has closed its end. The socket is non-blocking: read returns EAGAIN once
// it is empty, and EndWrite never waits.
func (d *Discard) EndWrite(fd int) {
	d.Sent, d.EOF = false, false
	syscall.Shutdown(fd, syscall.SHUT_WR)
	for range 16 {
		n, err := syscall.Read(fd, d.buf[:])
		if n == 0 && err == nil {
			d.EOF = true
		}
		if n <= 0 || err != nil {
			break
		}
		d.Sent = true
	}
}

// Linger reads and drops conn's input, into d's buffer, until the client
// closes its end, LingerTimeout passes or LingerMax bytes have been
// dropped.
func Linger(conn net.Conn, d *Discard) {
	conn.SetReadDeadline(time.Now().Add(LingerTimeout))
	for total := 0; total < LingerMax; {
		n, err := conn.Read(d.buf[:])
		total += n
		if err != nil {
			return
		}
	}
}
