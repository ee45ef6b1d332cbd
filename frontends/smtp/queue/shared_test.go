package queue_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// replicas opens n queues on one new PostgreSQL database, as n replicas of
// quotesd do, and closes them when the test ends.
func replicas(t *testing.T, n int, opts ...queue.Option) []*queue.Queue {
	t.Helper()
	return replicasAt(t, pgtest.NewDatabase(t), n, opts...)
}

// replicasAt is replicas on the database at url.
func replicasAt(t *testing.T, url string, n int, opts ...queue.Option) []*queue.Queue {
	t.Helper()
	qs := make([]*queue.Queue, n)
	for i := range qs {
		qs[i] = openQueue(t, url, opts...)
		t.Cleanup(func() { qs[i].Close() })
	}
	return qs
}

// Replies accepted by two replicas, each delivering to the same relay: each
// reply goes out once, whichever replica claims it.
func TestPostgres_TwoReplicasSendEachReplyOnce(t *testing.T) {
	qs := replicas(t, 2)
	sink := smtptest.NewSink(t, smtptest.Options{})
	for _, q := range qs {
		delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	}
	const n = 400
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := qs[i%2].Record(context.Background(), reply(fmt.Sprintf("r%d@example.org", i), i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sink.Wait(t, n, 30*time.Second)
	waitCounts(t, qs[0], 0, n, 0)
	time.Sleep(300 * time.Millisecond) // room for duplicates to show up
	seen := map[string]int{}
	for _, m := range sink.Messages() {
		seen[seq(m)]++
	}
	for i := 1; i <= n; i++ {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("reply %d delivered %d times, want once", i, c)
		}
	}
	if got := len(sink.Messages()); got != n {
		t.Errorf("delivered %d messages, want %d", got, n)
	}
}

// The daily caps are counted in the database, in the transaction that
// queues the reply: replicas accepting mail for one mailbox, or from one
// client, at the same moment never queue more than the cap between them.
func TestPostgres_DailyCapsHoldAcrossReplicas(t *testing.T) {
	qs := replicas(t, 2, queue.WithLimits(queue.Limits{PerRecipient: 5, PerIP: 7}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	skips := map[string]int{}
	send := func(q *queue.Queue, e queue.Entry) {
		defer wg.Done()
		skip, err := q.Record(context.Background(), e)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		skips[skip]++
		mu.Unlock()
	}
	// 40 replies to one mailbox (its subaddresses included), each from
	// its own client.
	for i := range 40 {
		e := reply(fmt.Sprintf("victim+%d@example.org", i), i)
		e.IP = fmt.Sprintf("192.0.2.%d", i+1)
		wg.Add(1)
		go send(qs[i%2], e)
	}
	wg.Wait()
	if skips[""] != 5 || skips[queue.SkipRecipientLimit] != 35 {
		t.Errorf("replies to one mailbox through two replicas: %d queued, %d over the cap; want 5 and 35", skips[""], skips[queue.SkipRecipientLimit])
	}
	// 40 replies to distinct mailboxes caused by one IPv6 /64.
	clear(skips)
	for i := range 40 {
		e := reply(fmt.Sprintf("r%d@example.net", i), 100+i)
		e.IP = fmt.Sprintf("2001:db8:1:2::%x", i+1)
		wg.Add(1)
		go send(qs[i%2], e)
	}
	wg.Wait()
	if skips[""] != 7 || skips[queue.SkipIPLimit] != 33 {
		t.Errorf("replies caused by one /64 through two replicas: %d queued, %d over the cap; want 7 and 33", skips[""], skips[queue.SkipIPLimit])
	}
	if queued, _, _ := counts(t, qs[1]); queued != 12 {
		t.Errorf("queued %d replies in all, want 12", queued)
	}
}

// A replica whose scheduler has nothing to do sleeps until the next reply
// is due; a reply queued by another replica wakes it at once (NOTIFY),
// though its own renewals and sweeps come only every third of a lease.
func TestPostgres_AnIdleReplicaWakesWhenAnotherQueues(t *testing.T) {
	qs := replicas(t, 2, queue.WithLease(time.Hour))
	sink := smtptest.NewSink(t, smtptest.Options{})
	delivery(t, qs[1], queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	time.Sleep(200 * time.Millisecond) // the scheduler goes to sleep
	record(t, qs[0], reply("alice@example.org", 1))
	if m := sink.Wait(t, 1, 5*time.Second)[0]; m.To[0] != "alice@example.org" {
		t.Errorf("delivered to %v, want alice@example.org", m.To)
	}
}

// --db is the library's URL too, which may carry the settings of its pool
// (pool_max_conns): the queue takes them as such, never as parameters of
// the server, which would refuse them.
func TestPostgres_OpensWithTheLibrarysPoolSettingsInTheURL(t *testing.T) {
	url := pgtest.NewDatabase(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	q := openQueue(t, url+sep+"pool_max_conns=4")
	defer q.Close()
	if skip := record(t, q, reply("a@example.org", 1)); skip != "" {
		t.Errorf("Record skipped: %q", skip)
	}
}

// Connections that the server drops (a restart, a failover, an operator's
// pg_terminate_backend) are opened again: the next records succeed, and the
// notifications of queued replies reach an idle replica again, without a
// restart of quotesd.
func TestPostgres_ReplicasRecoverFromLostConnections(t *testing.T) {
	url := pgtest.NewDatabase(t)
	qs := replicasAt(t, url, 2, queue.WithLease(time.Hour))
	sink := smtptest.NewSink(t, smtptest.Options{})
	delivery(t, qs[1], queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	record(t, qs[0], reply("before@example.org", 1))
	sink.Wait(t, 1, 5*time.Second)

	terminateConnections(t, url)
	time.Sleep(time.Second) // the listener connects again
	// A record on a connection found dead fails (the session gets a 451
	// and sends again); a later one succeeds on a new connection.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := qs[0].Record(context.Background(), reply("after@example.org", 2))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Record still fails 10s after the connections were dropped: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ms := sink.Wait(t, 2, 10*time.Second); ms[1].To[0] != "after@example.org" {
		t.Errorf("delivered %v second, want after@example.org", ms[1].To)
	}
}

// terminateConnections ends every connection to the database at url but
// the one that ends them, as a server that restarts does.
func terminateConnections(t *testing.T, url string) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("terminated %d connections, want the replicas' (their pools and listeners)", n)
	}
}

// A queue schema written by a newer quotesd is refused, as the SQLite
// queue's is: replicas are upgraded together, never downgraded in place.
func TestPostgres_RefusesAQueueFromANewerVersion(t *testing.T) {
	url := pgtest.NewDatabase(t)
	openQueue(t, url).Close()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO mailqueue.schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	q, err := queue.OpenPostgres(context.Background(), url)
	if err == nil {
		q.Close()
		t.Fatal("OpenPostgres of a queue at schema version 99 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer than this quotesd knows") {
		t.Errorf("OpenPostgres: %v, want it to say the schema is newer", err)
	}
}
