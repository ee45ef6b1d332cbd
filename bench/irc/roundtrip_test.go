// Package ircbench measures the IRC bot's !quote round trip through a real
// IRC server (Debian's ngircd) on loopback: from the moment a client sends
// "PRIVMSG #bench :!quote" to the moment the bot's answer reaches it, both
// hops through ngircd included. Run it with bench/irc/run.sh.
package ircbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/irc"
	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// library is the library the bot answers from: $QUOTESD_BENCH_DB (the
// shipped quotes.db, say) or the test sample.
func library(b *testing.B) quoter.Library {
	if path := os.Getenv("QUOTESD_BENCH_DB"); path != "" {
		db, err := sqlite.Open(path, sqlite.ReadOnly())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	return quotertest.NewLibrary(b)
}

// startBot runs the bot in process on srv, in #bench, and waits until the
// clients see it there.
func startBot(b *testing.B, srv *ircdtest.Server, cfg irc.Config, watcher *ircdtest.Client) {
	cfg.Server, cfg.TLS = srv.Addr, false
	cfg.Nick = "quotesd"
	cfg.Channels = []irc.Channel{{Name: "#bench"}}
	bot, err := irc.New(cfg, library(b), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = bot.Serve(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	if !watcher.WaitMember(30*time.Second, "#bench", "quotesd") {
		b.Fatal("the bot did not join #bench")
	}
	// ngircd charges a second or two of penalty for JOIN and NAMES, and
	// holds the next commands of that client until it has passed: let it,
	// or the first round trips would measure ngircd's penalty box.
	time.Sleep(2500 * time.Millisecond)
}

// roundTrips sends n requests "PRIVMSG <to> :!quote", one at a time, each
// every interval at the earliest, rotating between the clients, and
// returns the latencies to the first line of each answer.
func roundTrips(b *testing.B, clients []*ircdtest.Client, to string, n int, interval time.Duration) []time.Duration {
	lat := make([]time.Duration, 0, n)
	next := time.Now()
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(next))
		next = time.Now().Add(interval)
		c := clients[i%len(clients)]
		c.Drain() // a line of an earlier answer must not pass for this one's
		start := time.Now()
		c.Send("PRIVMSG %s :!quote", to)
		if _, ok := c.Wait(10*time.Second, ":quotesd!"); !ok {
			b.Fatalf("request %d: no answer within 10s", i)
		}
		lat = append(lat, time.Since(start))
		// A long quote takes up to three lines: let the rest arrive
		// before the next request, so they are not taken for its answer.
		for {
			if _, ok := c.Wait(20*time.Millisecond, ":quotesd!"); !ok {
				break
			}
		}
	}
	return lat
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(float64(q(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(q(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(0, "ns/op") // the percentiles are the figures; ns/op would include the pauses
	fmt.Fprintf(os.Stderr, "%s: %d round trips: p50 %v, p99 %v, max %v\n", b.Name(), len(lat), q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
}

func dialClients(b *testing.B, srv *ircdtest.Server, n int) []*ircdtest.Client {
	var cs []*ircdtest.Client
	for i := 0; i < n; i++ {
		c := ircdtest.Dial(b, srv.Addr, fmt.Sprintf("bench%d", i))
		c.Join("#bench")
		cs = append(cs, c)
	}
	return cs
}

// BenchmarkRoundTrip_Production: the bot with its production settings
// (2 s pacing after a burst of 4, 10 s per-user and 3 s per-channel
// cooldowns), asked at the pace of a busy network: one !quote every 3.1 s,
// in private messages from four users in turn, so that no request meets a
// cooldown and each user's previous answer (up to three paced lines) is
// long complete when the user asks again. b.N is the number of requests
// (-benchtime=40x).
func BenchmarkRoundTrip_Production(b *testing.B) {
	srv := ircdtest.Start(b)
	clients := dialClients(b, srv, 4)
	startBot(b, srv, irc.DefaultConfig(), clients[0])
	b.ResetTimer()
	report(b, roundTrips(b, clients, "quotesd", b.N, 3100*time.Millisecond))
}

// BenchmarkRoundTrip_Unpaced: the bot's pacing and cooldowns off (as on a
// server of one's own that allows it), !quote in the channel from 8 users
// in turn, one request a second, so the figure is the bot's and ngircd's
// own latency. Faster is not better measured: ngircd holds back the
// commands of a connection that sends more than a few a second (its
// penalty mechanism), and an answer is up to three lines; at one request
// every 0.4 s the p99 was 122 ms and the worst 1.0 s of ngircd's penalty.
func BenchmarkRoundTrip_Unpaced(b *testing.B) {
	srv := ircdtest.Start(b)
	clients := dialClients(b, srv, 8)
	cfg := irc.DefaultConfig()
	cfg.SendInterval, cfg.UserCooldown, cfg.ChannelCooldown = 0, 0, 0
	startBot(b, srv, cfg, clients[0])
	b.ResetTimer()
	report(b, roundTrips(b, clients, "#bench", b.N, time.Second))
}

// BenchmarkRoundTrip_BareEcho is the baseline: instead of quotesd, a bare
// client named quotesd that answers every !quote in the channel at once
// with a fixed 200-byte line, no library, no checks. Same pace and clients
// as Unpaced: the difference between the two is what quotesd adds.
func BenchmarkRoundTrip_BareEcho(b *testing.B) {
	srv := ircdtest.Start(b)
	clients := dialClients(b, srv, 8)
	echo := ircdtest.Dial(b, srv.Addr, "quotesd")
	echo.Join("#bench")
	reply := "PRIVMSG #bench :" + strings.Repeat("All work and no play makes Jack a dull boy. ", 4) + "— James Howell [#1]"
	go func() {
		for {
			if _, ok := echo.Wait(time.Hour, ":!quote"); !ok {
				return
			}
			if echo.Raw(reply) != nil {
				return
			}
		}
	}()
	time.Sleep(2500 * time.Millisecond) // past ngircd's JOIN penalty, as in startBot
	b.ResetTimer()
	report(b, roundTrips(b, clients, "#bench", b.N, time.Second))
}
