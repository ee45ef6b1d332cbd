package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"html"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/quotesd/quotesd/quoter"
)

// MaxSubjectLen caps, in bytes, the part of the original subject echoed
// after "Re: ", so a sender cannot make the reply carry a huge header.
const MaxSubjectLen = 200

// maxSearchResults is how many quotes a "search" reply lists.
const maxSearchResults = 5

// DisplayName is the name in the From header of every reply.
const DisplayName = "Quote of the Day"

// Commands a request may carry, in its subaddress (quote+random@) or as the
// first word of its subject.
const (
	CmdToday   = "today"
	CmdRandom  = "random"
	CmdSearch  = "search"
	CmdHelp    = "help"
	CmdUnknown = "unknown"
)

// Request is one message that asked for a quote, reduced to what the reply
// needs.
type Request struct {
	Sender    string // envelope sender: the reply goes there (RFC 3834 §4)
	Domain    string // our domain the message was addressed to
	Command   string // subaddress of the recipient, "" for none
	Subject   string // decoded subject of the message
	MessageID string // Message-ID of the message without <>, "" if none or malformed
}

// DKIM configures signing of replies.
type DKIM struct {
	Signer   crypto.Signer // an RSA or Ed25519 private key
	Selector string
	// Domain is the signing domain (d=); "" means the domain of the reply's
	// From address, which is what DMARC alignment wants.
	Domain string
}

// Composer writes replies: it turns a Request into a complete RFC 5322
// message, asking the library for the quote.
type Composer struct {
	mu     sync.Mutex
	bodies map[uint64]body   // see cachedBody
	froms  map[string]string // From field by domain; see from

	Quoter quoter.Quoter
	// Collections lists the library's collections
	// (quoter.Curator.Collections): "random @name" and "today @name"
	// serve a public one by name. Mail serves public collections only: a
	// private one is answered as if there were none of that name, so a
	// reply never tells whether it exists. nil: no collection is served
	// by name.
	Collections func(ctx context.Context) ([]quoter.Collection, error)

	Calendar  *quoter.Calendar
	LocalPart string // our local part, for the From address and the help text
	DKIM      *DKIM  // nil: replies are not signed
}

// Command parses what a request asks for from its subaddress and subject:
// the command and its argument (the words of a search; for today, the tag
// whose own quote of the day is asked for, lower-cased: "today poetry"; for
// today and random, a collection written "@name" first: "random @riddles",
// "today @riddles", "today @riddles poetry").
func Command(subaddress, subject string) (cmd, arg string) {
	subject = stripReplyPrefixes(subject)
	words := strings.Fields(subject)
	first := ""
	if len(words) > 0 {
		first = strings.ToLower(words[0])
	}
	if subaddress != "" {
		switch subaddress {
		case CmdToday, CmdRandom, CmdHelp:
			return subaddress, ""
		case CmdSearch:
			if first == CmdSearch {
				words = words[1:]
			}
			return CmdSearch, strings.Join(words, " ")
		}
		return CmdUnknown, subaddress
	}
	switch first {
	case "":
		return CmdToday, ""
	case CmdToday:
		switch {
		case len(words) > 2 && strings.HasPrefix(words[1], "@"):
			return CmdToday, strings.ToLower(words[1] + " " + words[2])
		case len(words) > 1:
			return CmdToday, strings.ToLower(words[1])
		}
		return CmdToday, ""
	case CmdRandom:
		if len(words) > 1 && strings.HasPrefix(words[1], "@") {
			return CmdRandom, strings.ToLower(words[1])
		}
		return CmdRandom, ""
	case CmdHelp:
		return first, ""
	case CmdSearch:
		return CmdSearch, strings.Join(words[1:], " ")
	}
	return CmdUnknown, words[0]
}

