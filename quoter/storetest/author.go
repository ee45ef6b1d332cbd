package storetest

import (
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

func init() {
	register("Authors/BySlugWithCountsAndNotes", func(t *testing.T, open Opener) {
		lib := sample(t, open)
		a, err := lib.Author(ctx, "william-shakespeare")
		if err != nil {
			t.Fatalf("Author(william-shakespeare): %v", err)
		}
		if a.Name != "William Shakespeare" || a.Count != 3 || a.Bio != "" || a.Link != "" {
			t.Errorf("Author = %+v, want William Shakespeare with 3 quotes and no notes", a)
		}
		notes := quoter.Author{Slug: "william-shakespeare", Bio: "English playwright and poet.", Link: "https://en.wikipedia.org/wiki/William_Shakespeare"}
		if err := lib.SetAuthor(ctx, notes); err != nil {
			t.Fatalf("SetAuthor: %v", err)
		}
		if a, err = lib.Author(ctx, "william-shakespeare"); err != nil || a.Bio != notes.Bio || a.Link != notes.Link || a.Count != 3 {
			t.Errorf("Author after SetAuthor = %+v, %v; want the notes", a, err)
		}
		// Another handle (another process, a replica) sees the change.
		if a, err := lib.Reopen(t).Author(ctx, "william-shakespeare"); err != nil || a.Bio != notes.Bio {
			t.Errorf("Author on another handle = %+v, %v; want the notes", a, err)
		}
		if err := lib.SetAuthor(ctx, quoter.Author{Slug: "william-shakespeare"}); err != nil {
			t.Fatalf("SetAuthor(no notes): %v", err)
		}
		if a, err = lib.Author(ctx, "william-shakespeare"); err != nil || a.Bio != "" || a.Link != "" {
			t.Errorf("Author after removing the notes = %+v, %v; want none", a, err)
		}
		_, err = lib.Author(ctx, "nobody-at-all")
		wantCode(t, err, quoter.ENOTFOUND)
	})

	register("Authors/ListIsPagedAndSorted", func(t *testing.T, open Opener) {
		lib := sample(t, open)
		_, total, err := lib.Authors(ctx, quoter.Page{})
		if err != nil {
			t.Fatal(err)
		}
		first, n, err := lib.AuthorList(ctx, quoter.Page{Limit: 2})
		if err != nil || n != total || len(first) != 2 {
			t.Fatalf("AuthorList(limit 2) = %d authors of %d, %v; want 2 of %d", len(first), n, err, total)
		}
		if first[0].Count < first[1].Count || first[0].Slug != quoter.Slug(first[0].Name) {
			t.Errorf("AuthorList = %+v, want most quoted first, with slugs", first)
		}
		all, _, err := lib.AuthorList(ctx, quoter.Page{Limit: quoter.MaxLimit, Sort: quoter.SortName})
		if err != nil || len(all) != total {
			t.Fatalf("AuthorList(by name) = %d, %v; want %d", len(all), err, total)
		}
		for i := 1; i < len(all); i++ {
			if quoter.Slug(all[i-1].Name) > quoter.Slug(all[i].Name) {
				t.Errorf("by name: %q before %q", all[i-1].Name, all[i].Name)
			}
		}
		_, _, err = lib.AuthorList(ctx, quoter.Page{Sort: "shoe size"})
		wantCode(t, err, quoter.EINVALID)
	})

	register("Authors/PrivateCollectionsAreNotListed", func(t *testing.T, open Opener) {
		lib := open(t, 42, fixed)
		if err := lib.SetCollection(ctx, quoter.Collection{Name: "club", Private: true}); err != nil {
			t.Fatal(err)
		}
		if err := lib.Add(ctx, &quoter.Quote{Text: "A member speaks.", Author: "Club Member", Collection: "club"}); err != nil {
			t.Fatal(err)
		}
		if err := lib.Add(ctx, &quoter.Quote{Text: "Søren says so.", Author: "Søren Kierkegaard"}); err != nil {
			t.Fatal(err)
		}
		_, err := lib.Author(ctx, "club-member")
		wantCode(t, err, quoter.ENOTFOUND)
		as, n, err := lib.AuthorList(ctx, quoter.Page{})
		if err != nil || n != 1 || len(as) != 1 || as[0].Slug != "soren-kierkegaard" || as[0].Count != 1 {
			t.Errorf("AuthorList = %+v (%d), %v; want Søren Kierkegaard alone", as, n, err)
		}
	})

	register("Authors/NotesAreValidated", func(t *testing.T, open Opener) {
		lib := open(t, 42, fixed)
		for _, a := range []quoter.Author{
			{Slug: "Not A Slug", Bio: "x"},
			{Slug: "someone", Link: "javascript:alert(1)"},
			{Slug: "someone", Link: "/relative"},
			{Slug: "someone", Bio: string(make([]byte, quoter.MaxBioLen+1))},
		} {
			wantCode(t, lib.SetAuthor(ctx, a), quoter.EINVALID)
		}
		// Notes may come before the author's first quote.
		if err := lib.SetAuthor(ctx, quoter.Author{Slug: "lao-tzu", Bio: "Legendary."}); err != nil {
			t.Fatalf("SetAuthor before any quote: %v", err)
		}
		if err := lib.Add(ctx, &quoter.Quote{Text: "A journey of a thousand miles begins with a single step.", Author: "Lao Tzu"}); err != nil {
			t.Fatal(err)
		}
		if a, err := lib.Author(ctx, "lao-tzu"); err != nil || a.Bio != "Legendary." || a.Name != "Lao Tzu" {
			t.Errorf("Author(lao-tzu) = %+v, %v; want the notes set before", a, err)
		}
	})
}
