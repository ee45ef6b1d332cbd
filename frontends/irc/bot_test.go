package irc

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/reactor"
)

func TestBot_AnswersQuoteInChannel(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	// The quote is drawn at random: some take two or three lines, the
	// attribution and id on the last.
	lines := c.ask("!quote")
	if len(lines) == 0 || len(lines) > 3 {
		t.Fatalf("reply of %d lines %q, want 1 to 3", len(lines), lines)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, " — ") || !strings.Contains(last, "[#") {
		t.Errorf("reply %q does not end with an attribution and id", lines)
	}
}

func TestBot_AnswersPrivateMessageToTheUser(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG quotesd :!quote Simplify")
	if got := c.expect("PRIVMSG "); !strings.HasPrefix(got, "PRIVMSG alice :Simplify, simplify. — Henry David Thoreau, Walden (1854) [#") {
		t.Errorf("reply = %q, want Thoreau's quote sent to alice", got)
	}
}

// TestBot_Commands runs every command on days whose quotes differ in
// length: 2026-12-06's takes two lines, 2026-12-11's and 2026-11-16's are
// shorter than most (in quotertest's sample).
func TestBot_Commands(t *testing.T) {
	for _, day := range []string{"2026-12-06", "2026-12-11", "2026-11-16"} {
		t.Run(day, func(t *testing.T) {
			noon, err := time.Parse(time.DateTime, day+" 12:00:00")
			if err != nil {
				t.Fatal(err)
			}
			testCommandsOn(t, noon)
		})
	}
}

func testCommandsOn(t *testing.T, now time.Time) {
	lib := quotertest.NewLibrary(t)
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return now }}
	today := cal.Today()
	want, err := lib.Today(context.Background(), today, quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	yesterday, err := lib.Today(context.Background(), today.AddDays(-1), quoter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// start is the start of q's text as the bot sends it.
	start := func(q *quoter.Quote, n int) string {
		s := chat.Sanitize(strings.ReplaceAll(q.Text, "\n", " / "))
		return s[:min(n, len(s))]
	}
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), lib, cal)
	c := srv.accept()
	c.register("quotesd", "#q")
	tests := []struct{ ask, want string }{
		{"!quote #1", "PRIVMSG #q :Brevity is the soul of wit. — William Shakespeare, Hamlet [#1]"},
		{"!quote #99999", "PRIVMSG #q :no quote #99999"},
		{"!quote zzzyxnotaword", "PRIVMSG #q :no quote matches"},
		{"!quote stars gutter", "PRIVMSG #q :We are all in the gutter"},
		{"!today", "PRIVMSG #q :" + start(want, 20)},
		{"!yesterday", "PRIVMSG #q :" + today.AddDays(-1).String() + ": " + start(yesterday, 10)},
		{"!today 2999-01-01", "PRIVMSG #q :that day has not come yet: try !today"},
		{"!today 2025-02-30", "PRIVMSG #q :a date looks like 2025-03-14"},
		{"!help", "PRIVMSG #q :!quote: a random quote"},
	}
	for _, tt := range tests {
		// A reply may take up to three lines (today's quote may be long).
		if got := c.ask(tt.ask); len(got) == 0 || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("%s: reply %q, want it to start %q", tt.ask, got, tt.want)
		}
	}
}

func TestBot_NeverAnswersNotice(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host NOTICE #q :!quote")
	c.send(":alice!a@host NOTICE quotesd :!quote")
	c.none(300*time.Millisecond, "PRIVMSG")
	c.none(0, "NOTICE")
}

func TestBot_CTCPVersionAnsweredOthersIgnored(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG quotesd :\x01PING 12345\x01")
	c.send(":alice!a@host PRIVMSG quotesd :\x01VERSION\x01")
	if got := c.expect("NOTICE "); got != "NOTICE alice :\x01VERSION quotesd test\x01" {
		t.Errorf("VERSION reply = %q", got)
	}
	c.send(":bob!b@host PRIVMSG quotesd :\x01VERSION\x01") // within the 10 s limit
	c.none(300*time.Millisecond, "NOTICE")
}

// A quote whose text holds a line break followed by a command must come
// out as text on the same line, never as a second line the server would
// execute.
func TestBot_LineBreakInQuoteNeverMakesAnExtraLine(t *testing.T) {
	lib := quotertest.NewLibrary(t, quoter.Quote{Text: "first line\r\nQUIT :owned\nJOIN #evil", Author: "Mallory", Lang: "en"})
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), lib, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	if got, want := c.expect("PRIVMSG #q :"), "PRIVMSG #q :first line / QUIT :owned / JOIN #evil — Mallory [#1]"; got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	c.send(":alice!a@host PRIVMSG #q :!help")
	c.expect("PRIVMSG #q :!quote")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.all {
		if strings.HasPrefix(l, "QUIT") || strings.HasPrefix(l, "JOIN #evil") {
			t.Errorf("the quote's text was sent as a command: %q", l)
		}
	}
}

