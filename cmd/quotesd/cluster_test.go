package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/irc"
	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/logs/logstest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// channelNicks asks the server who is in channel, through c (a member).
func channelNicks(t *testing.T, c *ircdtest.Client, channel string) []string {
	t.Helper()
	c.Drain()
	c.Send("NAMES %s", channel)
	line := c.Expect(10*time.Second, " 353 ")
	_, names, _ := strings.Cut(line[1:], " :")
	var nicks []string
	for _, n := range strings.Fields(names) {
		nicks = append(nicks, strings.TrimLeft(n, "~&@%+"))
	}
	return nicks
}

// bots returns the nicks in channel that are a quotesd bot's.
func bots(t *testing.T, c *ircdtest.Client, channel string) []string {
	t.Helper()
	var b []string
	for _, n := range channelNicks(t, c, channel) {
		if strings.HasPrefix(n, "quotesd") {
			b = append(b, n)
		}
	}
	return b
}

// The irc component as serve starts it with a PostgreSQL --db: two
// replicas, one bot in the channel, one daily post; when the leader shuts
// down the other's bot takes over without posting again.
func TestIRCStart_WithAClusterOnlyTheLeaseHolderRunsTheBot(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	dbURL := pgtest.NewDatabase(t)
	lib, err := openServeLibrary(writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })

	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")

	type replica struct {
		reg    *prometheus.Registry
		log    *logstest.Buffer
		cancel context.CancelFunc
		done   chan error
	}
	start := func() *replica {
		t.Helper()
		cl, err := openCluster(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		r := &replica{reg: prometheus.NewRegistry(), log: &logstest.Buffer{}, done: make(chan error, 1)}
		env := &serveEnv{
			Library: lib, Calendar: &quoter.Calendar{Location: time.UTC},
			Log: slog.New(slog.NewTextHandler(r.log, nil)), Metrics: r.reg, Cluster: cl,
		}
		cfg := irc.DefaultConfig()
		cfg.Server, cfg.TLS = srv.Addr, false
		cfg.Channels = []irc.Channel{{Name: "#quotes"}}
		cfg.UserCooldown, cfg.ChannelCooldown = 0, 0
		cfg.Daily = "00:00" // passed: the first leader posts
		_, svcs, err := ircStart(env, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(svcs) != 1 || !strings.HasPrefix(svcs[0].(interface{ String() string }).String(), "lease-irc") {
			t.Fatalf("ircStart with a cluster returned %v, want the bot's lease", svcs)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		go func() { r.done <- svcs[0].Serve(ctx) }()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}

	a := start()
	alice.Expect(30*time.Second, "PRIVMSG #quotes :Quote of the day: ")
	b := start()
	time.Sleep(2 * time.Second) // b campaigns at once and again each Renew
	if got := bots(t, alice, "#quotes"); len(got) != 1 {
		t.Fatalf("bots in #quotes with two replicas: %q, want one", got)
	}

	a.cancel()
	if err := <-a.done; err != nil {
		t.Fatalf("the leader's shutdown returned %v", err)
	}
	a.done <- nil // for the cleanup
	alice.Expect(15*time.Second, " JOIN ")
	alice.Send("PRIVMSG #quotes :!quote #1")
	if got := alice.Expect(10*time.Second, "PRIVMSG #quotes :"); !strings.Contains(got, "Brevity") {
		t.Errorf("the new leader's bot said %q, want the answer to !quote #1 (and no second daily post)", got)
	}
	if got := bots(t, alice, "#quotes"); len(got) != 1 {
		t.Errorf("bots in #quotes after the failover: %q, want one", got)
	}
	if _, again := alice.Wait(2*time.Second, "Quote of the day"); again {
		t.Error("the daily post was repeated after the failover")
	}
	for name, r := range map[string]*replica{"a": a, "b": b} {
		want := map[string]float64{"a": 0, "b": 1}[name]
		if got := gaugeValue(t, r.reg, "quotesd_lease_leader"); got != want {
			t.Errorf("replica %s: quotesd_lease_leader = %v, want %v", name, got, want)
		}
	}
}

// gaugeValue returns the value of the one series of a gauge in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}
