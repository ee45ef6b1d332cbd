package main

// In-process tests of the schedule's commands: today --tag/--lang, a past
// day whose quote was removed or purged, pin, unpin, pins and purge.

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// pastDay is a day long begun everywhere: its quote is fixed.
var pastDay = quoter.Date{Year: 2024, Month: 1, Day: 1}

// farDay is a day that has begun nowhere: it may be pinned.
var farDay = quoter.Date{Year: 2099, Month: 1, Day: 1}

// openSample opens the library at path read-write, for a test to change it
// the way another process would, and closes it when the test ends.
func openSample(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// coreToday is the quote the core gives for day and f.
func coreToday(t *testing.T, path string, day quoter.Date, f quoter.Filter) *quoter.Quote {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := db.Today(context.Background(), day, f)
	if err != nil {
		t.Fatalf("Today(%s, %+v): %v", day, f, err)
	}
	return q
}

func TestToday_TagAndLangGiveTheirOwnQuoteOfTheDay(t *testing.T) {
	db := sampleDB(t)
	for _, day := range []quoter.Date{pastDay, pastDay.AddDays(1), pastDay.AddDays(2), farDay} {
		for _, tt := range []struct {
			args []string
			f    quoter.Filter
		}{
			{[]string{"--tag", "poetry"}, quoter.Filter{Tag: "poetry"}},
			{[]string{"--tag", "POETRY"}, quoter.Filter{Tag: "poetry"}},
			{[]string{"--lang", "fr"}, quoter.Filter{Lang: "fr"}},
			{[]string{"--tag", "poetry", "--lang", "de"}, quoter.Filter{Tag: "poetry", Lang: "de"}},
		} {
			args := append([]string{"--db", db, "today", "--json", "--date", day.String()}, tt.args...)
			got := decodeQuote(t, cliOK(t, args...))
			want := coreToday(t, db, day, tt.f)
			if got.ID != want.ID {
				t.Errorf("today %s on %s: quote %d, want the core's %d", strings.Join(tt.args, " "), day, got.ID, want.ID)
			}
			if tt.f.Tag != "" && !slices.Contains(got.Tags, tt.f.Tag) || tt.f.Lang != "" && got.Lang != tt.f.Lang {
				t.Errorf("today %s on %s gave tags %v, lang %s", strings.Join(tt.args, " "), day, got.Tags, got.Lang)
			}
		}
	}
}

func TestToday_UnknownTagOrLangIsNamed(t *testing.T) {
	db := sampleDB(t)
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "today", "--tag", "nosuchtag"), `no quote is tagged "nosuchtag"`)
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "today", "--lang", "xx"), `no quote is in language "xx"`)
	errOut := cliFail(t, 1, "", "--db", db, "today", "--tag", "nosuchtag", "--lang", "fr")
	wantContains(t, "stderr", errOut, `no quote is tagged "nosuchtag"`)
	wantContains(t, "stderr", errOut, "--tag nosuchtag --lang fr")
}

// The past keeps its quotes: a quote deleted since its day is still that
// day's, marked as removed.
func TestToday_RemovedQuoteKeepsItsDayWithANote(t *testing.T) {
	db := sampleDB(t)
	q := coreToday(t, db, pastDay, quoter.Filter{})
	if err := openSample(t, db).Delete(context.Background(), q.ID); err != nil {
		t.Fatal(err)
	}
	out := cliOK(t, "--db", db, "today", "--date", pastDay.String())
	if want := q.Render() + "\n" + removedNote + "\n"; out != want {
		t.Errorf("today of a removed quote's day = %q, want %q", out, want)
	}
	out = cliOK(t, "--db", db, "today", "--json", "--date", pastDay.String())
	if got := decodeQuote(t, out); got.ID != q.ID || !got.Removed || !strings.Contains(out, `"removed":true`) {
		t.Errorf("today --json of a removed quote's day = %s, want quote %d with \"removed\":true", out, q.ID)
	}
	if out := cliOK(t, "--db", db, "today", "--json", "--date", farDay.String()); strings.Contains(out, `"removed"`) {
		t.Errorf("today --json of a quote in the library = %s, want no \"removed\"", out)
	}
}

func TestPurge_ErasesAQuoteAndItsDaysSaySo(t *testing.T) {
	db := sampleDB(t)
	q := coreToday(t, db, pastDay, quoter.Filter{})
	id := strconv.FormatInt(q.ID, 10)
	before := stats(t, db).Quotes

	out := cliOK(t, "--db", db, "purge", id)
	wantContains(t, "stdout", out, "purged quote "+id+" from "+db)
	wantContains(t, "stdout", out, "erased for good")
	if after := stats(t, db).Quotes; after != before-1 {
		t.Errorf("purging a quote in the library left %d quotes, want %d", after, before-1)
	}
	// The day's quote is gone (EGONE): exit 1 and a message naming the day.
	errOut := cliFail(t, 1, "", "--db", db, "today", "--date", pastDay.String())
	wantContains(t, "stderr", errOut, "no quote to show for "+pastDay.String())
	wantContains(t, "stderr", errOut, "removed from the library for good")
	if strings.Contains(errOut, "quoter:") {
		t.Errorf("stderr = %q: the message, not the log form", errOut)
	}
	// A purged quote can be neither pinned nor purged again.
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "pin", farDay.String(), id), "was removed from the library")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "purge", id), "purged already")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "purge", "99999"), "no quote with id 99999")
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "purge"), "purge takes one quote id")
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "purge", "x"), `invalid quote id "x"`)
}

