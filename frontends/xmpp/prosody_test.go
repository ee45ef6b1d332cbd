package xmpp

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/xmpp/prosodytest"
	"github.com/quotesd/quotesd/logs/logstest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/reactor"
)

// These tests run the bot in process against a real XMPP server no one
// here wrote (Debian's Prosody, with its limits module on), through
// STARTTLS with the certificate checked and SCRAM.

// room is the room the tests' bot joins.
var testRoom = prosodytest.Room("quotes")

// startBot registers the account "bot", and runs a bot as it with
// production settings but quick reconnects, no cooldowns and no pacing,
// in testRoom; tweak changes the configuration first.
func startBot(t *testing.T, srv *prosodytest.Server, tweak func(*Config)) *logstest.Buffer {
	t.Helper()
	return startBotOn(t, srv, quotertest.NewLibrary(t), tweak)
}

func startBotOn(t *testing.T, srv *prosodytest.Server, lib quoter.Library, tweak func(*Config)) *logstest.Buffer {
	t.Helper()
	logs, stop := runBot(t, srv, lib, tweak)
	t.Cleanup(stop)
	return logs
}

// runBot runs the bot as startBotOn does, until stop is called.
func runBot(t *testing.T, srv *prosodytest.Server, lib quoter.Library, tweak func(*Config)) (logs *logstest.Buffer, stop func()) {
	t.Helper()
	srv.Register("bot", prosodytest.Password("bot"))
	cfg := DefaultConfig()
	cfg.JID, cfg.Password = "bot@"+prosodytest.Domain, prosodytest.Password("bot")
	cfg.Server, cfg.CAFile = srv.Addr, srv.CAFile
	cfg.Rooms = []Room{{JID: testRoom, Nick: "quotesd"}}
	cfg.BackoffMin, cfg.BackoffMax = 200*time.Millisecond, 2*time.Second
	cfg.UserCooldown, cfg.RoomCooldown, cfg.SendInterval = 0, 0, 0
	cfg.Version = "test"
	if tweak != nil {
		tweak(&cfg)
	}
	logs = &logstest.Buffer{}
	b, err := New(cfg, lib, nil, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.Serve(ctx); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	return logs, func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
	}
}

// waitOccupant waits until c sees nick enter testRoom.
func waitOccupant(t *testing.T, c *prosodytest.Client, nick string) {
	t.Helper()
	c.Expect(15*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "presence" && s.From == testRoom+"/"+nick && s.Type == ""
	})
}

// fromBot matches a message from the bot in testRoom holding substr.
func fromBot(substr string) func(prosodytest.Stanza) bool {
	return prosodytest.Body(testRoom+"/quotesd", substr)
}

func TestProsody_AnswersQuoteInRoomAndInChat(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	startBot(t, srv, nil)
	waitOccupant(t, alice, "quotesd")

	alice.Say(testRoom, "!quote")
	got := alice.Expect(10*time.Second, fromBot("[#"))
	if got.Type != "groupchat" {
		t.Errorf("answer of type %q, want groupchat", got.Type)
	}

	alice.Chat("bot@"+prosodytest.Domain, "!quote")
	got = alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "message" && strings.HasPrefix(s.From, "bot@"+prosodytest.Domain+"/") && strings.Contains(s.Body, "[#")
	})
	if got.Type != "chat" {
		t.Errorf("1:1 answer of type %q, want chat", got.Type)
	}
}

// botJID asks the bot for a quote in a 1:1 chat and returns the full JID
// that answered.
func botJID(t *testing.T, c *prosodytest.Client) string {
	t.Helper()
	c.Chat("bot@"+prosodytest.Domain, "!quote")
	return c.Expect(10*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "message" && strings.HasPrefix(s.From, "bot@"+prosodytest.Domain+"/")
	}).From
}

// quiet fails the test if c receives a message from the bot within d.
func quiet(t *testing.T, c *prosodytest.Client, d time.Duration, why string) {
	t.Helper()
	if s, ok := c.Wait(d, func(s prosodytest.Stanza) bool {
		return s.Kind == "message" && (strings.HasPrefix(s.From, testRoom+"/quotesd") || strings.HasPrefix(s.From, "bot@"))
	}); ok {
		t.Errorf("%s: the bot said %q", why, s.Body)
	}
}

