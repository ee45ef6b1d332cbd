package irc

// Bad input from an IRC network: hostile servers and users. Every case is
// dropped in silence or answered within the rules, never a crash, a flood
// or an extra line.

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

func TestBot_OverlongServerLinesAreSkippedAndTheBotCarriesOn(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1 %s", strings.Repeat("x", 100<<10)) // 100 KiB
	c.send(":alice!a@host PRIVMSG #q :%s", strings.Repeat("\xff", 600))
	c.send(":%s PRIVMSG #q :!quote #1", strings.Repeat("n", maxIn)) // past even IRCv3 tags' room
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :Brevity") {
		t.Errorf("after overlong lines: %q, want the answer to the well-formed one", got)
	}
	c.none(300*time.Millisecond, "PRIVMSG")
}

func TestBot_MoreMalformedServerLinesAreSkipped(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	for _, l := range []string{
		"", " ", ":", "@", "@=;=; :x PRIVMSG", "@a=\\ :x!y@z PRIVMSG #q :!quote #1", // tag escapes
		":x!y@z PRIVMSG #q", ":x!y@z PRIVMSG  :!quote", ":!@ PRIVMSG #q :!quote #1",
		"PING", ":irc.test 433", ":irc.test 433 *", ":irc.test 005 quotesd :are supported",
		":x!y@z INVITE", ":x!y@z KICK", ":x!y@z NICK", ":x!y@z JOIN", ":x!y@z PART",
		"PRIVMSG #q :\x01", "PRIVMSG #q :\x01\x01", ":a!b@c PRIVMSG #q :\x01VERSION",
		"\x00\x00\x00", "PRIVMSG\x00#q :!quote",
	} {
		c.send("%s", l)
	}
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :Brevity") {
		t.Errorf("after malformed lines: %q, want the answer to the well-formed one", got)
	}
}

// A server that tells the bot its nick is now empty (or gives a 001
// without one) sends a malformed line, which is skipped: believing it, the
// bot would count no nick in what the server prefixes to its relayed
// lines, and a long quote's lines would reach 517 bytes. The bot keeps its
// nick, so every relayed line still fits 512 bytes.
func TestBot_EmptyNickFromServerIsSkipped(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.expect("NICK ")
	c.expect("USER ")
	c.send(":irc.test 001 :")                // no nick: skipped
	c.send(":irc.test 001 quotesd :Welcome") // the real one
	c.expect("JOIN #q")
	c.send(":quotesd!bot@127.0.0.1 JOIN #q")
	for _, l := range []string{
		":quotesd!bot@127.0.0.1 NICK :",
		":quotesd!bot@127.0.0.1 NICK",
		":quotesd!bot@127.0.0.1 NICK :two words",
		":irc.test 001 :",
		":irc.test 433",
		":irc.test 396 quotesd",
		":irc.test 474",
	} {
		c.send("%s", l)
	}
	c.send(":alice!a@host PRIVMSG #q :!quote dull boy")
	relay := len(":quotesd!bot@127.0.0.1 ")
	for i := 0; i < 3; i++ {
		l := c.expect("PRIVMSG #q :")
		if n := relay + len(l) + 2; n > MaxLine {
			t.Errorf("relayed line %d is %d bytes, over %d: %q", i+1, n, MaxLine, l)
		}
	}
	// Still the bot's own nick: it answers to it in private.
	c.send(":bob!b@host PRIVMSG quotesd :!quote #1")
	c.expect("PRIVMSG bob :")
}

