package irc

// Tests of !today with a tag or a language, of the daily post, and of days
// whose quote was removed or purged since.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// ircDay is the bot's today in these tests: a day long begun everywhere,
// whose quote the library keeps whatever happens to it since.
var ircDay = quoter.Date{Year: 2025, Month: 3, Day: 14}

// calendarAt is a calendar in UTC stopped at 09:30 on day.
func calendarAt(day quoter.Date) *quoter.Calendar {
	now := day.Time(time.UTC).Add(9*time.Hour + 30*time.Minute)
	return &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return now }}
}

// todayOf is the core's quote of day through f.
func todayOf(t *testing.T, lib quoter.Quoter, day quoter.Date, f quoter.Filter) *quoter.Quote {
	t.Helper()
	q, err := lib.Today(context.Background(), day, f)
	if err != nil {
		t.Fatalf("Today(%s, %+v): %v", day, f, err)
	}
	return q
}

// botOn starts a bot on lib whose today is day and returns the server's
// side of its connection, registered and joined to #q.
func botOn(t *testing.T, lib quoter.Library, day quoter.Date) *fakeConn {
	t.Helper()
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), lib, calendarAt(day))
	c := srv.accept()
	c.register("quotesd", "#q")
	return c
}

// textStart is the first n bytes of q's text as the bot sends it.
func textStart(q *quoter.Quote, n int) string {
	s := chat.Sanitize(strings.ReplaceAll(q.Text, "\n", " / "))
	return s[:min(n, len(s))]
}

func TestBot_TodayWithATagOrALanguageGivesTheirOwnQuoteOfTheDay(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	c := botOn(t, lib, ircDay)
	poetry := todayOf(t, lib, ircDay, quoter.Filter{Tag: "poetry"})
	french := todayOf(t, lib, ircDay, quoter.Filter{Lang: "fr"})
	earlier := ircDay.AddDays(-3)
	poetryEarlier := todayOf(t, lib, earlier, quoter.Filter{Tag: "poetry"})
	both := todayOf(t, lib, ircDay, quoter.Filter{Tag: "poetry", Lang: "de"})
	yesterday := todayOf(t, lib, ircDay.AddDays(-1), quoter.Filter{Tag: "poetry"})
	tests := []struct{ ask, want string }{
		{"!today poetry", "PRIVMSG #q :poetry: " + textStart(poetry, 20)},
		{"!today Poetry", "PRIVMSG #q :poetry: " + textStart(poetry, 20)},
		{"!today lang:fr", "PRIVMSG #q :lang:fr: " + textStart(french, 20)},
		{"!today " + earlier.String() + " poetry", "PRIVMSG #q :" + earlier.String() + ", poetry: " + textStart(poetryEarlier, 20)},
		{"!today poetry " + earlier.String(), "PRIVMSG #q :" + earlier.String() + ", poetry: " + textStart(poetryEarlier, 20)},
		{"!today poetry lang:de", "PRIVMSG #q :poetry, lang:de: " + textStart(both, 20)},
		{"!yesterday poetry", "PRIVMSG #q :" + ircDay.AddDays(-1).String() + ", poetry: " + textStart(yesterday, 20)},
		{"!today nosuchtag", `PRIVMSG #q :no quote is tagged "nosuchtag"`},
		{"!today lang:xx", `PRIVMSG #q :no quote is in language "xx"`},
		{"!today poetry wit", "PRIVMSG #q :" + chat.TodayUsage},
		{"!today 2025-02-30 poetry", "PRIVMSG #q :a date looks like 2025-03-14"},
		{"!today poetry 2999-01-01", "PRIVMSG #q :that day has not come yet: try !today"},
	}
	for _, tt := range tests {
		if got := c.ask(tt.ask); len(got) == 0 || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("%s: reply %q, want it to start %q", tt.ask, got, tt.want)
		}
	}
	if got := c.ask("!help"); len(got) == 0 || !strings.Contains(strings.Join(got, " "), "!today <tag>") {
		t.Errorf("!help = %q, want it to mention !today <tag>", got)
	}
}

// longDay returns a day from ircDay on whose quote of the day is
// quotertest.Long, far too long for a reply, and that quote.
func longDay(t *testing.T, lib quoter.Quoter) (quoter.Date, *quoter.Quote) {
	t.Helper()
	for d := ircDay; d.Before(ircDay.AddDays(100)); d = d.AddDays(1) {
		if q := todayOf(t, lib, d, quoter.Filter{}); q.Text == quotertest.Long {
			return d, q
		}
	}
	t.Fatal("quotertest.Long is nobody's quote of the day in 100 days")
	return quoter.Date{}, nil
}