// stripReplyPrefixes removes leading "Re:", "Fwd:" and the like, so that
// "Re: Re: random" is still the random command and replies do not pile up
// prefixes.
func stripReplyPrefixes(s string) string {
	for {
		s = strings.TrimSpace(s)
		i := strings.IndexByte(s, ':')
		if i < 0 || i > 4 {
			return s
		}
		switch strings.ToLower(s[:i]) {
		case "re", "fw", "fwd", "aw", "sv", "tr":
			s = s[i+1:]
		default:
			return s
		}
	}
}

// SanitizeSubject makes the original subject safe to echo in a header: no
// control characters (so no CR or LF to inject a header with), white space
// collapsed, reply prefixes removed, and at most MaxSubjectLen bytes, cut
// on a character boundary.
func SanitizeSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = stripReplyPrefixes(s)
	if len(s) > MaxSubjectLen {
		cut := MaxSubjectLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut]) + "…"
	}
	return s
}

// maxEncodedWord is the length of the longest encoded word writeSubject
// writes: after "Subject: " on the first line, or one space on the next
// ones, a line stays within the 76 characters RFC 2047 §2 allows a line
// that holds encoded words.
const maxEncodedWord = 76 - len("Subject: ")

// writeSubject writes the Subject field with value s (valid UTF-8, no
// control characters: see SanitizeSubject). Printable ASCII is written as
// it is, folded at spaces. Other text is written as RFC 2047 encoded words
// ("Q", UTF-8), one per line, each cut on a character boundary; so is text
// that only looks like an encoded word ("=?utf-8?q?a=0D=0Ab?=", or one in a
// charset that could not be decoded): written raw, a mail reader would
// decode it, and the reply would show something else than was asked,
// control characters included.
func writeSubject(buf *bytes.Buffer, s string) {
	if !needsEncoding(s) {
		writeField(buf, "Subject", s)
		return
	}
	const open, end = "=?utf-8?q?", "?="
	buf.WriteString("Subject: ")
	for i := 0; i < len(s); {
		if i > 0 {
			buf.WriteString("\r\n ")
		}
		buf.WriteString(open)
		n := len(open) + len(end)
		for i < len(s) {
			_, size := utf8.DecodeRuneInString(s[i:])
			if w := qLen(s[i : i+size]); n+w <= maxEncodedWord {
				n += w
			} else {
				break
			}
			writeQ(buf, s[i:i+size])
			i += size
		}
		buf.WriteString(end)
	}
	buf.WriteString("\r\n")
}

// needsEncoding reports whether s must be written as encoded words: it
// holds a byte outside printable ASCII, or "=?", the start of an encoded
// word.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// qLiteral reports whether c stands for itself in the "Q" encoding of an
// encoded word in a Subject (RFC 2047 §4.2, §5 (1)).
func qLiteral(c byte) bool { return c > ' ' && c <= '~' && c != '=' && c != '?' && c != '_' }

// qLen is the length of s in the "Q" encoding.
func qLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if qLiteral(s[i]) || s[i] == ' ' {
			n++
		} else {
			n += 3
		}
	}
	return n
}

// writeQ writes s in the "Q" encoding.
func writeQ(buf *bytes.Buffer, s string) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case qLiteral(c):
			buf.WriteByte(c)
		case c == ' ':
			buf.WriteByte('_')
		default:
			buf.WriteByte('=')
			buf.WriteByte(hexDigits[c>>4])
			buf.WriteByte(hexDigits[c&15])
		}
	}
}

// reply is the content of a reply before it is formatted.
type reply struct {
	shared bool   // the same for every request to a domain (no echo of the request)
	intro  string // a line above the quotes, "" for none
	quotes []*quoter.Quote
	note   string // a line below the quotes, "" for none
}

// Compose writes the reply to r. now is the Date of the reply.
func (c *Composer) Compose(ctx context.Context, r Request, now time.Time) ([]byte, error) {
	head, shared, err := c.compose(ctx, new(bytes.Buffer), r, now)
	return append(head, shared...), err
}