// Line fitting leaves room for whatever nick the server prefixes, whatever
// the bot believes its nick to be: an unknown (empty) nick counts as the
// longest a server commonly allows.
func TestSession_LinesFitWhateverTheNickState(t *testing.T) {
	for _, tc := range []struct{ believed, real string }{
		{"quotesd", "quotesd"},
		{"", "quotesd"},
		{"", strings.Repeat("n", 30)},
		{strings.Repeat("n", 40), strings.Repeat("n", 40)},
	} {
		s := &session{b: &Bot{cfg: Config{Nick: "quotesd"}}, nick: tc.believed}
		for _, uh := range []string{"", "bot@127.0.0.1", "u@" + strings.Repeat("h", 63)} {
			s.userhost = uh
			realUH := uh
			if realUH == "" {
				realUH = strings.Repeat("u", assumedUserLen) + "@" + strings.Repeat("h", assumedHostLen)
			}
			target := "#q"
			w := s.width(target)
			line := "PRIVMSG " + target + " :" + strings.Repeat("x", w)
			if n := len(":"+tc.real+"!"+realUH+" ") + len(line) + 2; n > MaxLine {
				t.Errorf("believed nick %q, real %q, userhost %q: relayed line of %d bytes, over %d", tc.believed, tc.real, uh, n, MaxLine)
			}
		}
	}
}

func TestBot_CTCPFloodGetsOneVersionReplyPerInterval(t *testing.T) {
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.CTCPInterval = 500 * time.Millisecond
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	start := time.Now()
	for i := 0; i < 200; i++ {
		c.send(":n%d!u@h%d PRIVMSG quotesd :\x01VERSION\x01", i, i)
		c.send(":n%d!u@h%d PRIVMSG #q :\x01PING %d\x01", i, i, i)
		c.send(":n%d!u@h%d PRIVMSG quotesd :\x01TIME\x01", i, i)
	}
	c.expect("NOTICE n0 :\x01VERSION")
	time.Sleep(1200 * time.Millisecond)
	elapsed := time.Since(start)
	c.mu.Lock()
	defer c.mu.Unlock()
	notices := 0
	for _, l := range c.all {
		if strings.HasPrefix(l, "NOTICE ") {
			notices++
			if !strings.Contains(l, "\x01VERSION ") {
				t.Errorf("answered another CTCP: %q", l)
			}
		}
	}
	// One at once, then at most one per interval of the time spent.
	if max := 1 + int(elapsed/cfg.CTCPInterval); notices > max {
		t.Errorf("%d VERSION replies in %v, want at most %d", notices, elapsed, max)
	}
}

// lineTimes reads the bot's lines that start with prefix for d and
// returns when each arrived.
func lineTimes(c *fakeConn, prefix string, d time.Duration) []time.Time {
	var out []time.Time
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return out
			}
			if strings.HasPrefix(line, prefix) {
				out = append(out, time.Now())
			}
		case <-timeout:
			return out
		}
	}
}

func TestBot_QuoteFloodFromManyNicksNeverExceedsThePacing(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.SendInterval, cfg.SendBurst = 100*time.Millisecond, 4
	cfg.Metrics = reg
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	time.Sleep(time.Second) // let the registration lines' pacing refill the burst
	start := time.Now()
	for i := 0; i < 100; i++ {
		c.send(":n%d!u@h%d PRIVMSG #q :!quote #1", i, i)
	}
	times := lineTimes(c, "PRIVMSG", 2500*time.Millisecond)
	if len(times) == 0 {
		t.Fatal("no answer at all to the flood")
	}
	// Any window from the start: at most the burst plus one line per
	// interval, with one interval of slack for scheduling.
	for i, at := range times {
		if max := cfg.SendBurst + 1 + int(at.Sub(start)/cfg.SendInterval); i+1 > max {
			t.Fatalf("%d lines sent %v after the flood began, want at most %d", i+1, at.Sub(start), max)
		}
	}
	// The queue is bounded: the bot falls silent soon after the flood
	// rather than talking for the 10 s that 100 answers would take, and
	// every request was either answered or dropped in silence.
	c.none(time.Second, "PRIVMSG")
	if len(times) >= 50 {
		t.Errorf("%d answers to 100 requests: the backlog is not bounded", len(times))
	}
	if got := metricValue(t, reg, "quotesd_irc_dropped_total", "queue_full"); int(got)+len(times) != 100 {
		t.Errorf("dropped{queue_full} = %v and %d answered, want 100 in all", got, len(times))
	}
}

func TestBot_QuoteFloodFromOneNickIsCutByTheCooldown(t *testing.T) {
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.UserCooldown = time.Hour
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	for i := 0; i < 500; i++ {
		// The same user@host under changing nicks is still one user.
		c.send(":alice%d!a@host PRIVMSG #q :!quote #1", i%3)
		c.send(":alice!a@host PRIVMSG quotesd :!quote #1")
	}
	c.expect("PRIVMSG ")
	c.none(500*time.Millisecond, "PRIVMSG")
}