// Long quotes are cut into at most three lines on word boundaries, each of
// which still fits in 512 bytes once the server prefixes it with our full
// nick!user@host as it relays it.
func TestBot_LongQuoteSplitWithinTheLineLimit(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote dull boy")
	relay := len(":quotesd!bot@127.0.0.1 ")
	var lines []string
	for i := 0; i < 3; i++ {
		lines = append(lines, c.expect("PRIVMSG #q :"))
	}
	for _, l := range lines {
		if n := relay + len(l) + 2; n > MaxLine {
			t.Errorf("relayed line is %d bytes, over %d: %q", n, MaxLine, l)
		}
		if strings.HasSuffix(l, " Jack a dull b") {
			t.Errorf("line %q is cut inside a word", l)
		}
	}
	// Cut, but still attributed: the quote's text ends in an ellipsis and
	// the reply in its author, source and number.
	if !strings.Contains(lines[2], "… — James Howell, Proverbs (") || !regexp.MustCompile(`\(1659\) \[#\d+\]$`).MatchString(lines[2]) {
		t.Errorf("third line %q: want the cut text's ellipsis, then the attribution and the quote's number", lines[2])
	}
	c.none(300*time.Millisecond, "PRIVMSG #q")
}

func TestBot_CooldownDropsExcessInSilence(t *testing.T) {
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.UserCooldown = time.Hour
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	for i := 0; i < 5; i++ {
		c.send(":alice!a@host PRIVMSG #q :!quote #1")
	}
	c.expect("PRIVMSG #q :Brevity")
	c.none(300*time.Millisecond, "PRIVMSG")
	c.send(":bob!b@other PRIVMSG #q :!quote #1") // another user still gets an answer
	c.expect("PRIVMSG #q :Brevity")
}

func TestBot_MalformedServerLinesAreSkipped(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send("@a ")           // panics irc.v4's parser
	c.send(":irc.test 001") // 001 without a nick
	c.send(":only-a-prefix")
	c.send(":irc.test PRIVMSG") // too few parameters
	c.send(":x!y@z KICK #q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	c.expect("PRIVMSG #q :Brevity")
}

func TestBot_RejoinsAfterKickIgnoresOtherInvites(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":op!o@host INVITE quotesd #elsewhere")
	c.send(":op!o@host KICK #q quotesd :out")
	c.expect("JOIN #q")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.all {
		if strings.Contains(l, "#elsewhere") {
			t.Errorf("followed an invitation to an unconfigured channel: %q", l)
		}
	}
}

func TestBot_NickRefusedUsesAlternativeAndRegains(t *testing.T) {
	tests := []struct{ code, alt string }{
		{"433", "NICK :quotesd_"}, // in use: irc.v4 appends _
		{"432", "NICK quotesd1"},  // erroneous
		{"436", "NICK quotesd1"},  // collision
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv := newFakeServer(t, nil)
			runBot(t, testConfig(srv.Addr()), nil, nil)
			c := srv.accept()
			c.expect("NICK ")
			c.expect("USER ")
			c.send(":irc.test %s * quotesd :Nickname refused", tt.code)
			alt := strings.TrimPrefix(strings.TrimPrefix(c.expect(tt.alt), "NICK "), ":")
			c.send(":irc.test 001 %s :Welcome", alt)
			c.expect("JOIN #q")
			c.send(":%s!bot@127.0.0.1 JOIN #q", alt)
			c.send(":quotesd!x@elsewhere QUIT :gone") // the holder leaves
			c.expect("NICK quotesd")
			c.send(":%s!bot@127.0.0.1 NICK quotesd", alt)
			c.send(":alice!a@host PRIVMSG quotesd :!quote #1")
			c.expect("PRIVMSG alice :Brevity")
		})
	}
}

func TestBot_SilentServerIsDroppedAndReconnected(t *testing.T) {
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.PingInterval = 200 * time.Millisecond // and 100 ms to answer
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.expect("PING :quotesd-") // our own liveness check; never answered
	c.closed()
	c2 := srv.accept()
	c2.register("quotesd", "#q")
}

func TestBot_ReconnectsAfterDisconnectMidRegistration(t *testing.T) {
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), nil, nil)
	c := srv.accept()
	c.expect("NICK ")
	c.conn.Close()
	c2 := srv.accept()
	c2.register("quotesd", "#q")
	c2.send(":alice!a@host PRIVMSG #q :!quote #1")
	c2.expect("PRIVMSG #q :Brevity")
}

