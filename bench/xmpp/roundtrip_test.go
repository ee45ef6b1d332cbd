// Package xmppbench measures the XMPP bot's !quote round trip through a
// real XMPP server (Debian's Prosody) on loopback: from the moment a
// client sends "!quote" to a room to the moment the bot's answer reaches
// it, both hops through Prosody's MUC included, over TLS. Run it with
// bench/xmpp/run.sh.
package xmppbench

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

	"github.com/quotesd/quotesd/frontends/xmpp"
	"github.com/quotesd/quotesd/frontends/xmpp/prosodytest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

var room = prosodytest.Room("bench")

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

// occupant waits until c sees nick in the room.
func occupant(b *testing.B, c *prosodytest.Client, nick string) {
	c.Expect(30*time.Second, func(s prosodytest.Stanza) bool {
		return s.Kind == "presence" && s.From == room+"/"+nick && s.Type == ""
	})
}

// startBot runs the bot in process on srv, in the room, pacing and
// cooldowns off, and waits until the clients see it there.
func startBot(b *testing.B, srv *prosodytest.Server, watcher *prosodytest.Client) {
	srv.Register("bot", prosodytest.Password("bot"))
	cfg := xmpp.DefaultConfig()
	cfg.JID, cfg.Password = "bot@"+prosodytest.Domain, prosodytest.Password("bot")
	cfg.Server, cfg.CAFile = srv.Addr, srv.CAFile
	cfg.Rooms = []xmpp.Room{{JID: room, Nick: "quotesd"}}
	cfg.SendInterval, cfg.UserCooldown, cfg.RoomCooldown = 0, 0, 0
	bot, err := xmpp.New(cfg, library(b), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = bot.Serve(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	occupant(b, watcher, "quotesd")
}

func clients(b *testing.B, srv *prosodytest.Server, n int) []*prosodytest.Client {
	var cs []*prosodytest.Client
	for i := range n {
		name := fmt.Sprintf("bench%d", i)
		c := srv.Client(name)
		c.Join(room, name)
		cs = append(cs, c)
	}
	return cs
}

// roundTrips sends n "!quote" to the room, one at a time, each every
// interval at the earliest, rotating between the clients, and returns the
// latencies to each answer.
func roundTrips(b *testing.B, cs []*prosodytest.Client, n int, interval time.Duration) []time.Duration {
	lat := make([]time.Duration, 0, n)
	next := time.Now()
	answer := prosodytest.Body(room+"/quotesd", "")
	for i := range n {
		time.Sleep(time.Until(next))
		next = time.Now().Add(interval)
		c := cs[i%len(cs)]
		c.Drain() // an earlier answer must not pass for this one's
		start := time.Now()
		c.Say(room, "!quote")
		if _, ok := c.Wait(10*time.Second, answer); !ok {
			b.Fatalf("request %d: no answer within 10s", i)
		}
		lat = append(lat, time.Since(start))
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

// interval is the pace of the requests: four a second from 8 users in
// turn, each user's every 2 s, well within Prosody's limits on what each
// connection sends (10 kB/s here).
const interval = 250 * time.Millisecond

// BenchmarkRoundTrip_Unpaced: the bot with pacing and cooldowns off (as on
// a server of one's own), !quote in the room from 8 users in turn, so the
// figure is the bot's and Prosody's own latency. b.N is the number of
// requests (-benchtime=200x).
func BenchmarkRoundTrip_Unpaced(b *testing.B) {
	srv := prosodytest.Start(b)
	cs := clients(b, srv, 8)
	startBot(b, srv, cs[0])
	b.ResetTimer()
	report(b, roundTrips(b, cs, b.N, interval))
}

// BenchmarkRoundTrip_BareEcho is the baseline: instead of quotesd, a bare
// client in the room as quotesd that answers every !quote at once with a
// fixed 200-byte message, no library, no checks, on the same client
// library. Same pace and clients as Unpaced: the difference between the
// two is what quotesd adds.
func BenchmarkRoundTrip_BareEcho(b *testing.B) {
	srv := prosodytest.Start(b)
	cs := clients(b, srv, 8)
	echo := srv.Client("echo")
	echo.Join(room, "quotesd")
	reply := strings.Repeat("All work and no play makes Jack a dull boy. ", 4) + "— James Howell [#1]"
	go func() {
		ask := func(s prosodytest.Stanza) bool {
			return s.Kind == "message" && s.Type == "groupchat" && s.Body == "!quote"
		}
		for {
			if _, ok := echo.Wait(time.Hour, ask); !ok {
				return
			}
			echo.Say(room, reply)
		}
	}()
	occupant(b, cs[0], "quotesd")
	b.ResetTimer()
	report(b, roundTrips(b, cs, b.N, interval))
}