func TestProsody_IgnoresErrorsHeadlinesHistoryAndItself(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	startBot(t, srv, nil)
	waitOccupant(t, alice, "quotesd")
	full := botJID(t, alice)

	// The help text names commands: were the bot to read its own echo
	// in the room, it would answer it.
	alice.Say(testRoom, "!help")
	alice.Expect(10*time.Second, fromBot("quote"))
	quiet(t, alice, time.Second, "after its own answer")

	stamp := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	alice.SendRaw(`<message to="` + full + `" type="error"><body>!quote</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	alice.SendRaw(`<message to="` + full + `" type="headline"><body>!quote</body></message>`)
	alice.SendRaw(`<message to="` + full + `" type="chat"><body>!quote</body><delay xmlns="urn:xmpp:delay" stamp="` + stamp + `"/></message>`)
	alice.SendRaw(`<message to="` + testRoom + `" type="groupchat"><body>!quote</body><delay xmlns="urn:xmpp:delay" stamp="` + stamp + `"/></message>`)
	alice.SendRaw(`<message to="` + full + `" type="chat"><body>!quote</body><x xmlns="jabber:x:delay" stamp="20200101T00:00:00"/></message>`)
	quiet(t, alice, 2*time.Second, "after an error, a headline and delayed messages")

	// History: what was said before the bot joined is not answered.
	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
}

func TestProsody_Cooldowns(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	bob := srv.Client("bob")
	bob.Join(testRoom, "bob")
	startBot(t, srv, func(c *Config) { c.UserCooldown, c.RoomCooldown = time.Hour, 0 })
	waitOccupant(t, alice, "quotesd")

	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
	alice.Say(testRoom, "!quote")
	quiet(t, alice, 1500*time.Millisecond, "a second command within the user's cooldown")
	bob.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
}

func TestProsody_RejoinsAfterKick(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice") // the room's creator: its owner, who may kick
	alice.Join(testRoom, "alice")
	logs := startBot(t, srv, func(c *Config) { c.RejoinDelay = 500 * time.Millisecond })
	waitOccupant(t, alice, "quotesd")

	alice.Kick(testRoom, "quotesd")
	alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "presence" && s.From == testRoom+"/quotesd" && s.Type == "unavailable" && prosodytest.HasStatus(s, "307")
	})
	start := time.Now()
	waitOccupant(t, alice, "quotesd")
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("rejoined %v after the kick, want after the 500ms rejoin delay", d)
	}
	if !strings.Contains(logs.String(), "xmpp kicked from room") {
		t.Error("the kick was not logged")
	}
	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
}

func TestProsody_ReconnectsAfterServerRestart(t *testing.T) {
	srv := prosodytest.Start(t)
	logs := startBot(t, srv, nil)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	waitOccupant(t, alice, "quotesd")

	srv.Restart()
	alice = srv.Connect("alice")
	alice.Join(testRoom, "alice")
	waitOccupant(t, alice, "quotesd")
	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
	if !strings.Contains(logs.String(), "xmpp disconnected") {
		t.Error("the disconnection was not logged")
	}
}

func TestProsody_NicknameTakenThenRegained(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	holder := srv.Client("holder")
	holder.Join(testRoom, "quotesd")
	startBot(t, srv, nil)
	waitOccupant(t, alice, "quotesd_")

	holder.SendRaw(`<presence type="unavailable" to="` + testRoom + `/quotesd"/>`)
	// The bot takes its nickname back as soon as its holder leaves.
	alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "presence" && s.From == testRoom+"/quotesd_" && s.Type == "unavailable" && prosodytest.HasStatus(s, "303")
	})
	waitOccupant(t, alice, "quotesd")
	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
}

func TestProsody_NicknameRegainedOnInterval(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	holder := srv.Client("holder")
	holder.Join(testRoom, "quotesd")
	startBot(t, srv, func(c *Config) { c.RegainInterval = 300 * time.Millisecond })
	waitOccupant(t, alice, "quotesd_")
	// A refused attempt leaves the bot where it is.
	time.Sleep(time.Second)
	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, prosodytest.Body(testRoom+"/quotesd_", "[#"))

	// The holder disconnects without a word the bot could see first:
	// the next attempt takes the nickname.
	holder.Close()
	waitOccupant(t, alice, "quotesd")
}

func TestProsody_VersionAtBoundedRateAndPing(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	startBot(t, srv, func(c *Config) { c.VersionPeriod = time.Hour })
	waitOccupant(t, alice, "quotesd")
	full := botJID(t, alice)

	alice.SendRaw(`<iq type="get" id="v1" to="` + full + `"><query xmlns="jabber:iq:version"/></iq>`)
	got := alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool { return s.Kind == "iq" && strings.Contains(s.Raw, `id="v1"`) })
	if got.Type != "result" || !strings.Contains(got.Raw, ">quotesd</name>") || !strings.Contains(got.Raw, ">test</version>") {
		t.Errorf("version answer %s, want a result naming quotesd test", got.Raw)
	}
	alice.SendRaw(`<iq type="get" id="v2" to="` + full + `"><query xmlns="jabber:iq:version"/></iq>`)
	got = alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool { return s.Kind == "iq" && strings.Contains(s.Raw, `id="v2"`) })
	if got.Type != "error" {
		t.Errorf("second version query within the interval answered %s, want an error", got.Raw)
	}
	alice.SendRaw(`<iq type="get" id="p1" to="` + full + `"><ping xmlns="urn:xmpp:ping"/></iq>`)
	got = alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool { return s.Kind == "iq" && strings.Contains(s.Raw, `id="p1"`) })
	if got.Type != "result" {
		t.Errorf("ping answered %s, want a result", got.Raw)
	}
}

func TestProsody_FloodFromManyUsersDoesNotGetTheBotDisconnected(t *testing.T) {
	// A tight rate for every client (the limits module throttles what it
	// reads from a connection), and the bot's production pacing and
	// cooldowns: a crowd asking at once is answered, within the limits,
	// and the bot stays on.
	srv := prosodytest.Start(t, prosodytest.Options{Rate: "2kb/s"})
	watcher := srv.Client("watcher")
	watcher.Join(testRoom, "watcher")
	d := DefaultConfig()
	logs := startBot(t, srv, func(c *Config) {
		c.UserCooldown, c.RoomCooldown, c.SendInterval, c.SendBurst = d.UserCooldown, 0, 200*time.Millisecond, d.SendBurst
	})
	waitOccupant(t, watcher, "quotesd")

	before := srv.LogCount("Client disconnected") // the harness's own probes
	const users, each = 12, 5
	var crowd []*prosodytest.Client
	for i := range users {
		name := "user" + string(rune('a'+i))
		c := srv.Client(name)
		c.Join(testRoom, name)
		crowd = append(crowd, c)
	}
	for range each {
		for _, c := range crowd {
			c.Say(testRoom, "!quote")
		}
	}
	// One answer per user: the rest fall to the user's cooldown.
	for i := range users {
		if _, ok := watcher.Wait(30*time.Second, fromBot("[#")); !ok {
			t.Fatalf("%d answers to %d users, want one each", i, users)
		}
	}
	quiet(t, watcher, 2*time.Second, "past one answer per user")
	if strings.Contains(logs.String(), "xmpp disconnected") {
		t.Errorf("the bot was disconnected during the flood")
	}
	if n := srv.LogCount("Client disconnected") - before; n != 0 {
		t.Errorf("prosody disconnected %d clients during the flood", n)
	}
}

func TestProsody_DirectTLS(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	logs := startBot(t, srv, func(c *Config) { c.Server, c.DirectTLS = srv.TLSAddr, true })
	waitOccupant(t, alice, "quotesd")
	alice.Say(testRoom, "!quote")
	alice.Expect(10*time.Second, fromBot("[#"))
	if !strings.Contains(logs.String(), "direct_tls=true") {
		t.Error("the connection was not logged as direct TLS")
	}
}

func TestProsody_UntrustedCertificateIsRefused(t *testing.T) {
	srv := prosodytest.Start(t)
	other := prosodytest.Start(t) // another self-signed certificate
	logs := startBot(t, srv, func(c *Config) { c.CAFile = other.CAFile })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "certificate signed by unknown authority") {
		if time.Now().After(deadline) {
			t.Fatal("no certificate failure logged within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "xmpp connected") {
		t.Error("the bot connected through a certificate it should not trust")
	}
}

func TestProsody_RefusedPasswordStopsTheBot(t *testing.T) {
	srv := prosodytest.Start(t)
	srv.Register("bot", "the real password")
	cfg := DefaultConfig()
	cfg.JID, cfg.Password = "bot@"+prosodytest.Domain, "a wrong password"
	cfg.Server, cfg.CAFile = srv.Addr, srv.CAFile
	logs := &logstest.Buffer{}
	b, err := New(cfg, quotertest.NewLibrary(t), nil, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = b.Serve(ctx)
	if !reactor.IsPermanent(err) || !strings.Contains(err.Error(), "not-authorized") {
		t.Errorf("Serve = %v, want a permanent error naming not-authorized; log:\n%s", err, logs)
	}
}

func TestProsody_DailyPostOnceADaySurvivingRestart(t *testing.T) {
	srv := prosodytest.Start(t)
	alice := srv.Client("alice")
	alice.Join(testRoom, "alice")
	// The state of a process that posted yesterday: today's post, due
	// since midnight, is made as soon as the bot is in the room.
	state := filepath.Join(t.TempDir(), "xmpp-daily.json")
	yesterday := (&quoter.Calendar{}).Today().AddDays(-1)
	if err := os.WriteFile(state, []byte(`{"`+testRoom+`":"`+yesterday.String()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	lib := quotertest.NewLibrary(t)
	daily := func(c *Config) { c.Daily, c.DailyStateFile = "00:00", state }
	_, stop := runBot(t, srv, lib, daily)
	alice.Expect(15*time.Second, fromBot("Quote of the day: "))
	stop()
	alice.Expect(10*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "presence" && s.From == testRoom+"/quotesd" && s.Type == "unavailable"
	})

	startBotOn(t, srv, lib, daily)
	waitOccupant(t, alice, "quotesd")
	quiet(t, alice, 2*time.Second, "a restart the same day")
}

// cancelOn is a log handler that cancels a context when a record with the
// message msg is logged, and passes every record on to next.
type cancelOn struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return h.Handler.Handle(ctx, r)
}

