package web

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// deadlinePair returns a deadlineConn and the other end of its connection.
func deadlinePair(t *testing.T) (*deadlineConn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &deadlineConn{Conn: a}, b
}

func TestDeadlineConn_EarlierDeadlineInterruptsReadInProgress(t *testing.T) {
	t.Parallel()
	c, _ := deadlinePair(t)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the Read block
	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read: got %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a past deadline did not interrupt the Read in progress")
	}
}

func TestDeadlineConn_LaterOrNoDeadlineHoldsAtNextRead(t *testing.T) {
	t.Parallel()
	c, peer := deadlinePair(t)
	// A short deadline, then a longer one: the next Read must run under
	// the longer one, not time out at the first.
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = peer.Write([]byte("x"))
	}()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("Read under the later deadline: %v", err)
	}
	// And no deadline at all after a short one.
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = peer.Write([]byte("y"))
	}()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("Read with the deadline cleared: %v", err)
	}
}

func TestDeadlineConn_ReadTimesOutAtTheDeadlineInForce(t *testing.T) {
	t.Parallel()
	c, _ := deadlinePair(t)
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: got %v, want a deadline error", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Read timed out after %v, want about 30ms", waited)
	}
}

func TestDeadlineConn_WriteDeadlineReArmedOnlyPastTheSlack(t *testing.T) {
	t.Parallel()
	c, peer := deadlinePair(t)
	go func() {
		buf := make([]byte, 16)
		for {
			if _, err := peer.Read(buf); err != nil {
				return
			}
		}
	}()
	first := time.Now().Add(30 * time.Second)
	if err := c.SetWriteDeadline(first); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	// A little later, within the slack: the deadline in force stays.
	if err := c.SetWriteDeadline(first.Add(deadlineSlack / 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if !c.writeSet.Equal(first) {
		t.Errorf("write deadline in force: got %v, want %v (not re-armed within the slack)", c.writeSet, first)
	}
	// Past the slack it is re-armed; cleared, it is cleared.
	later := first.Add(2 * deadlineSlack)
	if err := c.SetWriteDeadline(later); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if !c.writeSet.Equal(later) {
		t.Errorf("write deadline in force: got %v, want %v", c.writeSet, later)
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("d")); err != nil {
		t.Fatal(err)
	}
	if !c.writeSet.IsZero() {
		t.Errorf("write deadline in force: got %v, want none", c.writeSet)
	}
}