func TestBot_QuoteWithNULAndFormattingCodesIsSentClean(t *testing.T) {
	text := "bold\x02 colour\x0304,12red\x03 reset\x0f italic\x1d under\x1f rev\x16 nul\x00 bell\x07 hex\x04FF0000x ctcp\x01ACTION\x01 crlf\r\nQUIT :x"
	// The store refuses such text, but a library edited by hand with
	// sqlite3 holds whatever was written into it.
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: "placeholder", Author: "Eve", Lang: "en"})
	raw, err := sql.Open("sqlite3", lib.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE quotes SET text = ?, author = ? WHERE id = 1`, text, "Eve\x00\r\nPART #q"); err != nil {
		t.Fatalf("editing the library behind the store's back: %v", err)
	}
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), lib, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	got := c.expect("PRIVMSG #q :")
	want := "PRIVMSG #q :bold colourred reset italic under rev nul bell hexx ctcpACTION crlf / QUIT :x — Eve PART #q [#1]"
	if got != want {
		t.Errorf("reply = %q\nwant    %q", got, want)
	}
	for _, b := range []byte{0, 1, 2, 3, 4, 7, 0x0f, 0x16, 0x1d, 0x1f, '\r'} {
		if strings.IndexByte(got, b) >= 0 {
			t.Errorf("reply carries byte %#x", b)
		}
	}
	c.none(300*time.Millisecond, "QUIT")
	c.none(0, "PART")
}

func TestBot_SetLiveChangesPrefixCooldownsAndCTCPRate(t *testing.T) {
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.UserCooldown = time.Hour
	b, err := New(cfg, quotertest.NewLibrary(t), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = b.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	c.expect("PRIVMSG #q :Brevity")
	c.send(":alice!a@host PRIVMSG #q :!quote #1") // cooling down
	c.none(200*time.Millisecond, "PRIVMSG")

	next := cfg
	next.Prefix, next.UserCooldown, next.ChannelCooldown, next.CTCPInterval = "?", 0, 0, 0
	if err := b.SetLive(next); err != nil {
		t.Fatalf("SetLive: %v", err)
	}
	c.send(":alice!a@host PRIVMSG #q :!quote #1") // the old prefix
	c.none(200*time.Millisecond, "PRIVMSG")
	c.send(":alice!a@host PRIVMSG #q :?quote #1") // the new one, no cooldown
	c.expect("PRIVMSG #q :Brevity")
	c.send(":alice!a@host PRIVMSG #q :?help")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :?quote") {
		t.Errorf("help after the prefix changed: %q, want it to name ?quote", got)
	}
	c.send(":bob!b@host PRIVMSG quotesd :\x01VERSION\x01")
	c.expect("NOTICE bob")
	c.send(":carol!c@host PRIVMSG quotesd :\x01VERSION\x01") // no CTCP limit now
	c.expect("NOTICE carol")

	// Bad settings change nothing.
	bad := next
	bad.Prefix = "a b"
	if err := b.SetLive(bad); err == nil {
		t.Error("SetLive accepted a prefix with a space")
	}
	bad = next
	bad.UserCooldown = -time.Second
	if err := b.SetLive(bad); err == nil {
		t.Error("SetLive accepted a negative cooldown")
	}
	bad = next
	bad.Prefix, bad.Daily = "!", "09:00"
	if err := b.SetLive(bad); err == nil {
		t.Error("SetLive turned the daily post on, which needs a restart")
	}
	if got := b.Config(); got.Prefix != "?" || got.UserCooldown != 0 || got.Daily != "" {
		t.Errorf("after refused changes, Config() has prefix %q, user cooldown %v, daily %q; want ?, 0 and none as last set", got.Prefix, got.UserCooldown, got.Daily)
	}
	c.send(":alice!a@host PRIVMSG #q :?quote #1")
	c.expect("PRIVMSG #q :Brevity")
}
