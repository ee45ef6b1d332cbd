package smtp

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// FuzzScanHeader holds scanHeader to go-message's textproto.ReadHeader,
// which it replaces on the receiving path: for any message, both refuse it
// or neither does; and when neither does, they count the same Received
// fields, give every field the reply policy and the reply read the same
// values in the same order, and so lead to the same decision and request.
func FuzzScanHeader(f *testing.F) {
	for _, seed := range []string{
		"Subject: today\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n",
		"Subject: today\nFrom: alice@example.org",
		"Subject today\nthis is not a header\n\nbody\n",
		" folded first line\nSubject: today\n\nhi\n",
		"\nno header at all\n",
		"",
		"Subject: a\r\n\tBcc: folded@example.org\r\n\r\n",
		"Message-ID: <a@b\n Bcc: victim@example.org>\n\nhi\n",
		"Subject: x\r\r\nsubject: y\r\nSUBJECT:  z \r\n\r\n",
		"Received: a\r\nreceived: b\r\n RECEIVED: c\r\n\r\n",
		"List-Id: <l.example.org>\r\n\r\n",
		"list-:\r\n\r\n",
		"Auto-Submitted: auto-replied\r\nPrecedence: bulk\r\nX-Auto-Response-Suppress: OOF, All\r\n\r\n",
		": no name\r\nSubject: ok\r\n\r\n",
		"Sub ject: x\r\n\r\n",
		"Subject\t: x\r\n\r\n",
		"Subject: x\r",
		"Subject: x\r\n \r\n\t\r\n\r\n",
		"Subject: \xff\xfe\r\nSubj\x7fect: x\r\n\r\n",
		"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nList-A: 1\r\nList-B: 2\r\nList-C: 3\r\nList-D: 4\r\nList-E: 5\r\nList-F: 6\r\nList-G: 7\r\nList-H: 8\r\nList-I: 9\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		want, werr := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg)))
		got, received, err := scanHeader(msg)
		if (err != nil) != (werr != nil) {
			t.Fatalf("scanHeader(%q): error %v, ReadHeader's %v", msg, err, werr)
		}
		if err != nil {
			return
		}
		if n := len(want.Values("Received")); received != n {
			t.Errorf("scanHeader(%q): %d Received fields, ReadHeader %d", msg, received, n)
		}
		for _, k := range []string{"Subject", "Message-Id", "Auto-Submitted", "Precedence", "X-Auto-Response-Suppress"} {
			if g, w := got.Values(k), want.Values(k); !slices.Equal(g, w) {
				t.Errorf("scanHeader(%q): %s %q, ReadHeader %q", msg, k, g, w)
			}
		}
		if g, w := listFields(got), listFields(want); !slices.Equal(g, w) {
			t.Errorf("scanHeader(%q): List-* fields %q, ReadHeader %q", msg, g, w)
		}
		for _, sender := range []string{"alice@example.org", ""} {
			if g, w := ShouldReply(Inbound{Sender: sender, Header: got}, nil), ShouldReply(Inbound{Sender: sender, Header: want}, nil); g != w {
				t.Errorf("scanHeader(%q): ShouldReply %q, with ReadHeader's header %q", msg, g, w)
			}
		}
		ss := &session{from: "alice@example.org", domain: "quotes.test"}
		if g, w := ss.request(got), ss.request(want); g != w {
			t.Errorf("scanHeader(%q): request %+v, with ReadHeader's header %+v", msg, g, w)
		}
	})
}

// listFields lists the List-* fields of h as "Key: value", in order.
func listFields(h textproto.Header) []string {
	var out []string
	for f := h.Fields(); f.Next(); {
		if strings.HasPrefix(strings.ToLower(f.Key()), "list-") {
			out = append(out, f.Key()+": "+f.Value())
		}
	}
	return out
}

func TestScanHeader_KeepsCopiesNotPartsOfTheMessage(t *testing.T) {
	msg := []byte("Subject: random\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n")
	h, _, err := scanHeader(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		msg[i] = 'x' // the receiving path reuses the buffer
	}
	if got := h.Get("Subject"); got != "random" {
		t.Errorf("Subject after the buffer was reused: %q, want %q", got, "random")
	}
	raw, err := h.Raw("Subject")
	if err != nil || string(raw) != "Subject: random\r\n" {
		t.Errorf("raw Subject after the buffer was reused: %q, %v", raw, err)
	}
}

func BenchmarkScanHeader(b *testing.B) {
	msg := []byte(strings.ReplaceAll(`From: <bench@example.org>
To: <quote@localhost>
Date: Mon, 23 Nov 2026 09:36:00 +0000
Message-Id: <20261123093600.1234@client.test>
Subject: today
Received: from client.test by mx.example.org; Mon, 23 Nov 2026 09:36:00 +0000

La de da de da 1.
`, "\n", "\r\n"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := scanHeader(msg); err != nil {
			b.Fatal(err)
		}
	}
}
