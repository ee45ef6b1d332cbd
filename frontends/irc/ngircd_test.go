package irc

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"quotesd/frontends/irc/ircdtest"
	"quotesd/quoter/quotertest"
)

// These tests run the bot in process against a real IRC server no one here
// wrote (Debian's ngircd), with the bot's production pacing.

// logBuffer collects a bot's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startNgircdBot runs a bot with production settings (but quick first
// reconnect) against srv, in #quotes.
func startNgircdBot(t *testing.T, srv *ircdtest.Server, tweak func(*Config)) *logBuffer {
	t.Helper()
	cfg := Config{
		Server:     srv.Addr,
		Nick:       "quotesd",
		Channels:   []Channel{{Name: "#quotes"}},
		BackoffMin: 200 * time.Millisecond,
		BackoffMax: 5 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	logs := &logBuffer{}
	b, err := New(cfg, quotertest.NewLibrary(t), nil, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
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
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
	})
	return logs
}

func TestNgircd_AnswersQuoteAndComesBackAfterServerRestart(t *testing.T) {
	srv := ircdtest.Start(t)
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	// The channel cooldown would (rightly) drop bob's request when it
	// comes soon after alice's: it outlives connections.
	startNgircdBot(t, srv, func(c *Config) { c.ChannelCooldown = -1 })
	alice.Expect(30*time.Second, ":quotesd!")
	alice.Send("PRIVMSG #quotes :!quote")
	if got := alice.Expect(10*time.Second, "PRIVMSG #quotes :"); !strings.HasPrefix(got, ":quotesd!") || !strings.Contains(got, " [#") {
		t.Errorf("reply %q does not come from the bot or does not look like a quote", got)
	}

	srv.Restart()
	restarted := time.Now()
	bob := ircdtest.Dial(t, srv.Addr, "bob")
	bob.Join("#quotes")
	if !bob.WaitMember(time.Minute, "#quotes", "quotesd") {
		t.Fatal("the bot was not back in #quotes within a minute of the server restart")
	}
	t.Logf("back in the channel %v after the restart", time.Since(restarted).Round(time.Millisecond))
	bob.Send("PRIVMSG #quotes :!quote")
	bob.Expect(10*time.Second, "PRIVMSG #quotes :")
}

func TestNgircd_BurstOfCommandsDoesNotGetTheBotDisconnected(t *testing.T) {
	srv := ircdtest.Start(t)
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	// No cooldowns: every request the queue takes is answered, so only
	// the send pacing stands between the bot and ngircd's flood limits.
	logs := startNgircdBot(t, srv, func(c *Config) { c.UserCooldown, c.ChannelCooldown = -1, -1 })
	alice.Expect(30*time.Second, ":quotesd!")
	for i := 0; i < 20; i++ {
		alice.Send("PRIVMSG #quotes :!quote")
	}
	replies := 0
	for {
		line, ok := alice.Wait(8*time.Second, ":quotesd!")
		if !ok {
			break
		}
		if strings.Contains(line, " QUIT ") {
			t.Fatalf("the bot was disconnected: %s", line)
		}
		replies++
	}
	if replies < 5 {
		t.Errorf("%d reply lines to a burst of 20, want at least the burst and more (5)", replies)
	}
	alice.Send("PRIVMSG #quotes :!quote #1")
	alice.Expect(15*time.Second, "PRIVMSG #quotes :Brevity")
	if strings.Contains(logs.String(), "irc disconnected") {
		t.Errorf("the bot lost its connection during the burst:\n%s", logs.String())
	}
}

func TestNgircd_NickInUseFallsBackThenRegainsOnQuit(t *testing.T) {
	srv := ircdtest.Start(t)
	holder := ircdtest.Dial(t, srv.Addr, "quotesd")
	holder.Join("#quotes")
	watcher := ircdtest.Dial(t, srv.Addr, "watcher")
	watcher.Join("#quotes")
	startNgircdBot(t, srv, nil)
	if !watcher.WaitMember(30*time.Second, "#quotes", "quotesd_") {
		t.Fatal("the bot did not join as quotesd_ while quotesd was taken")
	}
	holder.Send("QUIT :bye")
	if got := watcher.Expect(10*time.Second, " NICK "); !strings.HasPrefix(got, ":quotesd_!") || !strings.HasSuffix(got, "quotesd") {
		t.Errorf("after the holder quit, saw %q; want quotesd_ to change its nick to quotesd", got)
	}
}