func TestBot_ServerPasswordSentAndRefusalIsPermanent(t *testing.T) {
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.Password = "s3cret"
	run := runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.expect("PASS :s3cret")
	c.send(":irc.test 464 * :Password incorrect")
	if err := run.wait(t); !reactor.IsPermanent(err) || !strings.Contains(err.Error(), "password refused") {
		t.Errorf("Serve = %v, want a permanent error about the password", err)
	}
	srv.noConnection(200 * time.Millisecond)
}

// saslServer plays the IRCv3 SASL exchange up to the AUTHENTICATE payload
// and returns the decoded payload.
func saslServer(t *testing.T, c *fakeConn) string {
	t.Helper()
	c.expect("CAP LS 302")
	c.send(":irc.test CAP * LS * :multi-prefix")
	c.send(":irc.test CAP * LS :sasl=PLAIN,EXTERNAL server-time")
	c.expect("CAP REQ :sasl")
	c.send(":irc.test CAP * ACK :sasl")
	c.expect("AUTHENTICATE PLAIN")
	c.send("AUTHENTICATE +")
	payload := strings.TrimPrefix(c.expect("AUTHENTICATE "), "AUTHENTICATE ")
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("AUTHENTICATE payload %q: %v", payload, err)
	}
	return string(raw)
}

func saslConfig(t *testing.T, addr string) Config {
	cfg := testConfig(addr)
	cfg.TLS = true
	cfg.TLSConfig = &tls.Config{RootCAs: testCertPool(t), ServerName: "irc.test"}
	cfg.SASLUser = "bot"
	cfg.SASLPassword = "hunter2"
	return cfg
}

func TestBot_SASLPlainOverTLS(t *testing.T) {
	srv := newFakeServer(t, testServerTLS(t))
	runBot(t, saslConfig(t, srv.Addr()), nil, nil)
	c := srv.accept()
	if got := saslServer(t, c); got != "bot\x00bot\x00hunter2" {
		t.Errorf("SASL PLAIN payload = %q", got)
	}
	c.send(":irc.test 900 * * bot :You are now logged in as bot")
	c.send(":irc.test 903 * :SASL authentication successful")
	c.expect("CAP END")
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	c.expect("PRIVMSG #q :Brevity")
}

