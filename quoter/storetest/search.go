package storetest

import (
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

func init() { register("DB_Search", testDB_Search) }

func testDB_Search(t *testing.T, open Opener) {
	db := sample(t, open)
	authorsOf := func(qs []*quoter.Quote) []string {
		var s []string
		for _, q := range qs {
			s = append(s, q.Author)
		}
		return s
	}
	t.Run("OK_WordsAreAnded", func(t *testing.T) {
		qs, total, err := db.Search(ctx, "soul wit", quoter.Page{})
		if err != nil || total != 1 || qs[0].Text != "Brevity is the soul of wit." {
			t.Errorf("Search(soul wit) = %v (total %d), %v", authorsOf(qs), total, err)
		}
	})
	t.Run("OK_AuthorMatchRanksFirst", func(t *testing.T) {
		// "Dickens" appears only as an author; "Alice" in a text: both
		// are found, and an author hit ranks above the same word in a text.
		qs, total, err := db.Search(ctx, "wilde", quoter.Page{})
		if err != nil || total != 2 || qs[0].Author != "Oscar Wilde" {
			t.Errorf("Search(wilde) = %v (total %d), %v", authorsOf(qs), total, err)
		}
		qs, _, _ = db.Search(ctx, "shakespeare", quoter.Page{Limit: 1})
		if len(qs) != 1 || qs[0].Author != "William Shakespeare" {
			t.Errorf("Search(shakespeare) = %v", authorsOf(qs))
		}
	})
	t.Run("OK_RarerWordRanksHigher", func(t *testing.T) {
		// "stars" occurs once, "the" everywhere: a quote with "stars" wins.
		qs, _, err := db.Search(ctx, "the stars", quoter.Page{})
		if err != nil || len(qs) == 0 || qs[0].Author != "Oscar Wilde" {
			t.Errorf("Search(the stars) = %v, %v", authorsOf(qs), err)
		}
	})
	t.Run("OK_Prefix", func(t *testing.T) {
		qs, total, err := db.Search(ctx, "curious*", quoter.Page{})
		if err != nil || total != 1 || qs[0].Author != "Lewis Carroll" {
			t.Errorf("Search(curious*) = %v (total %d), %v", authorsOf(qs), total, err)
		}
		if _, total, _ := db.Search(ctx, "curious", quoter.Page{}); total != 0 {
			t.Errorf("Search(curious) without * = %d results, want whole words only", total)
		}
	})
	t.Run("OK_AccentsAndCaseIgnored", func(t *testing.T) {
		for _, q := range []string{"METHODE", "méthode", "Böse", "bose", "ne libre"} {
			if _, total, err := db.Search(ctx, q, quoter.Page{}); err != nil || total != 1 {
				t.Errorf("Search(%q) = total %d, %v; want 1", q, total, err)
			}
		}
	})
	t.Run("OK_Paged", func(t *testing.T) {
		all, total, _ := db.Search(ctx, "the", quoter.Page{Limit: 100})
		if total < 10 || len(all) != total {
			t.Fatalf("Search(the) = %d of %d", len(all), total)
		}
		page, total2, err := db.Search(ctx, "the", quoter.Page{Offset: 3, Limit: 4})
		if err != nil || total2 != total || len(page) != 4 || page[0].ID != all[3].ID || page[3].ID != all[6].ID {
			t.Errorf("page 3..6 of Search(the) = %d quotes, total %d, %v", len(page), total2, err)
		}
	})
	t.Run("OK_MetacharactersAreText", func(t *testing.T) {
		for _, q := range []string{
			`"`, `"unbalanced`, `*`, `wit*`, `-wit`, `wit -soul`, `soul OR wit`, `OR`, `NEAR`, `soul NEAR wit`,
			`NEAR/2`, `'`, `it's`, `;`, `wit; DROP TABLE quotes; --`, `(wit`, `^wit`, `wit AND NOT soul`,
			`text:wit`, `author:wilde`, `<script>alert(1)</script>`, `"quotes" & ampersands`, `\`, `%_`,
		} {
			qs, total, err := db.Search(ctx, q, quoter.Page{})
			if code := quoter.ErrorCode(err); code != "" && code != quoter.EINVALID {
				t.Errorf("Search(%q) = %v, want results or EINVALID", q, err)
			}
			if err == nil && len(qs) > total {
				t.Errorf("Search(%q) = %d results but total %d", q, len(qs), total)
			}
		}
		if qs, _, _ := db.Search(ctx, "<script>alert(1)</script>", quoter.Page{}); len(qs) != 1 || qs[0].Text != quotertest.Script {
			t.Errorf("markup in the query should find the fixture as text: %d results", len(qs))
		}
		if qs, _, _ := db.Search(ctx, "it's all", quoter.Page{}); len(qs) != 1 {
			t.Errorf("Search(it's all) = %d results, want the fixture", len(qs))
		}
		if _, total, _ := db.Search(ctx, "soul OR nevermore", quoter.Page{}); total != 0 {
			t.Errorf("OR was treated as an operator: %d results", total)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, q := range []string{"", "   ", `" * ; -`} {
			_, _, err := db.Search(ctx, q, quoter.Page{})
			wantCode(t, err, quoter.EINVALID)
		}
		_, _, err := db.Search(ctx, "wit", quoter.Page{Offset: -1})
		wantCode(t, err, quoter.EINVALID)
	})
}
