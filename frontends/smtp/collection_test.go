package smtp_test

// Tests of "random @collection" and "today @collection": mail serves public
// collections by name, and answers a private one as if it did not exist.

import (
	"context"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

// withCollections adds a public collection riddles and a private one club
// to the harness's library and returns the quotes of each.
func withCollections(t *testing.T, h *harness) (riddle, secret *quoter.Quote) {
	t.Helper()
	lib := h.lib.(quoter.Library)
	ctx := context.Background()
	riddle = &quoter.Quote{Text: "What has keys but opens no locks?", Author: "A Riddler", Collection: "riddles", Tags: []string{"puzzles"}}
	secret = &quoter.Quote{Text: "What is said in the club stays in the club.", Author: "A Member", Collection: "club"}
	for _, q := range []*quoter.Quote{riddle, secret} {
		if err := lib.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: true}); err != nil {
		t.Fatal(err)
	}
	return riddle, secret
}

func TestSMTP_RandomAndTodayFromAPublicCollection(t *testing.T) {
	h := newHarness(t)
	riddle, _ := withCollections(t, h)
	for subject, want := range map[string]string{
		"random @riddles":          "A random quote from riddles:",
		"Re: RANDOM @Riddles":      "A random quote from riddles:",
		"today @riddles":           "Today's quote from riddles:",
		"today @riddles puzzles":   `Today's quote from riddles tagged "puzzles":`,
		"today @riddles nosuchtag": `No quote of riddles tagged "nosuchtag". Here is today's quote instead:`,
	} {
		r := h.exchange(t, "quote@quotes.test", request(subject))
		if !strings.Contains(r.text, want) {
			t.Errorf("reply to %q lacks %q:\n%s", subject, want, r.text)
		}
		if quote := riddle.Render(); !strings.Contains(want, "instead") && !strings.Contains(r.text, quote) {
			t.Errorf("reply to %q lacks the riddle:\n%s", subject, r.text)
		}
	}
	r := h.exchange(t, "quote@quotes.test", request("help"))
	for _, w := range []string{"today @COLLECTION", "random @COLLECTION"} {
		if !strings.Contains(r.text, w) {
			t.Errorf("help lacks %q:\n%s", w, r.text)
		}
	}
}

// A private collection is not served by mail, and its reply is word for
// word that of a collection that does not exist: mail does not tell
// whether it does.
func TestSMTP_PrivateCollectionIsAnsweredAsUnknown(t *testing.T) {
	h := newHarness(t)
	_, secret := withCollections(t, h)
	for _, cmd := range []string{"random", "today"} {
		private := h.exchange(t, "quote@quotes.test", request(cmd+" @club"))
		unknown := h.exchange(t, "quote@quotes.test", request(cmd+" @nosuch"))
		if strings.Contains(private.text, secret.Text) {
			t.Errorf("%s @club sent a quote of the private collection:\n%s", cmd, private.text)
		}
		wantPrivate := `No public collection is named "club".`
		wantUnknown := `No public collection is named "nosuch".`
		if !strings.Contains(private.text, wantPrivate) || !strings.Contains(unknown.text, wantUnknown) {
			t.Errorf("%s: replies lack the note:\n%s\n---\n%s", cmd, private.text, unknown.text)
		}
		if cmd == "today" && strings.Replace(private.text, "club", "nosuch", 1) != unknown.text {
			t.Errorf("today @club and today @nosuch differ beyond the name:\n%s\n---\n%s", private.text, unknown.text)
		}
	}
	for range 10 {
		if r := h.exchange(t, "quote@quotes.test", request("random")); strings.Contains(r.text, secret.Text) {
			t.Fatalf("random sent a quote of the private collection:\n%s", r.text)
		}
	}
}