func (h cancelOn) WithAttrs(as []slog.Attr) slog.Handler {
	return cancelOn{h.Handler.WithAttrs(as), h.msg, h.cancel}
}

func (h cancelOn) WithGroup(name string) slog.Handler {
	return cancelOn{h.Handler.WithGroup(name), h.msg, h.cancel}
}

// A bot stopped as soon as its session is up (a replica that wins the
// lease and is told to shut down at once) closes that session while the
// stream's reader is only starting: Serve returns nil, without a data race
// between the close and the reader (under -race).
func TestProsody_StoppedAsItConnects(t *testing.T) {
	srv := prosodytest.Start(t)
	srv.Register("bot", prosodytest.Password("bot"))
	cfg := DefaultConfig()
	cfg.JID, cfg.Password = "bot@"+prosodytest.Domain, prosodytest.Password("bot")
	cfg.Server, cfg.CAFile = srv.Addr, srv.CAFile
	cfg.Rooms = []Room{{JID: testRoom, Nick: "quotesd"}}
	for range 5 {
		logs := &logstest.Buffer{}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		h := cancelOn{slog.NewTextHandler(logs, nil), "xmpp connected", cancel}
		b, err := New(cfg, quotertest.NewLibrary(t), nil, slog.New(h))
		if err != nil {
			t.Fatal(err)
		}
		err = b.Serve(ctx)
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		if err != nil || timedOut || !strings.Contains(logs.String(), "xmpp connected") {
			t.Fatalf("Serve = %v (timed out: %v), want nil soon after connecting; log:\n%s", err, timedOut, logs)
		}
	}
}