// The daily post and !today are the quote of the day the web and mail
// show, even when it is too long for a reply: it is cut with "…", keeping
// its attribution and number, and never swapped for a shorter quote.
func TestBot_DailyPostAndTodayCutALongQuoteOfTheDay(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	day, long := longDay(t, lib)
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.Daily = "09:00"
	cfg.DailyStateFile = filepath.Join(t.TempDir(), "irc-daily.json")
	if err := os.WriteFile(cfg.DailyStateFile, []byte(`{"#q":"`+day.AddDays(-1).String()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	runBot(t, cfg, lib, calendarAt(day))
	c := srv.accept()
	c.register("quotesd", "#q")
	tail := "… — " + chat.Sanitize(long.Attribution())
	var post []string
	for range maxReplyLines {
		post = append(post, c.expect("PRIVMSG #q :"))
	}
	if want := "PRIVMSG #q :Quote of the day: " + textStart(long, 30); !strings.HasPrefix(post[0], want) {
		t.Errorf("daily post %q, want it to start %q", post, want)
	}
	if last := post[len(post)-1]; !strings.Contains(last, tail) || !strings.HasSuffix(last, "[#"+strconv.FormatInt(long.ID, 10)+"]") {
		t.Errorf("daily post ends %q, want the cut mark, %q and [#%d]", last, tail, long.ID)
	}
	got := c.ask("!today")
	if len(got) != maxReplyLines || !strings.HasPrefix(got[0], "PRIVMSG #q :"+textStart(long, 30)) ||
		!strings.Contains(got[len(got)-1], tail) || !strings.HasSuffix(got[len(got)-1], "[#"+strconv.FormatInt(long.ID, 10)+"]") {
		t.Errorf("!today = %q, want quote %d cut to %d lines with %q", got, long.ID, maxReplyLines, tail)
	}
}

// A quote deleted since its day is still that day's, and the reply says it
// was removed; a purged one leaves the day without a quote, which the
// reply says too.
func TestBot_TodayOfARemovedOrPurgedQuote(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	ctx := context.Background()
	removed := todayOf(t, lib, ircDay, quoter.Filter{})
	purgedDay := ircDay.AddDays(-1)
	purged := todayOf(t, lib, purgedDay, quoter.Filter{})
	for _, q := range []*quoter.Quote{removed, purged} {
		if q.ID == 1 { // fakeConn.ask ends each answer with quote #1
			t.Skipf("quote #1 is the quote of %s or the day before", ircDay)
		}
	}
	if err := lib.Delete(ctx, removed.ID); err != nil {
		t.Fatal(err)
	}
	if err := lib.Purge(ctx, purged.ID); err != nil {
		t.Fatal(err)
	}
	c := botOn(t, lib, ircDay)
	got := c.ask("!today")
	if len(got) == 0 || !strings.HasPrefix(got[0], "PRIVMSG #q :"+textStart(removed, 20)) ||
		!strings.HasSuffix(got[len(got)-1], "[#"+strconv.FormatInt(removed.ID, 10)+"] "+chat.RemovedNote) {
		t.Errorf("!today of a removed quote = %q, want quote %d ending %q", got, removed.ID, chat.RemovedNote)
	}
	want := "PRIVMSG #q :quote #" + strconv.FormatInt(purged.ID, 10) + ", the quote of that day, was removed from the library for good"
	if got := c.ask("!yesterday"); len(got) != 1 || got[0] != want {
		t.Errorf("!yesterday of a purged quote = %q, want %q", got, want)
	}
}

// A purged quote of the day is not posted, and the post is not tried again
// and again: the channel is told once.
func TestBot_DailyPostOfAPurgedQuoteSaysSoOnce(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	if err := lib.Purge(context.Background(), todayOf(t, lib, ircDay, quoter.Filter{}).ID); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.Daily = "09:00"
	cfg.DailyStateFile = filepath.Join(t.TempDir(), "irc-daily.json")
	if err := os.WriteFile(cfg.DailyStateFile, []byte(`{"#q":"`+ircDay.AddDays(-1).String()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	runBot(t, cfg, lib, calendarAt(ircDay))
	c := srv.accept()
	c.register("quotesd", "#q")
	if got, want := c.expect("PRIVMSG #q :"), "PRIVMSG #q :No quote of the day today: it was removed from the library for good."; got != want {
		t.Errorf("daily post of a purged quote = %q, want %q", got, want)
	}
	// The post is recorded once sent.
	want := `"#q":"` + ircDay.String() + `"`
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(cfg.DailyStateFile)
		if err == nil && strings.Contains(string(b), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state file = %s, %v; want #q done for %s", b, err, ircDay)
		}
	}
	c.none(300*time.Millisecond, "PRIVMSG #q")
}

// A channel with collections is posted the quote of the day of its
// collections, not the library's.
func TestBot_DailyPostInAChannelWithCollectionsIsTheirs(t *testing.T) {
	ctx := context.Background()
	lib := quotertest.NewLibrary(t)
	if err := lib.SetCollection(ctx, quoter.Collection{Name: "club-quotes", Private: true}); err != nil {
		t.Fatal(err)
	}
	club := &quoter.Quote{Text: "The club's own saying.", Author: "The Founder", Collection: "club-quotes"}
	if err := lib.Add(ctx, club); err != nil {
		t.Fatal(err)
	}
	cal := &quoter.Calendar{Location: time.UTC}
	state := filepath.Join(t.TempDir(), "irc-daily.json")
	if err := os.WriteFile(state, []byte(`{"#club":"`+cal.Today().AddDays(-1).String()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Channels = []Channel{{Name: "#club", Collections: []string{"club-quotes"}}}
	cfg.Daily, cfg.DailyStateFile = "00:00", state
	runBot(t, cfg, lib, cal)
	c := srv.accept()
	c.register("quotesd", "#club")
	if got := c.expect("PRIVMSG #club :Quote of the day: "); !strings.Contains(got, club.Text) {
		t.Errorf("the daily post in #club: %q, want the club's quote", got)
	}
}
