package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// admin connects to the test server's maintenance database.
func admin(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// within polls cond every 20 ms for up to d and fails with what otherwise.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

// A replica cut off from the database keeps answering what it holds in
// memory (the day's quote, the counts), says so through Health, and on
// reconnecting catches up with the changes other replicas made meanwhile.
func TestReplica_CutOffServesFromMemoryAndCatchesUp(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := open(t, url+"&application_name=replica_a", postgres.WithSeed(3))
	b := open(t, url+"&application_name=replica_b")
	if _, err := b.Import(ctx, quotertest.Sample(), nil); err != nil {
		t.Fatal(err)
	}
	day := quoter.Date{Year: 2026, Month: 12, Day: 7}
	var before *quoter.Quote
	within(t, time.Second, "replica A does not see B's import", func() bool {
		st, err := a.Stats(ctx)
		before, _ = a.Today(ctx, day, quoter.Filter{})
		return err == nil && st.Quotes == len(quotertest.Sample()) && before != nil
	})
	if err := a.Health(); err != nil {
		t.Fatalf("Health while connected = %v", err)
	}
	// Ask once more: a state read while B's notification was being
	// heard is not kept (it might predate the change), so what the loop
	// saw last may not be in memory; read again, it is.
	if _, err := a.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Today(ctx, day, quoter.Filter{}); err != nil {
		t.Fatal(err)
	}

	// Cut A off: no new connections to the database, A's own ended.
	// B keeps the connection its pool holds.
	srv := admin(t)
	name := dbName(t, a)
	mustExec(t, srv, `ALTER DATABASE `+name+` ALLOW_CONNECTIONS false`)
	mustExec(t, srv, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'replica_a'`)
	within(t, 10*time.Second, "Health does not report the lost connection", func() bool { return a.Health() != nil })
	if q, err := a.Today(ctx, day, quoter.Filter{}); err != nil || q.ID != before.ID {
		t.Errorf("cut off, Today = %v, %v; want #%d from memory", q, err, before.ID)
	}
	if st, err := a.Stats(ctx); err != nil || st.Quotes != len(quotertest.Sample()) {
		t.Errorf("cut off, Stats = %+v, %v; want the counts from memory", st, err)
	}

	text := before.Text + " (corrected meanwhile)"
	if _, err := b.Update(ctx, before.ID, quoter.Update{Text: &text}); err != nil {
		t.Fatalf("B's change while A is cut off: %v", err)
	}
	mustExec(t, srv, `ALTER DATABASE `+name+` ALLOW_CONNECTIONS true`)
	within(t, 10*time.Second, "A does not catch up after reconnecting", func() bool {
		q, err := a.Today(ctx, day, quoter.Filter{})
		return a.Health() == nil && err == nil && q.Text == text
	})
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dbName is the name of the database a is open on.
func dbName(t *testing.T, a *postgres.DB) string {
	t.Helper()
	n := a.Name()
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] == '/' {
			return n[i+1:]
		}
	}
	t.Fatalf("no database in %q", n)
	return ""
}
