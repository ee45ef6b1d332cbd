package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/quoter"
)

// dayView is what a client sees of one day: the quote, its text and the
// validator the server gives it.
type dayView struct {
	ID      int64
	Text    string
	Removed bool
	ETag    string
}

func viewDay(t *testing.T, base, date string) dayView {
	t.Helper()
	code, h, body := fetch(t, "GET", base+"/day/"+date+"?format=json", "")
	if code != 200 {
		t.Fatalf("GET /day/%s: %d %s", date, code, body)
	}
	var q struct {
		ID      int64  `json:"id"`
		Text    string `json:"text"`
		Removed bool   `json:"removed"`
	}
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatalf("GET /day/%s: %v: %s", date, err, body)
	}
	return dayView{q.ID, q.Text, q.Removed, h.Get("ETag")}
}

// feedEntries returns the feed's entries: id -> updated.
func feedEntries(t *testing.T, base string) map[string]string {
	t.Helper()
	code, _, body := fetch(t, "GET", base+"/feed.atom", "")
	if code != 200 {
		t.Fatalf("GET /feed.atom: %d", code)
	}
	var feed struct {
		Entries []struct {
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range feed.Entries {
		m[e.ID] = e.Updated
	}
	return m
}

// The quote of the day is history, end to end: a real quotesd on a copy of
// the shipped library, read over the web, the feed and the IRC bot (real
// ngircd), then changed through the admin API (add, correct, delete) and
// by `quotesd import` from another process. Every day that has begun keeps
// its quote; only the corrected day's validator and feed entry change; the
// bot's quote of the day is the web's.
func TestSchedule_E2E_HistorySurvivesEdits(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	db := tempLibrary(t)
	token := "schedule-token-123"
	args := append([]string{"--db", db, "--tz", "UTC", "serve", "--log-format", "json", "--log-level", "debug",
		"--state-dir", t.TempDir(),
		"--web-addr", "127.0.0.1:0",
		"--irc-server", srv.Addr, "--irc-tls=false", "--irc-channels", "#quotes",
		"--irc-user-cooldown=0", "--irc-channel-cooldown=0"}, offExcept("web", "irc")...)
	cmd := exec.Command(quotesdBinary(t), args...)
	cmd.Env = append(os.Environ(), "QUOTESD_WEB_ADMIN_TOKEN="+token)
	s := startProcess(t, cmd, []string{"web"})
	s.WaitLog(30*time.Second, "joined", map[string]string{"channel": "#quotes", "frontend": "irc"})
	base := "http://" + s.Addr("web")
	auth := []string{"Authorization", "Bearer " + token, "Content-Type", "application/json"}

	today := quoter.DateOf(time.Now().UTC())
	yesterday := today.AddDays(-1)
	days := []quoter.Date{{Year: 2025, Month: 3, Day: 14}, today.AddDays(-20), yesterday, today}
	before := map[quoter.Date]dayView{}
	for _, d := range days {
		before[d] = viewDay(t, base, d.String())
	}
	if got := before[days[0]].ID; got != 170 {
		t.Errorf("the shipped library's 2025-03-14 is #%d, want #170 as quotesd has always shown", got)
	}
	feedBefore := feedEntries(t, base)
	home := func() dayView {
		t.Helper()
		code, h, body := fetch(t, "GET", base+"/?format=json", "")
		var q struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal([]byte(body), &q); code != 200 || err != nil {
			t.Fatalf("GET /: %d %v %s", code, err, body)
		}
		return dayView{ID: q.ID, ETag: h.Get("ETag")}
	}
	homeBefore := home()
	if homeBefore.ID != before[today].ID {
		t.Errorf("/ shows #%d, /day/%s #%d: the home page is today's quote", homeBefore.ID, today, before[today].ID)
	}

	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	ircToday := func() string {
		t.Helper()
		alice.Drain()
		alice.Send("PRIVMSG #quotes :!today")
		return alice.Expect(10*time.Second, "PRIVMSG #quotes :")
	}
	botBefore := ircToday()
	if !strings.Contains(botBefore, fmt.Sprintf("#%d", before[today].ID)) {
		t.Errorf("the bot's !today = %q, want the web's quote of the day #%d", botBefore, before[today].ID)
	}

	// Changes: an added quote, a corrected one (yesterday's), a deleted
	// one (the quote of a day twenty days ago), and an import by another
	// process.
	if code, _, body := fetch(t, "POST", base+"/api/v1/quotes", `{"text":"A brand new quote for the schedule check.","author":"Test Author"}`, auth...); code != 201 {
		t.Fatalf("POST: %d %s", code, body)
	}
	corrected := before[yesterday].Text + " (corrected)"
	patch, _ := json.Marshal(map[string]string{"text": corrected})
	if code, _, body := fetch(t, "PATCH", fmt.Sprintf("%s/api/v1/quotes/%d", base, before[yesterday].ID), string(patch), auth...); code != 200 {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	deleted := before[days[1]].ID
	if code, _, body := fetch(t, "DELETE", fmt.Sprintf("%s/api/v1/quotes/%d", base, deleted), "", auth...); code != 204 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	csv := filepath.Join(t.TempDir(), "more.csv")
	os.WriteFile(csv, []byte("text,author\nImported while serving: one.,Importer\nImported while serving: two.,Importer\n"), 0o644)
	if _, stderr, code := runQuotesd(t, nil, "--db", db, "import", csv); code != 0 {
		t.Fatalf("quotesd import: exit %d: %s", code, stderr)
	}
	time.Sleep(1500 * time.Millisecond) // the server sees another process's change within a second

	for _, d := range days {
		got, was := viewDay(t, base, d.String()), before[d]
		if got.ID != was.ID {
			t.Errorf("%s shows #%d after the changes, was #%d: the past changed", d, got.ID, was.ID)
		}
		switch d {
		case yesterday:
			if got.Text != corrected || got.ETag == was.ETag {
				t.Errorf("%s after its correction: text %q, ETag %s (was %s); want the corrected text and a new ETag", d, got.Text, got.ETag, was.ETag)
			}
		case days[1]:
			if !got.Removed {
				t.Errorf("%s shows the deleted #%d without saying it was removed", d, got.ID)
			}
		default:
			if got.ETag != was.ETag {
				t.Errorf("%s: ETag %s, was %s, though its quote did not change", d, got.ETag, was.ETag)
			}
		}
	}
	if got := home(); got != homeBefore {
		t.Errorf("/ after the changes: #%d, ETag %s; was #%d, ETag %s", got.ID, got.ETag, homeBefore.ID, homeBefore.ETag)
	}
	feedAfter := feedEntries(t, base)
	for id, updated := range feedBefore {
		now, ok := feedAfter[id]
		switch {
		case !ok:
			if !strings.Contains(id, today.AddDays(-30).String()) {
				t.Errorf("feed entry %s is gone after the changes", id)
			}
		case strings.Contains(id, yesterday.String()):
			if now == updated {
				t.Errorf("feed entry %s kept <updated> %s after its quote was corrected", id, updated)
			}
		case strings.Contains(id, days[1].String()):
			// Its quote was deleted: the entry says so, so it changed.
		case now != updated:
			t.Errorf("feed entry %s: <updated> %s, was %s, though its quote did not change", id, now, updated)
		}
	}
	if got := ircToday(); got != botBefore {
		t.Errorf("the bot's !today after the changes = %q, was %q", got, botBefore)
	}
}
