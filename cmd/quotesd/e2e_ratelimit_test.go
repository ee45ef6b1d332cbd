package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// startRateReplica starts a quotesd serve with only the web frontend on the
// PostgreSQL library at url, its web rate shared through it.
func startRateReplica(t *testing.T, url string, args ...string) (*server, string) {
	t.Helper()
	all := append([]string{"--web-addr", "127.0.0.1:0", "--state-dir", t.TempDir(), "--web-rate-shared"}, offExcept("web")...)
	s := startServe(t, url, []string{"web"}, append(all, args...)...)
	return s, "http://" + s.Addr("web")
}

// Two replicas on one database count one client's requests together: the
// budget spent on A is spent on B within a sync (250 ms); when the
// database goes away each limits alone, still limiting, and says so.
func TestWebE2E_ReplicasShareTheRateLimitThroughPostgreSQL(t *testing.T) {
	url := pgtest.NewDatabase(t)
	lib := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	cliOK(t, "migrate", "--from", lib, "--to", url)
	a, baseA := startRateReplica(t, url, "--web-rate", "5") // a burst of 5, then one every 12 s
	b, baseB := startRateReplica(t, url, "--web-rate", "5")
	today := func(base string) int {
		t.Helper()
		code, _, _ := fetch(t, "GET", base+"/api/v1/today", "")
		return code
	}
	for i := range 5 {
		if code := today(baseA); code != http.StatusOK {
			t.Fatalf("request %d of a burst of 5 on A: %d, want 200", i+1, code)
		}
	}
	// B hears of A's five after A's sync and its own: well within 2 s.
	var code int
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if code = today(baseB); code == http.StatusTooManyRequests {
			break
		}
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("B after A spent the client's budget: %d, want 429", code)
	}
	_, hdr, _ := fetch(t, "GET", baseB+"/api/v1/today", "")
	if ra := hdr.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("B's 429 has Retry-After %q, want the seconds until the next request", ra)
	}

	// The database goes away: each replica limits alone, never unlimited.
	name := databaseName(t, url)
	adminExec(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	adminExec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
	for _, s := range []*server{a, b} {
		s.WaitLog(5*time.Second, "the shared web rate limit cannot reach the database: each replica limits alone until it can", nil)
	}
	for _, base := range []string{baseA, baseB} {
		if code := today(base); code != http.StatusTooManyRequests {
			t.Errorf("%s during the outage: %d, want 429: the client's budget stays spent", base, code)
		}
	}
	adminExec(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
	for _, s := range []*server{a, b} {
		s.WaitLog(10*time.Second, "the shared web rate limit reaches the database again: limits are global again", nil)
	}
}

// databaseName is the database a pgtest URL names.
func databaseName(t *testing.T, url string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// adminExec runs sql as the test server's superuser.
func adminExec(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
