package smtp

import (
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
