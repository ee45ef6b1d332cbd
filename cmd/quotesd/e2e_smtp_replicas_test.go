package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// trySendVia sends one request from `from` to the replicas at addrs, the
// first that answers with a 250, as an MTA tries a domain's MX hosts in
// turn. It returns the replica that took it (-1: none), and whether an
// earlier one failed after the message was handed over (its outcome is
// then unknown to the sender: the failed replica may have stored it).
func trySendVia(addrs []string, first int, from string) (took int, unsure bool) {
	msg := fmt.Sprintf("From: %s\r\nTo: quote@localhost\r\nSubject: today\r\n\r\nhi\r\n", from)
	for i := range addrs {
		r := (first + i) % len(addrs)
		c, err := gosmtp.Dial(addrs[r])
		if err != nil {
			continue
		}
		err = c.SendMail(from, []string{"quote@localhost"}, strings.NewReader(msg))
		c.Close()
		if err == nil {
			return r, unsure
		}
		unsure = true
	}
	return -1, unsure
}

// Three replicas share the mail queue in PostgreSQL. 500 requests are
// spread over them while the relay is down; one replica is killed with
// SIGKILL half way, and its senders go on to the others, as an MTA tries
// the next MX. Once the relay is up, every request that got a 250 has its
// reply, and none has two, but for this: a sender whose transaction died
// with the replica after handing the message over cannot know whether it
// was stored, and sends it again elsewhere (SMTP's own ambiguity, RFC
// 1047); the dead replica may have committed it, and then the requester
// gets two replies. The queue adds no duplicate of its own: the relay was
// down, so the dead replica was sending nothing (a reply it was sending
// could go out once more, at most: TestPostgres_ADeadReplicas... in the
// queue's tests), and its queued replies are the others' to send.
func TestE2E_SMTP_ThreeReplicasOnPostgresLoseNoReplyWhenOneIsKilled(t *testing.T) {
	db := pgLibrary(t)
	relay := smtptest.FreeAddr(t) // down
	args := []string{"--smtp-ip-rate", "0", "--smtp-ip-reply-limit", "0", "--smtp-max-conns-per-client", "50"}
	var replicas []*server
	var addrs []string
	for range 3 {
		s := smtpServe(t, db, t.TempDir(), relay, args...)
		replicas = append(replicas, s)
		addrs = append(addrs, s.Addr("smtp"))
	}

	const n, senders = 500, 6
	var mu sync.Mutex
	accepted := map[string]int{} // sender -> the replica that said 250
	var unsure []string          // senders whose first try failed after handing the message over
	next := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				from := fmt.Sprintf("user%d@example.org", i)
				r, u := trySendVia(addrs, i%3, from)
				mu.Lock()
				if r >= 0 {
					accepted[from] = r
				}
				if u {
					unsure = append(unsure, from)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		if i == n/2 {
			replicas[2].Kill() // SIGKILL, mid-way, with replies claimed and queued
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if len(accepted) != n {
		t.Errorf("%d of %d requests got a 250 from some replica, want all (the live replicas take what the dead one cannot)", len(accepted), n)
	}
	byReplica := [3]int{}
	for _, r := range accepted {
		byReplica[r]++
	}
	t.Logf("250s by replica: %v; %d senders whose first try failed mid-transaction", byReplica, len(unsure))
	if byReplica[2] == 0 {
		t.Fatal("the killed replica took no mail before it died: the test shows nothing")
	}

	sink := smtptest.NewSink(t, smtptest.Options{Addr: relay}) // the relay is up
	up := time.Now()
	// The dead replica's claimed replies come back when its leases (30 s)
	// end.
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := perRecipient(sink.Messages())
		missing := 0
		for from := range accepted {
			if got[from] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests that got a 250 have no reply %v after the relay came up", missing, time.Since(up).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("every accepted request had its reply %v after the relay came up", time.Since(up).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // time enough for a duplicate to arrive
	got := perRecipient(sink.Messages())
	duplicates, extra := 0, 0
	for from, c := range got {
		if _, ok := accepted[from]; !ok {
			extra += c // stored by a replica that died before its 250
			continue
		}
		duplicates += c - 1
	}
	t.Logf("%d replies at the relay for %d accepted requests: %d duplicates (the senders whose first try died mid-transaction: %d), %d replies to requests that got no 250",
		len(sink.Messages()), len(accepted), duplicates, len(unsure), extra)
	// A sender whose first try died with the replica, the message handed
	// over, tried another: the dead one may have stored it too. No other
	// duplicate is allowed.
	if duplicates > len(unsure) {
		t.Errorf("%d duplicate replies, more than the %d requests the dead replica may have stored before its 250", duplicates, len(unsure))
	}
	for _, from := range unsure {
		got[from] = min(got[from], 1)
	}
	for from, c := range got {
		if c > 1 {
			t.Errorf("%s got %d replies, want 1", from, c)
		}
	}
}

// A replica killed with SIGKILL while it delivers, holding a batch of
// claimed replies with their sending marks, leaves them to the others:
// once its leases end (30 s) they send every one, and a reply the dead
// replica may have sent already goes out at most once more (its mark is
// counted as one lost outcome), never twice more.
func TestE2E_SMTP_ThreeReplicasOnPostgresTakeOverADeadReplicasDeliveries(t *testing.T) {
	db := pgLibrary(t)
	// A slow relay: each recipient takes 20 ms, so that a replica is
	// always in the middle of a batch.
	sink := smtptest.NewSink(t, smtptest.Options{Reject: func(string) error {
		time.Sleep(20 * time.Millisecond)
		return nil
	}})
	args := []string{"--smtp-ip-rate", "0", "--smtp-ip-reply-limit", "0", "--smtp-max-conns-per-client", "50"}
	var replicas []*server
	var addrs []string
	for range 3 {
		s := smtpServe(t, db, t.TempDir(), sink.Addr, args...)
		replicas = append(replicas, s)
		addrs = append(addrs, s.Addr("smtp"))
	}
	const n = 300
	accepted := map[string]bool{}
	for i := range n {
		from := fmt.Sprintf("user%d@example.org", i)
		if r, _ := trySendVia(addrs, i%3, from); r >= 0 {
			accepted[from] = true
		}
	}
	if len(accepted) != n {
		t.Fatalf("%d of %d requests got a 250, want all", len(accepted), n)
	}
	// Kill replica C while it delivers.
	replicas[2].WaitLog(30*time.Second, "reply delivered", nil)
	replicas[2].Kill()
	killed := time.Now()
	atKill := len(sink.Messages())

	deadline := time.Now().Add(120 * time.Second)
	for {
		got := perRecipient(sink.Messages())
		missing := 0
		for from := range accepted {
			if got[from] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d accepted requests have no reply %v after replica C was killed", missing, time.Since(killed).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(killed)
	time.Sleep(3 * time.Second) // time enough for a duplicate to arrive
	got := perRecipient(sink.Messages())
	duplicates := 0
	for from, c := range got {
		if c > 2 {
			t.Errorf("%s got %d replies, want at most 2 (one, and once more for a reply the dead replica was sending)", from, c)
		}
		duplicates += c - 1
	}
	t.Logf("%d replies at the relay when replica C was killed; all %d requests had their reply %v later; %d duplicates in all",
		atKill, n, took.Round(time.Millisecond), duplicates)
}