// compose is Compose in two parts: the reply's own head, written into buf
// (which the receiving path takes from a pool and reuses once the queue
// has stored the reply), and the rest, which many replies share and which
// must not be modified. shared is nil when head is the whole reply.
func (c *Composer) compose(ctx context.Context, buf *bytes.Buffer, r Request, now time.Time) (head, shared []byte, err error) {
	if !replyable(r.Sender) {
		// ShouldReply refuses such senders before a reply is composed.
		return nil, nil, fmt.Errorf("composing reply: cannot write to %q", r.Sender)
	}
	content, err := c.content(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.cachedBody(content, r.Domain)
	if err != nil {
		return nil, nil, err
	}
	id, err := messageID(r.Domain)
	if err != nil {
		return nil, nil, err
	}
	subject := SanitizeSubject(r.Subject)
	if subject == "" {
		subject = "(no subject)"
	}

	// The header, field by field, in the order go-message's writer used
	// (the reverse of how the fields were set): written directly, it costs
	// a fraction of building a go-message Header first. Fields longer than
	// a line are folded by go-message, as before.
	buf.Grow(1024)
	buf.Write(b.contentType)
	buf.WriteString("Mime-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n")
	if r.MessageID != "" && safeMsgID(r.MessageID) {
		writeField(buf, "References", "<"+r.MessageID+">")
		writeField(buf, "In-Reply-To", "<"+r.MessageID+">")
	}
	writeField(buf, "Message-Id", "<"+id+">")
	buf.WriteString("Date: ")
	buf.Write(now.AppendFormat(buf.AvailableBuffer(), time.RFC1123Z))
	buf.WriteString("\r\n")
	writeSubject(buf, "Re: "+subject)
	// A valid address is a dot-atom (validAddress): no quoting needed.
	writeField(buf, "To", "<"+r.Sender+">")
	writeField(buf, "From", c.from(r.Domain))
	buf.WriteString("\r\n")
	if c.DKIM == nil {
		return buf.Bytes(), b.data, nil
	}
	// The signature covers the body: a signed reply is one piece.
	buf.Write(b.data)
	signed, err := c.sign(buf.Bytes(), r.Domain)
	return signed, nil, err
}

// body is the MIME body of a reply, ready to follow its header, and the
// Content-Type field (with the multipart boundary) that goes in that
// header, formatted.
type body struct {
	contentType []byte
	data        []byte
}

// writeField writes the header field k: v to buf. A field that fits in a
// line is written as it is; a longer one is folded by go-message's writer.
// v must hold no CR or LF.
func writeField(buf *bytes.Buffer, k, v string) {
	if len(k)+2+len(v) <= 76 {
		buf.WriteString(k)
		buf.WriteString(": ")
		buf.WriteString(v)
		buf.WriteString("\r\n")
		return
	}
	buf.Write(formatField(k, v))
}

// formatField formats the header field k: v, folded as go-message folds it.
func formatField(k, v string) []byte {
	var h textproto.Header
	h.Set(k, v)
	var b bytes.Buffer
	_ = textproto.WriteHeader(&b, h)                   // writes to memory: no error
	return bytes.TrimSuffix(b.Bytes(), []byte("\r\n")) // the end of the header
}

// safeMsgID reports whether a message identifier (without its angle
// brackets) can be echoed in In-Reply-To and References as it is: printable
// ASCII, no white space, no angle brackets.
func safeMsgID(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// from returns the value of the From field of replies sent from domain.
func (c *Composer) from(domain string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.froms[domain]; ok {
		return f
	}
	f := (&mail.Address{Name: DisplayName, Address: c.LocalPart + "@" + domain}).String()
	if c.froms == nil || len(c.froms) >= maxCachedBodies {
		c.froms = make(map[string]string)
	}
	c.froms[domain] = f
	return f
}

// bodySeed seeds the keys of the body cache.
var bodySeed = maphash.MakeSeed()

// maxCachedBodies bounds the body cache; it is emptied when full.
const maxCachedBodies = 256

// cachedBody returns the body for content. Bodies that do not depend on
// the request (today's quote, help) are the same for every request of a
// day to a domain, so they are composed once and reused: composing MIME is
// most of the cost of a reply.
func (c *Composer) cachedBody(content reply, domain string) (body, error) {
	if !content.shared {
		return c.body(content, domain)
	}
	// The key covers everything the body shows, field by field (no
	// string is built for it); the seed is one per process.
	var h maphash.Hash
	h.SetSeed(bodySeed)
	for _, s := range []string{domain, content.intro, content.note} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	for _, q := range content.quotes {
		for _, s := range []string{q.Text, q.Author, q.Source} {
			h.WriteString(s)
			h.WriteByte(0)
		}
		maphash.WriteComparable(&h, q.Year)
	}
	key := h.Sum64()
	c.mu.Lock()
	b, ok := c.bodies[key]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := c.body(content, domain)
	if err != nil {
		return body{}, err
	}
	c.mu.Lock()
	if c.bodies == nil || len(c.bodies) >= maxCachedBodies {
		c.bodies = make(map[uint64]body)
	}
	c.bodies[key] = b
	c.mu.Unlock()
	return b, nil
}

// body composes the multipart/alternative body of a reply: text/plain and
// an HTML rendering, both UTF-8 in quoted-printable.
func (c *Composer) body(content reply, domain string) (body, error) {
	return mimeBody(content.text(c.help(domain)), content.html(c.help(domain)))
}

// mimeBody composes a multipart/alternative body of text and its HTML
// rendering, both UTF-8 in quoted-printable.
func mimeBody(text, htmlText string) (body, error) {
	var buf bytes.Buffer
	alt, err := mail.CreateInlineWriter(&buf, mail.Header{})
	if err != nil {
		return body{}, fmt.Errorf("composing reply: %w", err)
	}
	for _, part := range []struct{ typ, body string }{
		{"text/plain", text},
		{"text/html", htmlText},
	} {
		var ph mail.InlineHeader
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, err := alt.CreatePart(ph)
		if err != nil {
			return body{}, fmt.Errorf("composing reply: %w", err)
		}
		if _, err := pw.Write([]byte(part.body)); err != nil {
			return body{}, fmt.Errorf("composing reply: %w", err)
		}
		if err := pw.Close(); err != nil {
			return body{}, fmt.Errorf("composing reply: %w", err)
		}
	}
	if err := alt.Close(); err != nil {
		return body{}, fmt.Errorf("composing reply: %w", err)
	}
	// Split what go-message wrote into its header (one Content-Type
	// field) and the body proper.
	br := bufio.NewReader(&buf)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return body{}, fmt.Errorf("composing reply: %w", err)
	}
	data, _ := io.ReadAll(br)
	return body{contentType: formatField("Content-Type", h.Get("Content-Type")), data: data}, nil
}

// signedHeaders are the fields a DKIM signature covers (RFC 6376 §5.4.1).
var signedHeaders = []string{"From", "To", "Subject", "Date", "Message-Id", "In-Reply-To",
	"References", "Auto-Submitted", "Mime-Version", "Content-Type"}

func (c *Composer) sign(msg []byte, domain string) ([]byte, error) {
	if c.DKIM.Domain != "" {
		domain = c.DKIM.Domain
	}
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:                 domain,
		Selector:               c.DKIM.Selector,
		Signer:                 c.DKIM.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("signing reply with DKIM (selector %q, domain %q): %w", c.DKIM.Selector, domain, err)
	}
	return out.Bytes(), nil
}

