package main

import (
	"context"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// startReplica starts `quotesd serve` on the PostgreSQL library at db with
// the web (admin token set) and operations listeners.
func startReplica(t *testing.T, db, token string) (web, ops string) {
	t.Helper()
	args := append(offExcept("web", "ops"), "--web-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0",
		"--state-dir", t.TempDir(), "--web-admin-token-file", token)
	s := startServe(t, db, []string{"web", "ops"}, args...)
	return "http://" + s.Addr("web"), "http://" + s.Addr("ops")
}

// eventually polls cond every 20 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// Three replicas serve one PostgreSQL library: they agree on the quote of
// the day, a quote added through one is served by the others within a
// second (in what they keep in memory too: the tags, the tag's quote of
// the day), and a replica cut off from the database keeps serving the
// day's quote, says so on /readyz, and recovers on its own.
func TestPostgresE2E_ReplicasShareOneLibrary(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	if _, stderr, code := runQuotesd(t, nil, "migrate", "--from", tempLibrary(t), "--to", dbURL); code != 0 {
		t.Fatalf("quotesd migrate: exit %d: %s", code, stderr)
	}
	token := writeToken(t)
	var webs, opss []string
	for _, name := range []string{"replica_a", "replica_b", "replica_c"} {
		web, ops := startReplica(t, dbURL+"&application_name="+name, token)
		webs, opss = append(webs, web), append(opss, ops)
	}
	today := func(base, query string) string {
		t.Helper()
		code, body := httpGet(t, base+"/api/v1/today"+query)
		if code != 200 {
			return ""
		}
		return body
	}
	want := today(webs[0], "?date=2026-12-07")
	for _, web := range webs[1:] {
		if got := today(web, "?date=2026-12-07"); got != want || want == "" {
			t.Errorf("replicas disagree on 2026-12-07:\n%s\n%s", got, want)
		}
	}
	for _, web := range webs[1:] { // cache the tags listing, and the tag's day
		httpGet(t, web+"/api/v1/tags")
		httpGet(t, web+"/api/v1/today?tag=replicated")
	}

	code, hdr, body := fetch(t, "POST", webs[0]+"/api/v1/quotes",
		`{"text":"Written on one replica, read on all.","author":"Replica A","tags":["replicated"]}`,
		"Authorization", "Bearer a-token-for-tests")
	if code != 201 {
		t.Fatalf("POST /api/v1/quotes on A: %d %s", code, body)
	}
	id := path.Base(hdr.Get("Location"))
	start := time.Now()
	for i, web := range webs[1:] {
		if !eventually(time.Second-time.Since(start), func() bool {
			_, tags := httpGet(t, web+"/api/v1/tags")
			return strings.Contains(tags, `"replicated"`) && strings.Contains(today(web, "?tag=replicated"), `"id":`+id)
		}) {
			t.Errorf("replica %c does not serve the quote added on A within 1 s", 'b'+i)
		}
		// The change leaves a day that has begun as it was; asked
		// again, it is in memory at the library's new state.
		if got := today(web, "?date=2026-12-07"); got != want {
			t.Errorf("after the change, replica %c's quote of 2026-12-07 = %q, want %q", 'b'+i, got, want)
		}
	}

	// Cut replica B off: its connections ended, none allowed meanwhile.
	srv, err := pgx.Connect(context.Background(), pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	exec := func(sql string) {
		t.Helper()
		if _, err := srv.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'replica_b'`)
	if !eventually(10*time.Second, func() bool { code, _ := httpGet(t, opss[1]+"/readyz"); return code == 503 }) {
		t.Error("B's /readyz does not report the lost database")
	}
	if got := today(webs[1], "?date=2026-12-07"); got != want {
		t.Errorf("cut off, B's quote of 2026-12-07 = %q, want %q from memory", got, want)
	}
	if code, _ := httpGet(t, opss[0]+"/readyz"); code != 200 {
		t.Errorf("A's /readyz = %d while A keeps its connections, want 200", code)
	}
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
	if !eventually(15*time.Second, func() bool { code, _ := httpGet(t, opss[1]+"/readyz"); return code == 200 }) {
		t.Error("B's /readyz does not recover once the database is back")
	}
}
