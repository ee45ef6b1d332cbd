package smtp

import (
	"bufio"
	"bytes"
	"context"
	nettextproto "net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// replyFields are the header fields of every reply, each exactly once
// (In-Reply-To and References only when the request had a Message-ID).
var replyFields = []string{"Auto-Submitted", "Content-Type", "Date", "From", "In-Reply-To",
	"Message-Id", "Mime-Version", "References", "Subject", "To"}

// FuzzReplyHeaders runs arbitrary request headers (as a client sends them,
// encoded words and all) through the path a message takes: the header
// parser, the extraction of Subject and Message-ID, and the composer. The
// reply must parse, carry exactly the fields of a reply, each once, and
// nothing from the request may break out of its field: no CR or LF in a
// decoded Subject, no extra header line.
func FuzzReplyHeaders(f *testing.F) {
	for _, seed := range []string{
		"Subject: today\r\nMessage-ID: <a@b>\r\n",
		"Subject: =?utf-8?q?hi=0D=0ABcc:_victim@example.org=0D=0A=0D=0Abody?=\r\n",
		"Subject: =?utf-8?b?aGkNCkJjYzogeEB5?=\r\nMessage-ID: <x\r\n y@z>\r\n",
		"Subject: a\r\n\tBcc: folded@example.org\r\n",
		"Message-ID: <\r\nBcc: x@y>\r\n",
		"Message-ID: <a@b> <c@d>\r\nSubject: search \x00\x1b[31m\r\n",
		"Subject: =?x-unknown?q?abc?=\r\n",
		"Subject: \xff\xfe\xc3\x28 random\r\n",
		"From: =?utf-8?q?Eve=0D=0ABcc:_victim@example.org?= <eve@example.org>\r\n",
	} {
		f.Add(seed, "")
	}
	f.Add("Subject: help\r\n", "random")
	f.Add("Subject: x\r\n", "search\r\nBcc: a@b")
	lib := quotertest.NewLibrary(f)
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return time.Date(2026, 5, 17, 10, 0, 0, 0, time.UTC) }}
	c := &Composer{Quoter: lib, Calendar: cal, LocalPart: "quote"}
	f.Fuzz(func(t *testing.T, raw, command string) {
		h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(raw + "\r\n\r\n")))
		if err != nil {
			return // refused as malformed: no reply at all
		}
		ss := &session{from: "alice@example.org", domain: "quotes.test", command: strings.ToLower(command)}
		req := ss.request(h)
		msg, err := c.Compose(context.Background(), req, cal.Now())
		if err != nil {
			t.Fatalf("Compose(%+v): %v", req, err)
		}
		rh, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg)))
		if err != nil {
			t.Fatalf("the reply's header does not parse: %v\n%s", err, msg)
		}
		counts := map[string]int{}
		for fl := rh.Fields(); fl.Next(); {
			counts[nettextproto.CanonicalMIMEHeaderKey(fl.Key())]++
		}
		for k, n := range counts {
			if !slices.Contains(replyFields, k) || n != 1 {
				t.Fatalf("reply has %d %q field(s): request %q\n%s", n, k, raw, msg)
			}
		}
		mh := mail.Header{Header: message.Header{Header: rh}}
		subject, err := mh.Subject()
		if err != nil {
			t.Fatalf("reply Subject does not decode: %v", err)
		}
		if strings.ContainsAny(subject, "\r\n\x00") || !strings.HasPrefix(subject, "Re: ") {
			t.Fatalf("reply Subject %q: want Re: and one line", subject)
		}
		if raw, _ := rh.Raw("Subject"); bytes.Contains(raw, []byte("=?")) {
			for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
				if len(line) > 76 {
					t.Fatalf("reply Subject line of %d characters holds encoded words (RFC 2047 §2: at most 76): %q", len(line), line)
				}
			}
		}
		if to := rh.Get("To"); to != "<alice@example.org>" {
			t.Fatalf("reply To %q, want the envelope sender", to)
		}
		if irt := rh.Get("In-Reply-To"); irt != "" && strings.ContainsAny(irt, " \t\r\n") {
			t.Fatalf("In-Reply-To %q carries white space", irt)
		}
	})
}