// messageID returns a fresh, unguessable Message-ID at domain.
func messageID(domain string) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a Message-ID: %w", err)
	}
	return "qotd." + hex.EncodeToString(b[:]) + "@" + domain, nil
}

// content asks the library for what the request wants.
func (c *Composer) content(ctx context.Context, r Request) (reply, error) {
	cmd, arg := Command(r.Command, r.Subject)
	switch cmd {
	case CmdRandom:
		intro, f := "A random quote:", quoter.Filter{}
		if arg != "" {
			name, ok, err := c.collection(ctx, arg)
			if err != nil {
				return reply{}, err
			}
			if ok {
				intro, f.Collection = fmt.Sprintf("A random quote from %s:", name), name
			} else {
				intro = fmt.Sprintf("No public collection is named %q. Here is a random quote instead:", SanitizeSubject(strings.TrimPrefix(arg, "@")))
			}
		}
		q, err := c.Quoter.Random(ctx, f)
		if err != nil {
			return reply{}, err
		}
		return reply{intro: intro, quotes: []*quoter.Quote{q}}, nil
	case CmdHelp:
		return reply{intro: "Here is what I can do.", shared: true}, nil
	case CmdSearch:
		if len(arg) > 200 {
			cut := 200
			for cut > 0 && !utf8.RuneStart(arg[cut]) {
				cut--
			}
			arg = arg[:cut] // on a character boundary: it is echoed
		}
		qs, total, err := c.Quoter.Search(ctx, arg, quoter.Page{Limit: maxSearchResults})
		switch {
		case quoter.ErrorCode(err) == quoter.EINVALID:
			return reply{intro: "I could not search for that: " + quoter.ErrorMessage(err) + "."}, nil
		case err != nil:
			return reply{}, err
		case total == 0:
			// Nothing found is still worth a quote: today's, with a note.
			intro := fmt.Sprintf("No quote matches %q.", arg)
			q, err := c.Quoter.Today(ctx, c.Calendar.Today(), quoter.Filter{})
			if err != nil {
				return reply{intro: intro}, nil
			}
			return reply{intro: intro + " Here is today's quote instead:", quotes: []*quoter.Quote{q}}, nil
		}
		intro := fmt.Sprintf("%d quotes match %q", total, arg)
		if total == 1 {
			intro = fmt.Sprintf("1 quote matches %q", arg)
		}
		if total > len(qs) {
			intro += fmt.Sprintf("; here are the first %d", len(qs))
		}
		return reply{intro: intro + ":", quotes: qs}, nil
	}
	return c.today(ctx, cmd, arg)
}

