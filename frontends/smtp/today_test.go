package smtp_test

// Tests of the today command with a tag, and of a quote of the day removed
// or purged since its day.

import (
	"context"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

func TestSMTP_TodayWithATagGivesThatTagsQuoteOfTheDay(t *testing.T) {
	h := newHarness(t)
	poetry, err := h.lib.Today(context.Background(), h.cal.Today(), quoter.Filter{Tag: "poetry"})
	if err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{"today poetry", "Re: TODAY Poetry"} {
		r := h.exchange(t, "quote@quotes.test", request(subject))
		for _, w := range []string{`Today's quote tagged "poetry":`, poetry.Render()} {
			if !strings.Contains(r.text, w) {
				t.Errorf("reply to %q lacks %q:\n%s", subject, w, r.text)
			}
		}
	}
	if r := h.exchange(t, "quote@quotes.test", request("help")); !strings.Contains(r.text, "today TAG") {
		t.Errorf("help lacks the today TAG command:\n%s", r.text)
	}
}

// An unknown tag is answered as a search that finds nothing: today's
// quote, with a note naming the tag.
func TestSMTP_TodayWithAnUnknownTagGivesTodaysQuoteWithANote(t *testing.T) {
	h := newHarness(t)
	r := h.exchange(t, "quote@quotes.test", request("today nosuchtag"))
	for _, w := range []string{`No quote is tagged "nosuchtag". Here is today's quote instead:`, h.today(t).Render()} {
		if !strings.Contains(r.text, w) {
			t.Errorf("reply lacks %q:\n%s", w, r.text)
		}
	}
}

// Today's quote deleted during the day is still today's (the day has
// begun), with a note; the reply to "today" is the web's quote of the day.
func TestSMTP_TodaysQuoteRemovedSinceIsStillTodaysWithANote(t *testing.T) {
	h := newHarness(t)
	q := h.today(t)
	if err := h.lib.Delete(context.Background(), q.ID); err != nil {
		t.Fatal(err)
	}
	r := h.exchange(t, "quote@quotes.test", request("today"))
	for _, w := range []string{q.Render(), "This quote has since been removed from the library."} {
		if !strings.Contains(r.text, w) || !strings.Contains(r.html, "removed from the library") {
			t.Errorf("reply lacks %q:\n%s", w, r.text)
		}
	}
}

// Today's quote purged leaves the day without one: the sender is told so
// and gets a random quote, not a temporary failure that would last the day.
func TestSMTP_TodaysQuotePurgedGivesARandomQuoteWithANote(t *testing.T) {
	h := newHarness(t)
	q := h.today(t)
	if err := h.lib.Purge(context.Background(), q.ID); err != nil {
		t.Fatal(err)
	}
	r := h.exchange(t, "quote@quotes.test", request(""))
	if !strings.Contains(r.text, "Today's quote was removed from the library for good. Here is a random quote instead:\n\n") ||
		!strings.Contains(r.text, "    -- ") || strings.Contains(r.text, q.Text) {
		t.Errorf("reply on a purged day:\n%s\nwant the note and another quote than %d", r.text, q.ID)
	}
}
