package queue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// errNonPublicAddress is why direct delivery refuses to connect to an
// address: replies go to whatever the recipient's domain resolves to, and
// the recipient is the sender of a request, which anyone can forge. Without
// this check a sender at a domain pointing at 127.0.0.1 or 10.0.0.1 would
// make quotesd open SMTP sessions to hosts inside its own network.
var errNonPublicAddress = errors.New("not a public unicast address: direct delivery does not connect there")

// publicAddr reports whether direct delivery may connect to a: a global
// unicast address outside every special-purpose block of the IANA IPv4 and
// IPv6 special-purpose address registries (RFC 6890 and its updates):
// loopback, private (RFC 1918, RFC 4193), link-local, multicast,
// unspecified, shared (RFC 6598), documentation, benchmarking, reserved,
// and the IPv6 prefixes that embed an IPv4 address (v4-mapped, NAT64,
// 6to4), which could lead to an internal IPv4 host.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false // also loopback, link-local, multicast, unspecified
	}
	for _, p := range specialPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// specialPrefixes are the special-purpose blocks IsGlobalUnicast and
// IsPrivate let through.
var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (RFC 791)
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space, carrier NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (RFC 7526)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 (RFC 5737)
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3 (RFC 5737)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the limited broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (RFC 6052)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("100::/64"),        // discard-only (RFC 6666)
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo (RFC 2928, 4380)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849)
	netip.MustParsePrefix("2002::/16"),       // 6to4 (RFC 3056)
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs (RFC 9602)
	netip.MustParsePrefix("fec0::/10"),       // site-local, deprecated (RFC 3879)
}

// mxAllowed reports whether direct delivery may connect to the address
// host (an IP address as LookupHost returns them). A name is let through:
// the dialler resolves it, and checks what it resolved to (mxDialer).
func (cl *smtpClient) mxAllowed(host string) error {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	if !cl.cfg.allowAddr(a) {
		return fmt.Errorf("%s: %w", host, errNonPublicAddress)
	}
	return nil
}

// mxDialer returns the dialler of direct delivery: a net.Dialer whose
// Control function sees the address the socket is about to connect to,
// after any name resolution, and refuses it unless allow approves. This
// is the check that DNS rebinding cannot get past: it is made on the
// address connected to, not on an earlier answer for the same name.
func mxDialer(timeout time.Duration, allow func(netip.Addr) bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err != nil || !allow(ap.Addr()) {
			return fmt.Errorf("refusing to connect to %s: %w", address, errNonPublicAddress)
		}
		return nil
	}}
	return d.DialContext
}