// today answers the today command (arg: a tag, or "") and requests it did
// not understand. Today's quote is asked with the zero filter, so it is the
// web's quote of the day; a tag's is its own daily cycle's, and an unknown
// tag gets today's quote with a note, as a search that finds nothing.
func (c *Composer) today(ctx context.Context, cmd, arg string) (reply, error) {
	day := c.Calendar.Today()
	intro := ""
	if cmd == CmdToday && strings.HasPrefix(arg, "@") {
		word, tag, _ := strings.Cut(arg, " ")
		name, ok, err := c.collection(ctx, word)
		if err != nil {
			return reply{}, err
		}
		if ok {
			q, err := c.Quoter.Today(ctx, day, quoter.Filter{Collection: name, Tag: tag})
			what := name
			if tag != "" {
				what = fmt.Sprintf("%s tagged %q", name, tag)
			}
			switch quoter.ErrorCode(err) {
			case "":
				return withRemoved(reply{intro: fmt.Sprintf("Today's quote from %s:", what), quotes: []*quoter.Quote{q}, shared: true}), nil
			case quoter.ENOTFOUND:
				intro = fmt.Sprintf("No quote of %s. Here is today's quote instead:", SanitizeSubject(what))
			case quoter.EGONE:
				intro = fmt.Sprintf("Today's quote from %s was removed from the library for good. Here is today's quote instead:", SanitizeSubject(what))
			default:
				return reply{}, err
			}
		} else {
			intro = fmt.Sprintf("No public collection is named %q. Here is today's quote instead:", SanitizeSubject(strings.TrimPrefix(word, "@")))
		}
	} else if cmd == CmdToday && arg != "" {
		q, err := c.Quoter.Today(ctx, day, quoter.Filter{Tag: arg})
		switch quoter.ErrorCode(err) {
		case "":
			// The tag exists: the reply is the same for everyone.
			return withRemoved(reply{intro: fmt.Sprintf("Today's quote tagged %q:", arg), quotes: []*quoter.Quote{q}, shared: true}), nil
		case quoter.ENOTFOUND:
			intro = fmt.Sprintf("No quote is tagged %q. Here is today's quote instead:", SanitizeSubject(arg))
		case quoter.EGONE:
			intro = fmt.Sprintf("Today's quote tagged %q was removed from the library for good. Here is today's quote instead:", SanitizeSubject(arg))
		default:
			return reply{}, err
		}
	}
	q, err := c.Quoter.Today(ctx, day, quoter.Filter{})
	if quoter.ErrorCode(err) == quoter.EGONE {
		// Purged for good: today has no quote, which is no reason to
		// leave the sender without one (nor to fail the delivery).
		if q, err = c.Quoter.Random(ctx, quoter.Filter{}); err != nil {
			return reply{}, err
		}
		return reply{intro: "Today's quote was removed from the library for good. Here is a random quote instead:", quotes: []*quoter.Quote{q}}, nil
	} else if err != nil {
		return reply{}, err
	}
	out := reply{intro: intro, quotes: []*quoter.Quote{q}, shared: cmd == CmdToday && intro == ""}
	if cmd == CmdUnknown {
		out.intro = "Today's quote (I did not understand the command, see below):"
		out.note = fmt.Sprintf("Unknown command %q.", SanitizeSubject(arg))
	}
	return withRemoved(out), nil
}

