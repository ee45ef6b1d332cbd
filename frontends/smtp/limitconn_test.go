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
