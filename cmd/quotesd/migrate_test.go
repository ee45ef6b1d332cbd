package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// migrateFilters are the cycles the migration tests compare day by day.
var migrateFilters = []quoter.Filter{{}, {Tag: "life"}, {Tag: "wit"}, {Lang: "en"}, {Lang: "fr"}, {MaxLen: 120},
	{Collection: "club"}, {Collection: quoter.DefaultCollection}}

// libraryWithHistory makes a SQLite library that lived: quotes imported,
// then, over simulated months, added, corrected, retagged, deleted,
// purged and pinned, with a private collection, submissions and a
// curator, so that its schedule holds ended epochs, recorded days, holes
// and pins. It returns the path and its clock.
func libraryWithHistory(t *testing.T) (string, *quotertest.Clock) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lived.db")
	clk := quotertest.NewClock(time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(path, sqlite.Create(), sqlite.WithSeed(77), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(ctx, quotertest.Sample(), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCollection(ctx, quoter.Collection{Name: "club", Title: "The club's own", Private: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, "alice", "$argon2id$v=19$m=65536,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 11))
	for step := range 40 {
		clk.Advance(time.Duration(20+r.IntN(60)) * time.Hour)
		q, err := db.Random(ctx, quoter.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		f := quoter.Frontier(clk.Now())
		switch step % 6 {
		case 0:
			err = db.Add(ctx, &quoter.Quote{Text: fmt.Sprintf("Added on step %d.", step), Author: "Stepper", Tags: []string{"life"}, Lang: "fr"})
		case 1:
			text := q.Text + " (corrected)"
			_, err = db.Update(ctx, q.ID, quoter.Update{Text: &text})
		case 2:
			tags := []string{"wit"}
			_, err = db.Update(ctx, q.ID, quoter.Update{Tags: &tags})
		case 3:
			err = db.Delete(ctx, q.ID)
		case 4:
			err = db.Pin(ctx, f.AddDays(1+r.IntN(20)), q.ID)
		case 5:
			if step%12 == 5 {
				err = db.Purge(ctx, q.ID)
				break
			}
			err = db.Add(ctx, &quoter.Quote{Text: fmt.Sprintf("A club quote, step %d.", step), Author: "Member", Collection: "club",
				AddedBy: quoter.Provenance{By: "bob", Via: quoter.ViaIRC, Channel: "#club", Mask: "bob!b@example.org"}})
			if err == nil {
				s := &quoter.Submission{Quote: quoter.Quote{Text: fmt.Sprintf("Submitted on step %d.", step), Author: "Visitor"}, Note: "please"}
				if err = db.Submit(ctx, s); err == nil && step%4 == 1 {
					_, err = db.Approve(ctx, s.ID, quoter.Provenance{By: "alice", Via: quoter.ViaWeb}, nil)
				} else if err == nil {
					err = db.Reject(ctx, s.ID, quoter.Provenance{By: "alice"}, "not a quote")
				}
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	if err := db.SetAuthor(ctx, quoter.Author{Slug: "stepper", Bio: "Adds a quote now and then.", Link: "https://example.org/stepper"}); err != nil {
		t.Fatal(err)
	}
	return path, clk
}

// sameLibrary checks that b answers as a does: the quote of every day
// from far before the first change to a year ahead, in every cycle of
// migrateFilters, each quote by id, the pins and the counts.
func sameLibrary(t *testing.T, a, b quoter.Library, now time.Time) {
	t.Helper()
	ctx := context.Background()
	f := quoter.Frontier(now).DayNumber()
	days := 0
	for d := f - 200; d <= f+365; d++ {
		for _, fl := range migrateFilters {
			day := quoter.DateOfDay(d)
			qa, ea := a.Today(ctx, day, fl)
			qb, eb := b.Today(ctx, day, fl)
			if quoter.ErrorCode(ea) != quoter.ErrorCode(eb) || ea == nil && fmt.Sprint(*qa) != fmt.Sprint(*qb) {
				t.Fatalf("Today(%s, %+v): after the move %v (%v), before %v (%v)", day, fl, qb, eb, qa, ea)
			}
			days++
		}
	}
	for id := int64(1); id < 80; id++ {
		qa, ea := a.Quote(ctx, id)
		qb, eb := b.Quote(ctx, id)
		if quoter.ErrorCode(ea) != quoter.ErrorCode(eb) || ea == nil && fmt.Sprint(*qa) != fmt.Sprint(*qb) {
			t.Fatalf("Quote(%d): after the move %v (%v), before %v (%v)", id, qb, eb, qa, ea)
		}
	}
	pa, _ := a.Pins(ctx, quoter.DateOfDay(f-200))
	pb, _ := b.Pins(ctx, quoter.DateOfDay(f-200))
	pins := func(ps []quoter.Pinned) string {
		s := ""
		for _, p := range ps {
			s += fmt.Sprintf("%s #%d %v; ", p.Day, p.QuoteID, p.Quote)
		}
		return s
	}
	if pins(pa) != pins(pb) || len(pa) == 0 {
		t.Fatalf("pins after the move %s, before %s", pins(pb), pins(pa))
	}
	sa, _ := a.Stats(ctx)
	sb, _ := b.Stats(ctx)
	if sa != sb {
		t.Fatalf("Stats after the move %+v, before %+v", sb, sa)
	}
	aa, na, _ := a.AuthorList(ctx, quoter.Page{Limit: quoter.MaxLimit})
	ab, nb, _ := b.AuthorList(ctx, quoter.Page{Limit: quoter.MaxLimit})
	if fmt.Sprint(aa) != fmt.Sprint(ab) || na != nb || !strings.Contains(fmt.Sprint(aa), "example.org/stepper") {
		t.Fatalf("authors after the move %v, before %v", ab, aa)
	}
	ca, _ := a.Collections(ctx)
	cb, _ := b.Collections(ctx)
	if fmt.Sprint(ca) != fmt.Sprint(cb) || len(ca) < 2 {
		t.Fatalf("Collections after the move %v, before %v", cb, ca)
	}
	subsA, na, _ := a.Submissions(ctx, "", quoter.Page{Limit: quoter.MaxLimit})
	subsB, nb, _ := b.Submissions(ctx, "", quoter.Page{Limit: quoter.MaxLimit})
	if na != nb || na == 0 || len(subsA) != len(subsB) {
		t.Fatalf("%d submissions after the move, %d before", nb, na)
	}
	for i := range subsA {
		if fmt.Sprint(*subsA[i]) != fmt.Sprint(*subsB[i]) {
			t.Fatalf("submission after the move %+v, before %+v", *subsB[i], *subsA[i])
		}
	}
	ha, ea := a.PasswordHash(ctx, "alice")
	hb, eb := b.PasswordHash(ctx, "alice")
	if ea != nil || eb != nil || ha != hb {
		t.Fatalf("alice's hash after the move %q (%v), before %q (%v)", hb, eb, ha, ea)
	}
	t.Logf("%d days and cycles agree", days)
}

// A library moved from SQLite to PostgreSQL and back, with changes made
// in PostgreSQL between, shows the same quote on every day, past and to
// come, in every cycle, on both sides of each move.
func TestMigrate_SQLiteToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	path, clk := libraryWithHistory(t)
	url := pgtest.NewDatabase(t)
	cliOK(t, "migrate", "--from", path, "--to", url)

	src, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pg, err := postgres.Open(ctx, url, postgres.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	sameLibrary(t, src, pg, clk.Now())

	// History made in PostgreSQL goes back too.
	clk.Advance(50 * time.Hour)
	if err := pg.Add(ctx, &quoter.Quote{Text: "Added in PostgreSQL.", Author: "Replica"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Hour)
	// The first quote the random history left alive (it may have deleted
	// any), one of the oldest: it was the quote of past days.
	id := int64(1)
	for ; ; id++ {
		if q, err := pg.Quote(ctx, id); err == nil && !q.Removed {
			break
		} else if id > 100 {
			t.Fatal("no quote left alive among the first 100")
		}
	}
	if err := pg.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(t.TempDir(), "back.db")
	cliOK(t, "migrate", "--from", url, "--to", back)
	db, err := sqlite.Open(back, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sameLibrary(t, pg, db, clk.Now())
}

func TestMigrate_Refuses(t *testing.T) {
	path, _ := libraryWithHistory(t)
	t.Run("ExistingFile", func(t *testing.T) {
		wantContains(t, "stderr", cliFail(t, 1, "", "migrate", "--from", path, "--to", path), "already exists")
	})
	t.Run("LibraryNotEmpty", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		cliOK(t, "migrate", "--from", path, "--to", url)
		wantContains(t, "stderr", cliFail(t, 1, "", "migrate", "--from", path, "--to", url), "not empty")
	})
	t.Run("Usage", func(t *testing.T) {
		cliFail(t, 2, "", "migrate", "--from", path)
	})
}

// init on a PostgreSQL database creates the library's tables and copies the
// shipped library into them, which then answers as the shipped file does;
// a database holding a library is left alone. backup points to pg_dump.
func TestInit_PostgresDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	wantContains(t, "init", cliOK(t, "--db", url, "init"), "a copy of the shipped library")
	file := shippedDB(t)
	for _, args := range [][]string{{"today"}, {"stats"}, {"search", "wit"}} {
		if got, want := cliOK(t, append([]string{"--db", url}, args...)...), cliOK(t, append([]string{"--db", file}, args...)...); got != want {
			t.Errorf("quotesd %v: PostgreSQL says %q, the shipped file %q", args, got, want)
		}
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", url, "init"), "holds a library already")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", url, "init", "--empty"), "holds a library already")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", url, "backup", filepath.Join(t.TempDir(), "b.db")), "pg_dump")

	empty := pgtest.NewDatabase(t)
	wantContains(t, "init --empty", cliOK(t, "--db", empty, "init", "--empty"), "an empty library")
	if st := stats(t, empty); st.Quotes != 0 {
		t.Errorf("init --empty made %d quotes", st.Quotes)
	}
}