// collection resolves "@name" to a public collection of the library: ok is
// false when there is none of that name, or it is private (mail serves
// public collections only, and says the same of both).
func (c *Composer) collection(ctx context.Context, word string) (name string, ok bool, err error) {
	name = strings.TrimPrefix(word, "@")
	if c.Collections == nil || quoter.ValidCollection(name) != nil {
		return name, false, nil
	}
	cols, err := c.Collections(ctx)
	if err != nil {
		return "", false, err
	}
	for _, col := range cols {
		if col.Name == name {
			return name, !col.Private, nil
		}
	}
	return name, false, nil
}

// withRemoved adds a note to a reply whose quote of the day was deleted
// from the library since (quoter.Quote.Removed): the day keeps its quote,
// and the reader learns it is no longer in the library.
func withRemoved(r reply) reply {
	if len(r.quotes) == 1 && r.quotes[0].Removed {
		r.note = strings.TrimSpace("This quote has since been removed from the library. " + r.note)
	}
	return r
}

// help is the usage text at the end of every reply.
func (c *Composer) help(domain string) []string {
	at := "@" + domain
	return []string{
		"Mail " + c.LocalPart + at + " with one of these subjects:",
		"  (empty) or today   the quote of the day",
		"  today TAG          the quote of the day tagged TAG",
		"  today @COLLECTION  the quote of the day of a collection",
		"  random             a random quote",
		"  random @COLLECTION a random quote from a collection",
		"  search WORDS       quotes containing WORDS",
		"  help               this text",
		"or write to " + c.LocalPart + "+random" + at + ", " + c.LocalPart + "+help" + at + " and so on.",
	}
}

func (r reply) text(help []string) string {
	var b strings.Builder
	if r.intro != "" {
		b.WriteString(r.intro + "\n\n")
	}
	for _, q := range r.quotes {
		b.WriteString(q.Render() + "\n\n")
	}
	if r.note != "" {
		b.WriteString(r.note + "\n\n")
	}
	b.WriteString("-- \n")
	b.WriteString(strings.Join(help, "\n") + "\n")
	return b.String()
}

func (r reply) html(help []string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n")
	if r.intro != "" {
		b.WriteString("<p>" + html.EscapeString(r.intro) + "</p>\n")
	}
	for _, q := range r.quotes {
		b.WriteString("<blockquote style=\"white-space: pre-wrap\">" + html.EscapeString(q.Text) + "</blockquote>\n")
		b.WriteString("<p>&mdash; " + html.EscapeString(q.Attribution()) + "</p>\n")
	}
	if r.note != "" {
		b.WriteString("<p>" + html.EscapeString(r.note) + "</p>\n")
	}
	b.WriteString("<hr>\n<pre>" + html.EscapeString(strings.Join(help, "\n")) + "</pre>\n</body></html>\n")
	return b.String()
}
