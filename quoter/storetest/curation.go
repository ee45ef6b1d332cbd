package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// The curation contract (quoter.Curator, and what collections do to
// Quoter's methods).

// addIn adds a quote to collection c (DefaultCollection when empty) and
// returns it.
func addIn(tb testing.TB, lib Store, c, text string, tags ...string) *quoter.Quote {
	tb.Helper()
	q := &quoter.Quote{Text: text, Author: "Author of " + text, Collection: c, Tags: tags}
	if err := lib.Add(ctx, q); err != nil {
		tb.Fatalf("Add(%q in %q): %v", text, c, err)
	}
	return q
}

// ids returns the ids of qs, sorted.
func ids(qs []*quoter.Quote) []int64 {
	out := make([]int64, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	slices.Sort(out)
	return out
}

// listIDs lists every quote f lets through (at most MaxLimit).
func listIDs(tb testing.TB, lib Store, f quoter.Filter) ([]int64, error) {
	tb.Helper()
	qs, _, err := lib.List(ctx, f, quoter.Page{Limit: quoter.MaxLimit})
	return ids(qs), err
}

func collection(tb testing.TB, lib Store, name string) quoter.Collection {
	tb.Helper()
	cols, err := lib.Collections(ctx)
	if err != nil {
		tb.Fatalf("Collections: %v", err)
	}
	for _, c := range cols {
		if c.Name == name {
			return c
		}
	}
	tb.Fatalf("Collections() = %+v: no %q", cols, name)
	return quoter.Collection{}
}

func init() {
	register("Collections/AddDefaultsToClassicsAndCreatesPublicCollections", func(t *testing.T, open Opener) {
		lib := open(t, 1, fixed)
		a := addIn(t, lib, "", "Into the default collection.")
		if a.Collection != quoter.DefaultCollection {
			t.Errorf("Add with no collection: Collection = %q, want %q", a.Collection, quoter.DefaultCollection)
		}
		addIn(t, lib, "riddles", "What has keys but no locks?")
		got := collection(t, lib, "riddles")
		if got.Private || got.Quotes != 1 {
			t.Errorf("collection made by Add = %+v, want public with 1 quote", got)
		}
		if c := collection(t, lib, quoter.DefaultCollection); c.Quotes != 1 || c.Private {
			t.Errorf("classics = %+v, want public with 1 quote", c)
		}
		for _, bad := range []string{"Riddles", "-x", "x-", "a b", "é", strings.Repeat("a", quoter.MaxCollectionLen+1)} {
			err := lib.Add(ctx, &quoter.Quote{Text: "Named badly " + bad, Author: "A", Collection: bad})
			wantCode(t, err, quoter.EINVALID)
			wantCode(t, lib.SetCollection(ctx, quoter.Collection{Name: bad}), quoter.EINVALID)
		}
	})

	register("Collections/PrivateIsServedOnlyWhereNamed", func(t *testing.T, open Opener) {
		lib := open(t, 2, fixed)
		pub := addIn(t, lib, "", "A public quote about cats.", "cats")
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Title: "The Club", Private: true}); err != nil {
			t.Fatalf("SetCollection: %v", err)
		}
		priv := addIn(t, lib, "club", "A private quote about cats.", "cats")
		if c := collection(t, lib, "club"); !c.Private || c.Title != "The Club" || c.Quotes != 1 {
			t.Errorf("club = %+v, want private, titled, 1 quote", c)
		}
		// Not named: never drawn, listed, searched, counted or scheduled.
		for range 20 {
			q, err := lib.Random(ctx, quoter.Filter{})
			if err != nil || q.ID != pub.ID {
				t.Fatalf("Random() = %v, %v; want only the public quote", q, err)
			}
			q, err = lib.Random(ctx, quoter.Filter{Tag: "cats"})
			if err != nil || q.ID != pub.ID {
				t.Fatalf("Random(tag) = %v, %v; want only the public quote", q, err)
			}
		}
		if got, err := listIDs(t, lib, quoter.Filter{}); err != nil || !slices.Equal(got, []int64{pub.ID}) {
			t.Errorf("List() = %v, %v; want [%d]", got, err, pub.ID)
		}
		if _, n, err := lib.List(ctx, quoter.Filter{}, quoter.Page{}); err != nil || n != 1 {
			t.Errorf("List() total = %d, %v; want 1", n, err)
		}
		if qs, n, err := lib.Search(ctx, "cats", quoter.Page{}); err != nil || n != 1 || len(qs) != 1 || qs[0].ID != pub.ID {
			t.Errorf("Search(cats) = %v, %d, %v; want the public quote only", qs, n, err)
		}
		if s, err := lib.Stats(ctx); err != nil || s.Quotes != 1 || s.Authors != 1 || s.Tags != 1 {
			t.Errorf("Stats() = %+v, %v; want 1 quote, 1 author, 1 tag", s, err)
		}
		if as, n, err := lib.Authors(ctx, quoter.Page{}); err != nil || n != 1 || len(as) != 1 || as[0].Name != pub.Author {
			t.Errorf("Authors() = %v, %d, %v; want the public quote's author", as, n, err)
		}
		if ts, err := lib.Tags(ctx); err != nil || len(ts) != 1 || ts[0].Count != 1 {
			t.Errorf("Tags() = %v, %v; want cats counted once", ts, err)
		}
		day := quoter.DateOf(fixed())
		for d := range 10 {
			for _, f := range []quoter.Filter{{}, {Tag: "cats"}, {Lang: "en"}} {
				q, err := lib.Today(ctx, day.AddDays(d), f)
				if err != nil || q.ID != pub.ID {
					t.Fatalf("Today(+%d, %+v) = %v, %v; want the public quote", d, f, q, err)
				}
			}
		}
		// Named: served.
		if got, err := listIDs(t, lib, quoter.Filter{Collection: "club"}); err != nil || !slices.Equal(got, []int64{priv.ID}) {
			t.Errorf("List(club) = %v, %v; want [%d]", got, err, priv.ID)
		}
		if got, err := listIDs(t, lib, quoter.Filter{Collection: "club,classics"}); err != nil || !slices.Equal(got, []int64{pub.ID, priv.ID}) {
			t.Errorf("List(club,classics) = %v, %v; want both", got, err)
		}
		if q, err := lib.Random(ctx, quoter.Filter{Collection: "club"}); err != nil || q.ID != priv.ID {
			t.Errorf("Random(club) = %v, %v; want the private quote", q, err)
		}
		if q, err := lib.Today(ctx, day, quoter.Filter{Collection: "club", Tag: "cats"}); err != nil || q.ID != priv.ID {
			t.Errorf("Today(club, cats) = %v, %v; want the private quote", q, err)
		}
		for _, tt := range []struct {
			f    quoter.Filter
			want []int64
		}{
			{quoter.Filter{}, []int64{pub.ID}},
			{quoter.Filter{Collection: "club"}, []int64{priv.ID}},
			{quoter.Filter{Collection: "classics,club"}, []int64{pub.ID, priv.ID}},
			{quoter.Filter{Collection: "club", Tag: "dogs"}, []int64{}},
		} {
			qs, n, err := lib.SearchIn(ctx, "cats", tt.f, quoter.Page{})
			if err != nil || n != len(tt.want) || !slices.Equal(ids(qs), tt.want) {
				t.Errorf("SearchIn(cats, %+v) = %v, %d, %v; want %v", tt.f, ids(qs), n, err, tt.want)
			}
		}
		// Unknown: ENOTFOUND naming it, everywhere a filter goes.
		f := quoter.Filter{Collection: "classics,nosuch"}
		_, err := lib.Random(ctx, f)
		wantCode(t, err, quoter.ENOTFOUND)
		if !strings.Contains(quoter.ErrorMessage(err), "nosuch") {
			t.Errorf("Random(%q): %v, want the unknown collection named", f.Collection, err)
		}
		_, err = lib.Today(ctx, day, f)
		wantCode(t, err, quoter.ENOTFOUND)
		_, _, err = lib.List(ctx, f, quoter.Page{})
		wantCode(t, err, quoter.ENOTFOUND)
		_, _, err = lib.SearchIn(ctx, "cats", f, quoter.Page{})
		wantCode(t, err, quoter.ENOTFOUND)
		_, err = lib.Random(ctx, quoter.Filter{Collection: "Bad Name"})
		wantCode(t, err, quoter.EINVALID)
	})

	register("Collections/TodayOfASetIsItsFirstCollectionsCycle", func(t *testing.T, open Opener) {
		lib := open(t, 3, fixed)
		var a, b []int64
		for i := range 5 {
			a = append(a, addIn(t, lib, "alpha", fmt.Sprintf("Alpha quote %d.", i)).ID)
			b = append(b, addIn(t, lib, "beta", fmt.Sprintf("Beta quote %d.", i)).ID)
		}
		// Days from the frontier on: the days before were scheduled
		// while beta was smaller.
		day := quoter.Frontier(fixed()).AddDays(1)
		seen := map[int64]bool{}
		for d := range 5 {
			q, err := lib.Today(ctx, day.AddDays(d), quoter.Filter{Collection: "beta,alpha"})
			if err != nil {
				t.Fatalf("Today(beta,alpha): %v", err)
			}
			if !slices.Contains(b, q.ID) {
				t.Errorf("Today(+%d, beta,alpha) = #%d, not a beta quote %v", d, q.ID, b)
			}
			alone, err := lib.Today(ctx, day.AddDays(d), quoter.Filter{Collection: "beta"})
			if err != nil || alone.ID != q.ID {
				t.Errorf("Today(+%d, beta) = %v, %v; want the set's #%d", d, alone, err, q.ID)
			}
			seen[q.ID] = true
		}
		if len(seen) != 5 {
			t.Errorf("five days of beta's cycle showed %d quotes, want each of its 5 once", len(seen))
		}
		if q, err := lib.Today(ctx, day, quoter.Filter{Collection: "alpha,beta"}); err != nil || !slices.Contains(a, q.ID) {
			t.Errorf("Today(alpha,beta) = %v, %v; want an alpha quote %v", q, err, a)
		}
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "empty"}); err != nil {
			t.Fatal(err)
		}
		_, err := lib.Today(ctx, day, quoter.Filter{Collection: "empty"})
		wantCode(t, err, quoter.ENOTFOUND)
	})

	register("Collections/PrivacyChangesKeepThePast", func(t *testing.T, open Opener) {
		clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		lib := open(t, 4, func() time.Time { return clock })
		for i := range 6 {
			addIn(t, lib, "", fmt.Sprintf("Public quote %d.", i), "t")
			addIn(t, lib, "club", fmt.Sprintf("Club quote %d.", i), "t")
		}
		today := quoter.DateOf(clock)
		frontier := quoter.Frontier(clock)
		past := map[string]int64{}
		record := func() {
			for d := -3; !frontier.Before(today.AddDays(d)); d++ {
				for _, f := range []quoter.Filter{{}, {Tag: "t"}, {Collection: "club"}, {Collection: "classics"}} {
					q, err := lib.Today(ctx, today.AddDays(d), f)
					if err != nil {
						t.Fatalf("Today(%+d, %+v): %v", d, f, err)
					}
					k := fmt.Sprint(today.AddDays(d), f)
					if id, ok := past[k]; ok && id != q.ID {
						t.Fatalf("Today(%s, %+v) changed from #%d to #%d", today.AddDays(d), f, id, q.ID)
					}
					past[k] = q.ID
				}
			}
		}
		record()
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: true}); err != nil {
			t.Fatal(err)
		}
		record()
		after := frontier.AddDays(1)
		for d := range 12 {
			q, err := lib.Today(ctx, after.AddDays(d), quoter.Filter{})
			if err != nil || q.Collection != quoter.DefaultCollection {
				t.Fatalf("Today(%s) after club turned private = %v, %v; want a public quote", after.AddDays(d), q, err)
			}
		}
		clock = clock.Add(36 * time.Hour)
		record()
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: false}); err != nil {
			t.Fatal(err)
		}
		record()
		if _, err := lib.Today(ctx, quoter.Frontier(clock).AddDays(1), quoter.Filter{}); err != nil {
			t.Fatal(err)
		}
	})

	register("Collections/PinsArePublic", func(t *testing.T, open Opener) {
		lib := open(t, 5, fixed)
		pub := addIn(t, lib, "", "Pinned in public.")
		priv := addIn(t, lib, "club", "Pinned in the club.")
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: true}); err != nil {
			t.Fatal(err)
		}
		day := quoter.Frontier(fixed()).AddDays(3)
		wantCode(t, lib.Pin(ctx, day, priv.ID), quoter.EINVALID)
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club"}); err != nil {
			t.Fatal(err)
		}
		if err := lib.Pin(ctx, day, priv.ID); err != nil {
			t.Fatalf("Pin of a public quote: %v", err)
		}
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: true}); err != nil {
			t.Fatal(err)
		}
		if q, err := lib.Today(ctx, day, quoter.Filter{}); err != nil || q.ID != pub.ID {
			t.Errorf("Today(pinned day) after the pinned quote turned private = %v, %v; want #%d", q, err, pub.ID)
		}
		if ps, err := lib.Pins(ctx, day); err != nil || len(ps) != 0 {
			t.Errorf("Pins = %v, %v; want the private quote's pin dropped", ps, err)
		}
	})

	register("Collections/UpdateMovesAQuote", func(t *testing.T, open Opener) {
		lib := open(t, 6, fixed)
		q := addIn(t, lib, "", "A quote that moves.")
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: true}); err != nil {
			t.Fatal(err)
		}
		club := "club"
		by := quoter.Provenance{By: "ed", Via: quoter.ViaCLI}
		got, err := lib.Update(ctx, q.ID, quoter.Update{Collection: &club, By: by})
		if err != nil || got.Collection != "club" || got.EditedBy != by {
			t.Fatalf("Update(collection) = %+v, %v", got, err)
		}
		_, err = lib.Random(ctx, quoter.Filter{})
		wantCode(t, err, quoter.ENOTFOUND)
		if r, err := lib.Random(ctx, quoter.Filter{Collection: "club"}); err != nil || r.ID != q.ID {
			t.Errorf("Random(club) = %v, %v", r, err)
		}
		bad := "No Such"
		_, err = lib.Update(ctx, q.ID, quoter.Update{Collection: &bad})
		wantCode(t, err, quoter.EINVALID)
	})

	register("Provenance/StoredAndKept", func(t *testing.T, open Opener) {
		lib := open(t, 7, fixed)
		added := quoter.Provenance{By: "alice", Via: quoter.ViaIRC, Channel: "#club", Mask: "alice!a@example.org", Account: "alice",
			Grabbed: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
		q := &quoter.Quote{Text: "Said on IRC.", Author: "bob", Collection: "club", AddedBy: added}
		if err := lib.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
		got, err := lib.Quote(ctx, q.ID)
		if err != nil || got.AddedBy != added || !got.EditedBy.IsZero() {
			t.Fatalf("Quote = %+v, %v; want AddedBy %+v and no EditedBy", got, err, added)
		}
		if pub := got.AddedBy.Public(); pub.Mask != "" || pub.Account != "" || pub.By != "alice" {
			t.Errorf("Public() = %+v", pub)
		}
		text := "Said on IRC, corrected."
		by := quoter.Provenance{By: "carol", Via: quoter.ViaWeb}
		if _, err := lib.Update(ctx, q.ID, quoter.Update{Text: &text, By: by}); err != nil {
			t.Fatal(err)
		}
		got, _ = lib.Quote(ctx, q.ID)
		if got.AddedBy != added || got.EditedBy != by {
			t.Errorf("after Update: AddedBy %+v, EditedBy %+v; want %+v, %+v", got.AddedBy, got.EditedBy, added, by)
		}
		imported := []quoter.Quote{
			{Text: "From a file.", Author: "F", Collection: "literature", AddedBy: quoter.Provenance{Via: quoter.ViaImport, File: "literature", Line: 3}},
		}
		if _, err := lib.Import(ctx, imported, nil); err != nil {
			t.Fatal(err)
		}
		qs, _, err := lib.List(ctx, quoter.Filter{Collection: "literature"}, quoter.Page{})
		if err != nil || len(qs) != 1 || qs[0].AddedBy != imported[0].AddedBy || qs[0].Collection != "literature" {
			t.Errorf("imported = %+v, %v; want its collection and provenance kept", qs, err)
		}
		bad := &quoter.Quote{Text: "Bad provenance.", Author: "A", AddedBy: quoter.Provenance{By: "x\x00y"}}
		wantCode(t, lib.Add(ctx, bad), quoter.EINVALID)
		// A deleted quote of the day keeps its collection and provenance
		// on its days.
		day := quoter.Frontier(fixed())
		if shown, err := lib.Today(ctx, day, quoter.Filter{Collection: "club"}); err != nil || shown.ID != q.ID {
			t.Fatalf("Today(club) = %v, %v; want #%d, the club's only quote", shown, err, q.ID)
		}
		if err := lib.Delete(ctx, q.ID); err != nil {
			t.Fatal(err)
		}
		shown, err := lib.Today(ctx, day, quoter.Filter{Collection: "club"})
		if err != nil || !shown.Removed || shown.Collection != "club" || shown.AddedBy != added || shown.EditedBy != by {
			t.Errorf("Today(club) after the delete = %+v, %v; want the removed quote with its collection and provenance", shown, err)
		}
	})

	register("Submissions/SubmitApproveReject", func(t *testing.T, open Opener) {
		lib := open(t, 8, fixed)
		stored := addIn(t, lib, "", "Already in the library.")
		from := quoter.Provenance{By: "dave", Via: quoter.ViaIRC, Channel: "#club", Mask: "dave!d@host"}
		dup := &quoter.Submission{Quote: quoter.Quote{Text: "  already in THE library. ", Author: "X"}, From: from}
		err := lib.Submit(ctx, dup)
		wantCode(t, err, quoter.ECONFLICT)
		if want := fmt.Sprintf("already quote #%d", stored.ID); !strings.Contains(quoter.ErrorMessage(err), want) {
			t.Errorf("Submit(duplicate): %v, want it to say %q", err, want)
		}
		wantCode(t, lib.Submit(ctx, &quoter.Submission{Quote: quoter.Quote{Text: "No author."}}), quoter.EINVALID)

		s1 := &quoter.Submission{Quote: quoter.Quote{Text: "A new quote.", Author: "Eve", Collection: "club"}, Note: "heard it", From: from}
		if err := lib.Submit(ctx, s1); err != nil {
			t.Fatal(err)
		}
		if s1.ID == 0 || s1.Status != quoter.Pending || !s1.Submitted.Equal(fixed()) {
			t.Errorf("Submit set %+v", s1)
		}
		again := &quoter.Submission{Quote: quoter.Quote{Text: "A NEW quote.", Author: "Eve"}, From: from}
		wantCode(t, lib.Submit(ctx, again), quoter.ECONFLICT)
		// Nothing is served before approval.
		if _, n, _ := lib.List(ctx, quoter.Filter{}, quoter.Page{}); n != 1 {
			t.Errorf("a pending submission is listed: %d quotes", n)
		}
		s2 := &quoter.Submission{Quote: quoter.Quote{Text: "To be rejected.", Author: "Eve"}, From: from}
		if err := lib.Submit(ctx, s2); err != nil {
			t.Fatal(err)
		}
		if s2.ID <= s1.ID {
			t.Errorf("submission ids %d then %d: want a rising sequence", s1.ID, s2.ID)
		}
		pend, n, err := lib.Submissions(ctx, quoter.Pending, quoter.Page{})
		if err != nil || n != 2 || len(pend) != 2 || pend[0].ID != s2.ID || pend[1].Note != "heard it" || pend[1].From != from {
			t.Fatalf("Submissions(pending) = %+v, %d, %v; want both, newest first", pend, n, err)
		}
		_, _, err = lib.Submissions(ctx, "bogus", quoter.Page{})
		wantCode(t, err, quoter.EINVALID)

		curator := quoter.Provenance{By: "carol", Via: quoter.ViaWeb}
		text := "A new quote, edited."
		q, err := lib.Approve(ctx, s1.ID, curator, &quoter.Update{Text: &text})
		if err != nil {
			t.Fatalf("Approve: %v", err)
		}
		if q.Text != text || q.Collection != "club" || q.AddedBy != from || q.EditedBy != curator {
			t.Errorf("approved quote = %+v; want the edit, the club, the submitter and the curator", q)
		}
		if got, err := lib.Quote(ctx, q.ID); err != nil || got.Text != text {
			t.Errorf("Quote(approved) = %v, %v", got, err)
		}
		s, err := lib.Submission(ctx, s1.ID)
		if err != nil || s.Status != quoter.Approved || s.QuoteID != q.ID || s.DecidedBy != curator || !s.Decided.Equal(fixed()) {
			t.Errorf("Submission(approved) = %+v, %v", s, err)
		}
		_, err = lib.Approve(ctx, s1.ID, curator, nil)
		wantCode(t, err, quoter.EINVALID)

		wantCode(t, lib.Reject(ctx, s2.ID, curator, strings.Repeat("x", quoter.MaxNoteLen+1)), quoter.EINVALID)
		if err := lib.Reject(ctx, s2.ID, curator, "not a quote"); err != nil {
			t.Fatal(err)
		}
		s, err = lib.Submission(ctx, s2.ID)
		if err != nil || s.Status != quoter.Rejected || s.Reason != "not a quote" {
			t.Errorf("Submission(rejected) = %+v, %v", s, err)
		}
		wantCode(t, lib.Reject(ctx, s2.ID, curator, ""), quoter.EINVALID)
		_, err = lib.Approve(ctx, s2.ID, curator, nil)
		wantCode(t, err, quoter.EINVALID)
		_, err = lib.Submission(ctx, 999)
		wantCode(t, err, quoter.ENOTFOUND)
		_, err = lib.Approve(ctx, 999, curator, nil)
		wantCode(t, err, quoter.ENOTFOUND)
		if _, n, err := lib.Submissions(ctx, "", quoter.Page{}); err != nil || n != 2 {
			t.Errorf("Submissions(all) total = %d, %v; want 2", n, err)
		}
	})

	register("Submissions/ApprovedDuplicateIsRefused", func(t *testing.T, open Opener) {
		lib := open(t, 9, fixed)
		s := &quoter.Submission{Quote: quoter.Quote{Text: "Submitted first.", Author: "A"}}
		if err := lib.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
		stored := addIn(t, lib, "", "Submitted first.")
		_, err := lib.Approve(ctx, s.ID, quoter.Provenance{By: "c"}, nil)
		wantCode(t, err, quoter.ECONFLICT)
		if want := fmt.Sprintf("already quote #%d", stored.ID); !strings.Contains(quoter.ErrorMessage(err), want) {
			t.Errorf("Approve(duplicate): %v, want %q", err, want)
		}
		if got, _ := lib.Submission(ctx, s.ID); got.Status != quoter.Pending {
			t.Errorf("a refused approval left the submission %s", got.Status)
		}
	})

	register("Submissions/Correction", func(t *testing.T, open Opener) {
		lib := open(t, 10, fixed)
		q := addIn(t, lib, "", "Misattributed words.")
		_, err := lib.Quote(ctx, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, lib.Submit(ctx, &quoter.Submission{Corrects: 999, Quote: quoter.Quote{Author: "X"}}), quoter.ENOTFOUND)
		wantCode(t, lib.Submit(ctx, &quoter.Submission{Corrects: q.ID, Quote: quoter.Quote{Author: ""}}), quoter.EINVALID)
		s := &quoter.Submission{Corrects: q.ID, Quote: quoter.Quote{Author: "The Real Author", Source: "The Book", Year: 1901}, Note: "see p. 12"}
		if err := lib.Submit(ctx, s); err != nil {
			t.Fatalf("Submit(correction): %v", err)
		}
		if got, _ := lib.Quote(ctx, q.ID); got.Author != q.Author {
			t.Errorf("a pending correction changed the quote: %+v", got)
		}
		curator := quoter.Provenance{By: "carol", Via: quoter.ViaWeb}
		got, err := lib.Approve(ctx, s.ID, curator, nil)
		if err != nil {
			t.Fatalf("Approve(correction): %v", err)
		}
		if got.ID != q.ID || got.Text != q.Text || got.Author != "The Real Author" || got.Source != "The Book" || got.Year != 1901 || got.EditedBy != curator {
			t.Errorf("corrected quote = %+v", got)
		}
		if sub, _ := lib.Submission(ctx, s.ID); sub.QuoteID != q.ID || sub.Corrects != q.ID {
			t.Errorf("approved correction = %+v", sub)
		}
	})

	register("Curators/Passwords", func(t *testing.T, open Opener) {
		lib := open(t, 11, fixed)
		_, err := lib.PasswordHash(ctx, "admin")
		wantCode(t, err, quoter.ENOTFOUND)
		const h1, h2 = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", "$argon2id$v=19$m=65536,t=3,p=2$c2FsdDI$aGFzaDI"
		for _, h := range []string{h1, h2} {
			if err := lib.SetPassword(ctx, "admin", h); err != nil {
				t.Fatal(err)
			}
			if got, err := lib.PasswordHash(ctx, "admin"); err != nil || got != h {
				t.Errorf("PasswordHash = %q, %v; want %q", got, err, h)
			}
		}
		wantCode(t, lib.SetPassword(ctx, "admin", "plain text"), quoter.EINVALID)
		wantCode(t, lib.SetPassword(ctx, "", h1), quoter.EINVALID)
		wantCode(t, lib.SetPassword(ctx, "two words", h1), quoter.EINVALID)
		if err := lib.SetPassword(ctx, "admin", ""); err != nil {
			t.Fatal(err)
		}
		_, err = lib.PasswordHash(ctx, "admin")
		wantCode(t, err, quoter.ENOTFOUND)
	})
}
