package smtp

import (
	"net"
	"testing"
	"time"
)

// deadlineConn records the read deadlines set on it.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error { c.set = append(c.set, t); return nil }

func TestLimitConn_PassesOnDeadlinesThatMatter(t *testing.T) {
	base := time.Now().Add(time.Minute)
	for _, tc := range []struct {
		name   string
		next   time.Time
		passed bool
	}{
		{"a little later", base.Add(time.Second), false},
		{"later by more than an eighth", base.Add(10 * time.Second), true},
		{"earlier", base.Add(-time.Second), true},
		{"none", time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc := &deadlineConn{}
			c := &limitConn{Conn: dc}
			c.SetReadDeadline(base)
			c.SetReadDeadline(tc.next)
			want := []time.Time{base}
			if tc.passed {
				want = append(want, tc.next)
			}
			if len(dc.set) != len(want) || !dc.set[len(dc.set)-1].Equal(want[len(want)-1]) {
				t.Errorf("deadlines set on the connection: %v, want %v", dc.set, want)
			}
		})
	}
}

// eventConn records writes and write deadlines, in order.
type eventConn struct {
	net.Conn
	events []string
}

func (c *eventConn) Write(p []byte) (int, error) {
	c.events = append(c.events, "write "+string(p))
	return len(p), nil
}

func (c *eventConn) SetWriteDeadline(t time.Time) error {
	c.events = append(c.events, "deadline")
	return nil
}

func TestLimitConn_NearerWriteDeadlineSendsWhatWasHeldFirst(t *testing.T) {
	ec := &eventConn{}
	c := &limitConn{Conn: ec}
	c.SetWriteDeadline(time.Now().Add(time.Minute))
	c.Write([]byte("250 OK\r\n"))
	c.SetWriteDeadline(time.Now().Add(2 * time.Minute)) // later: still held
	c.Write([]byte("221 Bye\r\n"))
	// What crypto/tls does when it closes: the deadline set to now.
	c.SetWriteDeadline(time.Now())
	want := []string{"deadline", "deadline", "write 250 OK\r\n221 Bye\r\n", "deadline"}
	if len(ec.events) != len(want) {
		t.Fatalf("events %q, want %q", ec.events, want)
	}
	for i := range want {
		if ec.events[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, ec.events[i], want[i])
		}
	}
}
