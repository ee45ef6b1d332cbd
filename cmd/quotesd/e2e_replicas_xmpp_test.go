package main

// End-to-end test of the XMPP bot among replicas: three `quotesd serve` on
// one PostgreSQL database, configured with the same account and room, one
// bot on a real Prosody, one killed.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/frontends/xmpp/prosodytest"
)

// occupants follows who is in a room from the presences one occupant
// receives: the room sends every occupant each change of every other's
// presence (XEP-0045 section 7.2).
type occupants struct {
	c    *prosodytest.Client
	room string
	in   map[string]bool // nickname: in the room now
}

// bots returns the nicknames of the quotesd bots in the room now (the
// configured "quotesd", or the "quotesd_" a bot falls back to when it is
// taken), reading the presences received so far.
func (o *occupants) bots() []string {
	for {
		st, ok := o.c.Wait(0, func(s prosodytest.Stanza) bool {
			return s.Kind == "presence" && strings.HasPrefix(s.From, o.room+"/")
		})
		if !ok {
			break
		}
		o.in[strings.TrimPrefix(st.From, o.room+"/")] = st.Type != "unavailable" && st.Type != "error"
	}
	var out []string
	for nick, in := range o.in {
		if in && strings.HasPrefix(nick, "quotesd") {
			out = append(out, nick)
		}
	}
	slices.Sort(out)
	return out
}

// xmppSessions returns the full JIDs of the XMPP sessions a replica's bot
// opened, in order, from its "xmpp connected" log lines.
func xmppSessions(s *server) []string {
	var out []string
	for _, l := range s.Logs() {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["msg"] != "xmpp connected" {
			continue
		}
		j, _ := m["jid"].(string)
		out = append(out, j)
	}
	return out
}

// gaugeSum adds up the value of the gauge name with role=role over the
// replicas' /metrics.
func gaugeSum(t *testing.T, rs []*server, name, role string) float64 {
	t.Helper()
	sum := 0.0
	for _, s := range rs {
		mf := scrape(t, "http://"+s.Addr("ops"))[name]
		if mf == nil {
			t.Fatalf("%s: not served by a replica", name)
		}
		for _, m := range mf.GetMetric() {
			match := role == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetName() == "role" && l.GetValue() == role
			}
			if match {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func TestXMPP_E2E_ReplicasOnPostgresOneBotTakesOverWithin15sAndPostsOnce(t *testing.T) {
	e2eTool(t, "prosody")
	srv := prosodytest.Start(t)
	bot := xmppBot(t, srv)
	db := pgLibrary(t)
	room := prosodytest.Room("quotes")
	alice := srv.Client("alice")
	alice.Join(room, "alice")
	inRoom := &occupants{c: alice, room: room, in: map[string]bool{}}
	fromBot := room + "/quotesd" // "quotesd", or "quotesd_" if it was still taken
	daily := prosodytest.Body(fromBot, "Quote of the day: ")

	rs, stateDirs := startReplicas(t, db, 3, []string{"ops"}, func(stateDir string) []string {
		args := append(offExcept("xmpp", "ops"), bot...)
		return append(args,
			"--ops-addr", "127.0.0.1:0",
			"--state-dir", stateDir,
			"--xmpp-rooms", room+"/quotesd",
			"--xmpp-user-cooldown=0", "--xmpp-room-cooldown=0",
			"--tz", "UTC", "--xmpp-daily", "00:00", // passed: the first leader posts today's quote
		)
	})
	alice.Expect(30*time.Second, daily)
	time.Sleep(3 * time.Second) // more than a renewal: the followers have tried
	if _, again := alice.Wait(0, daily); again {
		t.Error("the daily post was sent twice by the first leader(s)")
	}
	if got := inRoom.bots(); len(got) != 1 {
		t.Fatalf("bots in the room with three replicas: %q, want one", got)
	}
	leader, rest := theLeader(t, rs)
	if n := len(xmppSessions(leader)); n != 1 {
		t.Errorf("the leader opened %d XMPP sessions, want 1", n)
	}
	for _, s := range rest {
		if got := xmppSessions(s); len(got) != 0 {
			t.Errorf("a follower connected to the XMPP server as %q, want not at all", got)
		}
	}
	first := xmppSessions(leader)[0]

	leader.Kill()
	killed := time.Now()
	if !eventually(5*time.Second, func() bool { return len(inRoom.bots()) == 0 }) {
		t.Errorf("bots in the room 5s after the leader's SIGKILL: %q; the server did not see the connection end", inRoom.bots())
	}
	var answer prosodytest.Stanza
	for answer.Body == "" && time.Since(killed) < 15*time.Second {
		alice.Say(room, "!quote #1")
		answer, _ = alice.Wait(time.Second, prosodytest.Body(fromBot, ""))
	}
	took := time.Since(killed)
	t.Logf("a bot answered !quote %v after the leader's SIGKILL", took.Round(time.Millisecond))
	if answer.Body == "" {
		t.Fatalf("no bot answered !quote within 15s of the leader's SIGKILL")
	}
	if !strings.Contains(answer.Body, "Brevity") {
		t.Errorf("the new bot's first words were %q, want the answer to !quote #1 (the daily post was sent already)", answer.Body)
	}
	if _, again := alice.Wait(4*time.Second, daily); again {
		t.Error("the daily post was repeated after the failover")
	}
	if got := inRoom.bots(); len(got) != 1 {
		t.Errorf("bots in the room after the failover: %q, want one", got)
	}

	// One new session, with a resource of its own: the account's two
	// logins never overlapped, and had they, neither would have replaced
	// the other (a resource the server makes up for each).
	var second []string
	for _, s := range rest {
		second = append(second, xmppSessions(s)...)
	}
	if len(second) != 1 {
		t.Fatalf("the surviving replicas opened XMPP sessions as %q, want one", second)
	}
	for _, j := range []string{first, second[0]} {
		if _, res, _ := strings.Cut(j, "/"); !strings.HasPrefix(j, "bot@"+prosodytest.Domain+"/") || res == "" {
			t.Errorf("the bot's session JID %q: want bot@%s/ and a resource", j, prosodytest.Domain)
		}
	}
	if first == second[0] {
		t.Errorf("both leaders' sessions were %q: want a resource each", first)
	}
	if got := gaugeSum(t, rest, "quotesd_lease_leader", "xmpp"); got != 1 {
		t.Errorf("sum of quotesd_lease_leader{role=\"xmpp\"} over the surviving replicas = %v, want 1", got)
	}
	if got := gaugeSum(t, rest, "quotesd_xmpp_connected", ""); got != 1 {
		t.Errorf("sum of quotesd_xmpp_connected over the surviving replicas = %v, want 1", got)
	}
	checkDailyClaims(t, db, "xmpp-daily:"+room)

	stopReplicas(t, rest, stateDirs, "xmpp-daily.json")
}

// checkDailyClaims holds the database's lease_claims to one claim, key,
// by the role xmpp, for today (in UTC, the replicas' --tz).
func checkDailyClaims(t *testing.T, dbURL, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT key, role, day::text FROM lease_claims ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var k, role, day string
		if err := rows.Scan(&k, &role, &day); err != nil {
			t.Fatal(err)
		}
		got = append(got, k+" "+role+" "+day)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := key + " xmpp " + time.Now().UTC().Format(time.DateOnly)
	if len(got) != 1 || got[0] != want {
		t.Errorf("lease_claims: %q, want one claim %q", got, want)
	}
}
