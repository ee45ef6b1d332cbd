package irc

import (
	"context"
	"github.com/quotesd/quotesd/logs/logstest"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// These tests run the bot in process against a real IRC server no one here
// wrote (Debian's ngircd), with the bot's production pacing, for what the
// end-to-end tests through the binary (cmd/quotesd/e2e_irc_test.go: an
// answer, a server restart, a burst of 20) do not cover.

// logBuffer collects log output from several goroutines.
type logBuffer = logstest.Buffer

// startNgircdBot runs a bot with production settings (but quick first
// reconnect) against srv, in #quotes.
func startNgircdBot(t *testing.T, srv *ircdtest.Server, tweak func(*Config)) *logBuffer {
	t.Helper()
	return startNgircdBotOn(t, srv, quotertest.NewLibrary(t), tweak)
}

// startNgircdBotOn is startNgircdBot on the library lib.
func startNgircdBotOn(t *testing.T, srv *ircdtest.Server, lib quoter.Library, tweak func(*Config)) *logBuffer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Server, cfg.TLS = srv.Addr, false
	cfg.Channels = []Channel{{Name: "#quotes"}}
	cfg.BackoffMin, cfg.BackoffMax = 200*time.Millisecond, 5*time.Second
	if tweak != nil {
		tweak(&cfg)
	}
	logs := &logBuffer{}
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
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
	})
	return logs
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
