package limits_test

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/limits"
)

func TestClientOf_GroupsIPv6By64AndIPv4ByAddress(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1", "192.0.2.1", true},
		{"192.0.2.1", "192.0.2.2", false},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"2001:db8:1:2::1", "2001:db8:1:2:a:b:c:d", true},
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"2001:db8:1:2::1", "2001:db9:1:2::1", false},
		{"::ffff:192.0.2.1", "192.0.2.1", true},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.2", false},
		{"fe80::1%eth0", "fe80::2%eth1", true},
		{"192.0.2.1", "::ffff:c000:201", true},
		{"0.0.0.1", "::1", false},
	} {
		ca := limits.ClientOf(netip.MustParseAddr(tc.a))
		cb := limits.ClientOf(netip.MustParseAddr(tc.b))
		if got := ca == cb; got != tc.same {
			t.Errorf("ClientOf(%s) = %s, ClientOf(%s) = %s: same client %v, want %v", tc.a, ca, tc.b, cb, got, tc.same)
		}
	}
}

func TestClient_StringIsTheAddressOrThePrefix(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:DB8::1", "2001:db8::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
	} {
		c := limits.ClientOf(netip.MustParseAddr(tc.addr))
		if got := c.String(); got != tc.want {
			t.Errorf("ClientOf(%s).String() = %q, want %q", tc.addr, got, tc.want)
		}
		if !c.IsValid() {
			t.Errorf("ClientOf(%s) is not valid", tc.addr)
		}
	}
}

func TestClientOf_UnknownAddressIsTheOneUnknownClient(t *testing.T) {
	c := limits.ClientOf(netip.Addr{})
	if c != (limits.Client{}) || c.IsValid() {
		t.Errorf("ClientOf(zero Addr) = %#v (valid %v), want the zero, invalid Client", c, c.IsValid())
	}
	if got := c.String(); got != "unknown" {
		t.Errorf("the unknown client's String() = %q, want %q", got, "unknown")
	}
	if p := c.Prefix(); p.IsValid() {
		t.Errorf("the unknown client's Prefix() = %v, want the zero Prefix", p)
	}
}

// addrString is a net.Addr of a kind ClientOfNetAddr does not know, such
// as a test's wrapper might report.
type addrString string

func (a addrString) Network() string { return "test" }
func (a addrString) String() string  { return string(a) }

func TestClientOfNetAddr_ReadsTheIPOfAConnectionsAddress(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr net.Addr
		want string
	}{
		{"TCPv4", &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 25}, "192.0.2.1"},
		{"TCPv4In4Bytes", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 25}, "192.0.2.1"},
		{"TCPv6", &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2::99"), Port: 25}, "2001:db8:1:2::/64"},
		{"UDPv6", &net.UDPAddr{IP: net.ParseIP("2001:db8:1:2::99"), Port: 17}, "2001:db8:1:2::/64"},
		{"OtherWithPort", addrString("[2001:db8:1:2::7]:4321"), "2001:db8:1:2::/64"},
		{"OtherBare", addrString("198.51.100.4"), "198.51.100.4"},
		{"Unix", &net.UnixAddr{Name: "/run/quotesd.sock", Net: "unix"}, "unknown"},
		{"NilTCP", (*net.TCPAddr)(nil), "unknown"},
		{"Nil", nil, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := limits.ClientOfNetAddr(tc.addr).String(); got != tc.want {
				t.Errorf("ClientOfNetAddr(%v) = %s, want %s", tc.addr, got, tc.want)
			}
		})
	}
}

// The limits are shared by every frontend, so they must not depend on one.
func TestLimits_DependsOnNoFrontend(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/quotesd/quotesd/") && pkg != "github.com/quotesd/quotesd/limits" {
			t.Errorf("limits depends on %s: it must depend on no other package of quotesd", pkg)
		}
	}
}
