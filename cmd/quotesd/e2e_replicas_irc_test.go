package main

// End-to-end test of the IRC bot among replicas: three `quotesd serve` on
// one PostgreSQL database, one bot on a real ngircd, one killed.

import (
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
)

func TestIRC_E2E_ReplicasOnPostgresOneBotTakesOverWithin15sAndPostsOnce(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	db := pgLibrary(t)
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")

	rs, stateDirs := startReplicas(t, db, 3, []string{"ops"}, func(stateDir string) []string {
		return append(offExcept("irc", "ops"),
			"--ops-addr", "127.0.0.1:0",
			"--state-dir", stateDir,
			"--irc-server", srv.Addr, "--irc-tls=false", "--irc-channels", "#quotes",
			"--irc-user-cooldown=0", "--irc-channel-cooldown=0",
			"--irc-daily", "00:00", // passed: the first leader posts today's quote
		)
	})
	alice.Expect(30*time.Second, "PRIVMSG #quotes :Quote of the day: ")
	time.Sleep(3 * time.Second) // more than a renewal: the followers have tried
	if got := bots(t, alice, "#quotes"); len(got) != 1 {
		t.Fatalf("bots in #quotes with three replicas: %q, want one", got)
	}
	leader, rest := theLeader(t, rs)

	alice.Drain()
	leader.Kill()
	killed := time.Now()
	alice.Expect(15*time.Second, " QUIT ") // ngircd saw the connection die
	var answer string
	for answer == "" && time.Since(killed) < 15*time.Second {
		alice.Send("PRIVMSG #quotes :!quote #1")
		answer, _ = alice.Wait(time.Second, "PRIVMSG #quotes :")
	}
	took := time.Since(killed)
	t.Logf("a bot answered !quote %v after the leader's SIGKILL", took.Round(time.Millisecond))
	if answer == "" {
		t.Fatalf("no bot answered !quote within 15s of the leader's SIGKILL")
	}
	if !strings.Contains(answer, "Brevity") {
		t.Errorf("the new bot's first words were %q, want the answer to !quote #1 (the daily post was sent already)", answer)
	}
	if _, again := alice.Wait(3*time.Second, "Quote of the day"); again {
		t.Error("the daily post was repeated after the failover")
	}
	if got := bots(t, alice, "#quotes"); len(got) != 1 {
		t.Errorf("bots in #quotes after the failover: %q, want one", got)
	}
	sum := 0.0
	for _, s := range rest {
		served := scrape(t, "http://"+s.Addr("ops"))
		checkLeaseMetricsDocumented(t, served)
		sum += served["quotesd_lease_leader"].GetMetric()[0].GetGauge().GetValue()
	}
	if sum != 1 {
		t.Errorf("sum of quotesd_lease_leader over the surviving replicas = %v, want 1", sum)
	}
	stopReplicas(t, rest, stateDirs, "irc-daily.json")
}

// checkLeaseMetricsDocumented holds a replica's quotesd_lease_* metrics to
// their table in docs/OPERATIONS.md: each listed metric served with the
// listed labels and label values, and none served unlisted.
func checkLeaseMetricsDocumented(t *testing.T, served map[string]*dto.MetricFamily) {
	t.Helper()
	docs := documentedTable(t, "| metric, with PostgreSQL")
	for name, d := range docs {
		mf := served[name]
		if mf == nil {
			t.Errorf("%s: in %s, not served", name, operationsDoc)
			continue
		}
		if got := strings.ToLower(mf.GetType().String()); got != d.kind {
			t.Errorf("%s: a %s, documented as a %s", name, got, d.kind)
		}
		var documented []string
		for label, values := range d.labels {
			documented = append(documented, label)
			slices.Sort(values)
			// A replica serves the roles of the services it runs (irc
			// here; xmpp and publish where those are on): each value it
			// serves must be documented.
			got := labelValues(mf, label)
			if values != nil && (len(got) == 0 || slices.ContainsFunc(got, func(v string) bool { return !slices.Contains(values, v) })) {
				t.Errorf("%s: label %s has the values %q, documented %q", name, label, got, values)
			}
		}
		slices.Sort(documented)
		if got := labelNames(mf); !slices.Equal(got, documented) {
			t.Errorf("%s: labels %q, documented %q", name, got, documented)
		}
	}
	for name := range served {
		if _, ok := docs[name]; !ok && strings.HasPrefix(name, "quotesd_lease_") {
			t.Errorf("%s: served, not in the table of %s", name, operationsDoc)
		}
	}
}
