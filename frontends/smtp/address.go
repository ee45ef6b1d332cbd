package smtp

import (
	"net/netip"
	"strings"
)

// Addresses are the mailboxes quotesd answers for: one local part at each
// of its domains, with "+command" subaddresses (RFC 5233) that select what
// the reply contains.
type Addresses struct {
	LocalPart string   // "quote"
	Domains   []string // lower case, e.g. "quotes.example.org", "localhost"
}

// Match parses a recipient address. It returns the domain the address used
// (lower case, as configured) and the subaddress command ("" for plain
// quote@), and ok=false for any address that is not ours. Comparison is
// case-insensitive, as mail users expect even though RFC 5321 leaves local
// parts case-sensitive.
func (a *Addresses) Match(addr string) (domain, command string, ok bool) {
	local, dom, ok := splitAddress(addr)
	if !ok {
		return "", "", false
	}
	dom = strings.TrimSuffix(strings.ToLower(dom), ".")
	domain = ""
	for _, d := range a.Domains {
		if strings.EqualFold(d, dom) {
			domain = d
			break
		}
	}
	if domain == "" {
		return "", "", false
	}
	base, sub, hasSub := strings.Cut(local, "+")
	if !strings.EqualFold(base, a.LocalPart) {
		return "", "", false
	}
	if hasSub {
		command = strings.ToLower(sub)
	}
	return domain, command, true
}

// IsOwn reports whether addr is one of ours, with or without a subaddress.
func (a *Addresses) IsOwn(addr string) bool {
	_, _, ok := a.Match(addr)
	return ok
}

// splitAddress splits an addr-spec at its last "@".
func splitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// validAddress reports whether addr is a mailbox we are willing to write to:
// printable ASCII without spaces, angle brackets, quotes or other characters
// that would need quoting in a header or could smuggle a second command or
// header, and a domain made of LDH labels. Address literals ("[10.0.0.1]")
// are refused: a forged sender must not point deliveries at an arbitrary IP.
func validAddress(addr string) bool {
	local, domain, ok := splitAddress(addr)
	if !ok || len(addr) > 254 || len(local) > 64 {
		return false
	}
	for _, c := range local {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),:;<>@[\]`, c) {
			return false
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for rest, more := strings.TrimSuffix(domain, "."), true; more; {
		var label string
		label, rest, more = strings.Cut(rest, ".")
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// publicDomain reports whether the domain of a sender could be a public
// mail domain, one a reply may be sent to. It is not when it is an address
// literal ("[10.0.0.1]"), an IP address in any spelling a resolver accepts
// ("127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1"), a
// single label ("localhost", "intranet": resolved through the search list
// of the local network, if at all), or a name under a special-use or
// private top-level domain (specialUseTLDs). Answering such a sender would
// make quotesd, or its relay, connect to a host inside its own network.
//
// An IP address in any spelling has a last label that is not alphabetic;
// no top-level domain is, which RFC 1123 §2.1 relies on to tell names from
// addresses: every delegated TLD starts with a letter (IDNs with "xn--").
func publicDomain(domain string) bool {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	if strings.HasPrefix(d, "[") {
		return false
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return false
	}
	i := strings.LastIndexByte(d, '.')
	if i < 0 {
		return false
	}
	tld := d[i+1:]
	if tld == "" || tld[0] < 'a' || tld[0] > 'z' {
		return false
	}
	return !specialUseTLDs[tld]
}

// specialUseTLDs are top-level domains that name no public host: special-use
// names (RFC 6761 localhost, invalid and test; RFC 6762 local; RFC 7686
// onion; RFC 9476 alt), the infrastructure domain arpa (reverse DNS, and
// home.arpa for home networks, RFC 8375), internal (reserved by ICANN for
// private use), and the names private networks commonly use without
// delegation (RFC 6762 Appendix G, and localhost.localdomain).
var specialUseTLDs = map[string]bool{
	"localhost": true, "invalid": true, "test": true, "local": true, "onion": true,
	"alt": true, "arpa": true, "internal": true, "localdomain": true,
	"intranet": true, "private": true, "corp": true, "home": true, "lan": true,
}

// replyable reports whether addr is a mailbox a reply may be written and
// sent to: a valid address (validAddress) at a public domain (publicDomain).
func replyable(addr string) bool {
	_, domain, ok := splitAddress(addr)
	return ok && validAddress(addr) && publicDomain(domain)
}
