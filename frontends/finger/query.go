package finger

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuery is the most bytes a query line may hold, its CRLF aside.
const MaxQuery = 256

// Kind is what a query asks for.
type Kind string

// The kinds of query, as the "query" label of the replies counter.
const (
	Today   Kind = "today"   // the empty query: `finger @host`
	Random  Kind = "random"  // `finger random@host`
	Tag     Kind = "tag"     // `finger <tag>@host`: today's quote of the tag
	Help    Kind = "help"    // `finger help@host`
	Refused Kind = "refused" // a query answered with a one-line refusal
)

// Query is a parsed query line.
type Query struct {
	Kind Kind
	Tag  string // for Tag: the tag, lower-cased
	// Refusal, for Refused, is the one line sent back (without CRLF).
	Refusal string
	Reason  string // for Refused: the "reason" label of the refusals counter
}

// Reasons a query is refused, as the "reason" label of
// quotesd_finger_refused_total.
const (
	reasonTooLong    = "too_long"   // over MaxQuery bytes
	reasonNotUTF8    = "not_utf8"   // bytes that are not UTF-8
	reasonControl    = "control"    // control characters
	reasonVerbose    = "verbose"    // /W
	reasonForwarding = "forwarding" // user@host: a relay request
	reasonTimeout    = "timeout"    // no complete line before the read deadline
)

var refusalReasons = []string{reasonTooLong, reasonNotUTF8, reasonControl, reasonVerbose, reasonForwarding, reasonTimeout}

func refuse(reason, line string) Query {
	return Query{Kind: Refused, Reason: reason, Refusal: line}
}

// Parse parses one query line as RFC 1288 section 2.3 writes it, given
// without its line end (CRLF, or a bare LF as some clients send):
//
//	{Q1} ::= [{W}|{W}{S}{U}]{C}
//	{Q2} ::= [{W}{S}][{U}]{H}{C}
//
// The "user" {U} names what to show: nothing (today's quote), random,
// help, or a tag. /W (the verbose switch) and any {H} (a query holding
// '@', which asks this server to finger another host) are refused: RFC
// 1288 section 3.2.1 lets a server refuse forwarding, and quotesd must
// never be made a relay. So are lines over MaxQuery bytes, bytes that are
// not UTF-8 and control characters: none of them is a name quotesd has.
func Parse(line []byte) Query {
	switch {
	case len(line) > MaxQuery:
		return refuse(reasonTooLong, "finger: query refused: longer than 256 bytes")
	case !utf8.Valid(line):
		return refuse(reasonNotUTF8, "finger: query refused: not UTF-8 text")
	case bytes.ContainsFunc(line, unicode.IsControl):
		return refuse(reasonControl, "finger: query refused: it holds control characters")
	}
	q := strings.TrimSpace(string(line))
	if len(q) >= 2 && q[0] == '/' && (q[1] == 'W' || q[1] == 'w') {
		return refuse(reasonVerbose, "finger: /W (verbose) is not served here; try 'finger help@host'")
	}
	if strings.Contains(q, "@") {
		return refuse(reasonForwarding, "finger: forwarding refused (RFC 1288 3.2.1): this server relays no query")
	}
	switch lq := strings.ToLower(q); lq {
	case "":
		return Query{Kind: Today}
	case "random":
		return Query{Kind: Random}
	case "help":
		return Query{Kind: Help}
	default:
		return Query{Kind: Tag, Tag: lq}
	}
}