// Purging a quote deleted already erases what its days kept.
func TestPurge_RemovedQuote(t *testing.T) {
	db := sampleDB(t)
	q := coreToday(t, db, pastDay, quoter.Filter{})
	if err := openSample(t, db).Delete(context.Background(), q.ID); err != nil {
		t.Fatal(err)
	}
	cliOK(t, "--db", db, "purge", "#"+strconv.FormatInt(q.ID, 10))
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "today", "--json", "--date", pastDay.String()), "removed from the library for good")
}

func TestPin_MakesAQuoteTheQuoteOfADayToCome(t *testing.T) {
	db := sampleDB(t)
	next := farDay.AddDays(1)
	unpinned := coreToday(t, db, farDay, quoter.Filter{})
	pinned := quotertest.Sample()[1:2] // quote 2
	wantContains(t, "stdout", cliOK(t, "--db", db, "pin", farDay.String(), "2"), "pinned quote 2 to "+farDay.String())
	if q := decodeQuote(t, cliOK(t, "--db", db, "today", "--json", "--date", farDay.String())); q.ID != 2 || q.Text != pinned[0].Text {
		t.Errorf("today on a pinned day = quote %d %q, want quote 2", q.ID, q.Text)
	}
	cliOK(t, "--db", db, "pin", next.String(), "3")
	cliOK(t, "--db", db, "pin", next.String(), "4") // replaces the pin

	out := cliOK(t, "--db", db, "pins")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], farDay.String()+"  2 ") || !strings.HasPrefix(lines[1], next.String()+"  4 ") {
		t.Errorf("pins =\n%s\nwant %s with quote 2, then %s with quote 4", out, farDay, next)
	}
	wantContains(t, "pins", lines[0], pinned[0].Author+": ")
	var ps []jsonPin
	if err := json.Unmarshal([]byte(cliOK(t, "--db", db, "pins", "--json")), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Date != farDay || ps[0].ID != 2 || ps[0].Quote == nil || ps[0].Quote.Text != pinned[0].Text || ps[1].ID != 4 {
		t.Errorf("pins --json = %+v, want %s: 2 and %s: 4 with their quotes", ps, farDay, next)
	}
	if out := cliOK(t, "--db", db, "pins", "--from", next.AddDays(1).String()); out != "no day is pinned from "+next.AddDays(1).String()+" on\n" {
		t.Errorf("pins --from after the last pin = %q", out)
	}

	wantContains(t, "stdout", cliOK(t, "--db", db, "unpin", farDay.String()), "unpinned "+farDay.String())
	if q := decodeQuote(t, cliOK(t, "--db", db, "today", "--json", "--date", farDay.String())); q.ID == 2 && unpinned.ID != 2 {
		t.Errorf("today on an unpinned day is still the pinned quote 2")
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "unpin", farDay.String()), farDay.String()+" has no pinned quote")
	cliOK(t, "--db", db, "unpin", next.String())
	if out := cliOK(t, "--db", db, "pins", "--json"); out != "[]\n" {
		t.Errorf("pins --json with no pins = %q, want []", out)
	}
}

// The past is fixed: pinning or unpinning a day that has begun somewhere
// fails with the core's message and exit status 1, not 2: the command was
// well formed.
func TestPin_PastDayIsRefused(t *testing.T) {
	db := sampleDB(t)
	before := coreToday(t, db, pastDay, quoter.Filter{})
	errOut := cliFail(t, 1, "", "--db", db, "pin", pastDay.String(), "2")
	wantContains(t, "stderr", errOut, "cannot pin "+pastDay.String()+": that day has begun")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "unpin", pastDay.String()), "cannot unpin "+pastDay.String())
	if q := coreToday(t, db, pastDay, quoter.Filter{}); q.ID != before.ID {
		t.Errorf("after a refused pin %s shows quote %d, want %d as before", pastDay, q.ID, before.ID)
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "pin", farDay.String(), "99999"), "no quote with id 99999")
}

func TestPin_BadArgumentsAreUsageErrors(t *testing.T) {
	db := sampleDB(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"pin"}, "pin takes a date and a quote id"},
		{[]string{"pin", "2099-01-01"}, "pin takes a date and a quote id"},
		{[]string{"pin", "2099-02-30", "2"}, `invalid date "2099-02-30"`},
		{[]string{"pin", "2099-01-01", "0"}, `invalid quote id "0"`},
		{[]string{"unpin"}, "unpin takes the pinned date"},
		{[]string{"unpin", "tomorrow"}, `invalid date "tomorrow"`},
		{[]string{"pins", "extra"}, "pins takes no arguments"},
		{[]string{"pins", "--from", "soon"}, `--from: invalid date "soon"`},
	} {
		wantContains(t, "stderr", cliFail(t, 2, "", append([]string{"--db", db}, tt.args...)...), tt.want)
	}
}

func TestHelp_ListsTheScheduleCommands(t *testing.T) {
	help := cliOK(t, "help")
	for _, cmd := range []string{"pin", "unpin", "pins", "purge"} {
		wantContains(t, "quotesd help", help, "  "+cmd+" ")
	}
	wantContains(t, "quotesd today -h", cliOK(t, "today", "-h"), "--tag")
}