func TestBot_SASLFailureIsPermanent(t *testing.T) {
	srv := newFakeServer(t, testServerTLS(t))
	run := runBot(t, saslConfig(t, srv.Addr()), nil, nil)
	c := srv.accept()
	saslServer(t, c)
	c.send(":irc.test 904 * :SASL authentication failed")
	if err := run.wait(t); !reactor.IsPermanent(err) || !strings.Contains(err.Error(), "904") {
		t.Errorf("Serve = %v, want a permanent error naming 904", err)
	}
	srv.noConnection(200 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.all {
		if strings.HasPrefix(l, "CAP END") || strings.HasPrefix(l, "NICK") {
			t.Errorf("registration went on after SASL failed: %q", l)
		}
	}
}

func TestBot_TLSCertificateIsVerified(t *testing.T) {
	srv := newFakeServer(t, testServerTLS(t))
	cfg := testConfig(srv.Addr())
	cfg.TLS = true // system roots: the test certificate is not trusted
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.none(300*time.Millisecond, "NICK") // the handshake fails; nothing is sent
}

func TestBot_DailyPostOncePerDayAcrossReconnects(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "irc-daily.json")
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return now }}
	if err := os.WriteFile(state, []byte(`{"#q":"2025-03-13"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.Daily = "09:00"
	cfg.DailyStateFile = state
	runBot(t, cfg, nil, cal)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.expect("PRIVMSG #q :Quote of the day: ")
	c.conn.Close()
	c2 := srv.accept()
	c2.register("quotesd", "#q")
	c2.send(":alice!a@host PRIVMSG #q :!quote #1")
	if got := c2.expect("PRIVMSG #q :"); !strings.Contains(got, "Brevity") {
		t.Errorf("after reconnecting the same day the bot said %q, want only the answer", got)
	}
	b, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(b), `"#q":"2025-03-14"`) {
		t.Errorf("state file = %s, %v; want #q posted on 2025-03-14", b, err)
	}
}

// sharedClaims is the record of daily posts that replicas share, kept in
// memory: the one on PostgreSQL is tested in package lease and end to end.
type sharedClaims struct {
	mu   sync.Mutex
	last map[string]quoter.Date
	err  error // every claim fails with it when set
}

func (c *sharedClaims) ClaimDaily(_ context.Context, channel string, day quoter.Date) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false, c.err
	}
	if last, ok := c.last[channel]; ok && !last.Before(day) {
		return false, nil
	}
	c.last[channel] = day
	return true, nil
}

// With a shared record, a bot that starts after the posting time posts if
// no replica has, and not if one has; neither keeps a state file.
func TestBot_DailyPostClaimedOnceAcrossBotsSharingTheRecord(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return now }}
	claims := &sharedClaims{last: map[string]quoter.Date{"#other": {Year: 2025, Month: 3, Day: 14}}}
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Daily = "09:00"
	cfg.DailyClaims = claims
	runBot(t, cfg, nil, cal)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.expect("PRIVMSG #q :Quote of the day: ")
	if got, want := claims.last["#q"], (quoter.Date{Year: 2025, Month: 3, Day: 14}); got != want {
		t.Errorf("claimed #q for %v, want %v", got, want)
	}

	second := newFakeServer(t, nil) // another replica's bot, started later
	cfg.Server = second.Addr()
	runBot(t, cfg, nil, cal)
	c2 := second.accept()
	c2.register("quotesd", "#q")
	c2.send(":alice!a@host PRIVMSG #q :!quote #1")
	if got := c2.expect("PRIVMSG #q :"); !strings.Contains(got, "Brevity") {
		t.Errorf("a second bot on the same record said %q, want only the answer", got)
	}
	c2.none(300*time.Millisecond, "PRIVMSG #q :Quote of the day")
}

func TestBot_DailyPostNotSentWhenTheClaimFails(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	cal := &quoter.Calendar{Location: time.UTC, Now: func() time.Time { return now }}
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Daily = "09:00"
	cfg.DailyClaims = &sharedClaims{err: errors.New("database unreachable")}
	runBot(t, cfg, nil, cal)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	if got := c.expect("PRIVMSG #q :"); !strings.Contains(got, "Brevity") {
		t.Errorf("with the record unreachable the bot said %q, want only the answer", got)
	}
	c.none(300*time.Millisecond, "PRIVMSG #q :Quote of the day")
}

// New checks its Config as Validate does (config_test.go has the cases),
// and needs a server to connect to.
func TestNew_RejectsBadSettings(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"no server":    func(c *Config) { c.Server = "" },
		"no port":      func(c *Config) { c.Server = "irc.test" },
		"bad nick":     func(c *Config) { c.Nick = "1bad nick" },
		"bad daily":    func(c *Config) { c.Daily = "25:00" },
		"no backoff":   func(c *Config) { c.BackoffMin = 0 },
		"no SendBurst": func(c *Config) { c.SendBurst = 0 },
	} {
		cfg := DefaultConfig()
		cfg.Server = "irc.test:6697"
		change(&cfg)
		if _, err := New(cfg, nil, nil, nil); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestParseChannels(t *testing.T) {
	got, err := ParseChannels("#a, #b key ,&c")
	if err != nil {
		t.Fatal(err)
	}
	want := []Channel{{Name: "#a"}, {Name: "#b", Key: "key"}, {Name: "&c"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("channel %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"nochan", "#a b c", "#a\r\nQUIT"} {
		if _, err := ParseChannels(bad); err == nil {
			t.Errorf("ParseChannels(%q) accepted", bad)
		}
	}
}

func TestJoinParams_KeyedFirst(t *testing.T) {
	got := joinParams([]Channel{{Name: "#a"}, {Name: "#b", Key: "k"}})
	if len(got) != 1 || strings.Join(got[0], " ") != "#b,#a k" {
		t.Errorf("joinParams = %q, want [[#b,#a k]]", got)
	}
}

func TestBot_CountsAnsweredAndDroppedCommands(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig("")
	srv := newFakeServer(t, nil)
	cfg.Server = srv.Addr()
	cfg.UserCooldown = time.Hour
	cfg.Metrics = reg
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	c.expect("PRIVMSG #q :Brevity")
	c.send(":bob!b@host PRIVMSG #q :!help")
	c.expect("PRIVMSG #q :!quote")
	for _, tt := range []struct {
		name, label string
		want        float64
	}{
		{"quotesd_irc_commands_total", "id", 1},
		{"quotesd_irc_commands_total", "help", 1},
		{"quotesd_irc_dropped_total", "user_cooldown", 1},
		{"quotesd_irc_connected", "", 1},
		{"quotesd_irc_connects_total", "", 1},
	} {
		if got := metricValue(t, reg, tt.name, tt.label); got != tt.want {
			t.Errorf("%s{%s} = %v, want %v", tt.name, tt.label, got, tt.want)
		}
	}
}

// metricValue returns the value of the metric name whose one label has
// the value label ("" for a metric without labels).
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() != label {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func TestBot_LibraryFailureIsAnsweredWithSilence(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	srv := newFakeServer(t, nil)
	runBot(t, testConfig(srv.Addr()), lib, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	if err := lib.Close(); err != nil { // every lookup now fails inside the store
		t.Fatal(err)
	}
	c.send(":alice!a@host PRIVMSG #q :!quote")
	c.send(":alice!a@host PRIVMSG #q :!quote #1")
	c.none(300*time.Millisecond, "PRIVMSG")
}
