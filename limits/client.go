// Package limits says who a client is and how fast it may go, once for
// every frontend: Client is the one notion of "a client" that every
// per-client limit of quotesd counts against (the web's request rate,
// SMTP's message rate, connection cap and daily reply cap, QOTD's
// connection and datagram rates), and Limiter is the one bounded,
// fail-closed token bucket per client that enforces a rate.
//
// It knows nothing of any protocol: a frontend decides which address a
// request comes from (the TCP peer, or X-Forwarded-For behind a trusted
// proxy) and asks ClientOf whose it is.
package limits

import (
	"net"
	"net/netip"
)

// IPv6Bits is the length of the IPv6 prefix that is one client. A /64 is
// what one subscriber, host or virtual machine is usually given (RFC 6177
// recommends a /56 or /48 for a site, and SLAAC needs a whole /64 per
// link), so any one of them can use 2^64 addresses at will: counted per
// address, an IPv6 client would get a fresh budget with each.
const IPv6Bits = 64

// Client is one client for the purposes of a limit: an IPv4 address, or an
// IPv6 /64 (IPv6Bits). An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is
// the IPv4 client it maps. Clients are comparable, so they key maps.
//
// The zero Client is the unknown client: a peer whose IP address is not
// known (a Unix socket, an X-Forwarded-For chain that names none). All
// such peers are one client, so that they share one budget rather than
// each getting its own.
type Client struct {
	p netip.Prefix // a /32 for IPv4, a /64 for IPv6; invalid for the unknown client
}

// ClientOf returns the client that the address a belongs to; the unknown
// client for the zero Addr. An IPv6 zone is ignored: fe80::1%eth0 and
// fe80::1%eth1 are one client.
func ClientOf(a netip.Addr) Client {
	a = a.Unmap().WithZone("")
	switch {
	case a.Is4():
		return Client{netip.PrefixFrom(a, 32)}
	case a.Is6():
		p, _ := a.Prefix(IPv6Bits) // cannot fail: a is a valid IPv6 address without a zone
		return Client{p}
	}
	return Client{}
}

// ClientOfNetAddr returns the client of a connection's address (its
// RemoteAddr): the client of its IP address, or the unknown client when it
// has none (a Unix socket's).
func ClientOfNetAddr(a net.Addr) Client {
	switch a := a.(type) {
	case *net.TCPAddr:
		return ClientOf(a.AddrPort().Addr())
	case *net.UDPAddr:
		return ClientOf(a.AddrPort().Addr())
	case nil:
		return Client{}
	}
	// Another kind of address (a test's, a wrapper's): its text may still
	// be an IP address, with or without a port.
	s := a.String()
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ClientOf(ap.Addr())
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return ClientOf(ip)
	}
	return Client{}
}

// IsValid reports whether c is a known client (one with an IP address).
func (c Client) IsValid() bool { return c.p.IsValid() }

// Prefix returns the addresses c stands for: a /32 for an IPv4 client, a
// /64 for an IPv6 one; the zero Prefix for the unknown client.
func (c Client) Prefix() netip.Prefix { return c.p }

// String returns c in the form stored and logged: the address of an IPv4
// client ("192.0.2.1"), the prefix of an IPv6 one ("2001:db8:1:2::/64"),
// and "unknown" for the unknown client. Distinct clients have distinct
// strings, so the string may key a database row.
func (c Client) String() string {
	switch {
	case !c.p.IsValid():
		return "unknown"
	case c.p.Addr().Is4():
		return c.p.Addr().String()
	}
	return c.p.String()
}
