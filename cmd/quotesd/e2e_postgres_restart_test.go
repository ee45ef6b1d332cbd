package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
)

// databaseOutage cuts every connection to the database at dbURL and refuses
// new ones, as a restart of the server does to its clients (their
// connections end; for a while nothing answers), and returns the function
// that lets them in again. It acts on the one database, so other tests on
// the same server go on.
func databaseOutage(t *testing.T, dbURL string) (restore func()) {
	t.Helper()
	ctx := context.Background()
	srv, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := srv.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	var once sync.Once
	restore = func() {
		once.Do(func() {
			exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
			srv.Close(ctx)
		})
	}
	t.Cleanup(restore)
	return restore
}

// mailResult is what one request for a quote by mail got.
type mailResult struct {
	code int // the reply to the end of DATA; 0 when the session failed before it
	err  error
}

// sendQuoteRequest sends one request for a quote from `from` to addr and
// returns the SMTP code that ended it.
func sendQuoteRequest(addr, from string) mailResult {
	c, err := gosmtp.Dial(addr)
	if err != nil {
		return mailResult{err: err}
	}
	defer c.Close()
	code := func(err error) mailResult {
		if se, ok := err.(*gosmtp.SMTPError); ok {
			return mailResult{code: se.Code, err: err}
		}
		return mailResult{err: err}
	}
	if err := c.Hello("client.test"); err != nil {
		return code(err)
	}
	if err := c.Mail(from, nil); err != nil {
		return code(err)
	}
	if err := c.Rcpt("quote@localhost", nil); err != nil {
		return code(err)
	}
	w, err := c.Data()
	if err != nil {
		return code(err)
	}
	fmt.Fprintf(w, "From: %s\r\nTo: quote@localhost\r\nSubject: today\r\n\r\nhi\r\n", from)
	if err := w.Close(); err != nil {
		return code(err)
	}
	c.Quit()
	return mailResult{code: 250}
}

// The database restarted under load: two replicas keep answering QOTD and
// web reads from memory, /readyz reports the outage, mail is refused with
// a 4xx (never a 250 whose reply is then lost), and everything comes back
// when the database does, without restarting quotesd: every request that
// got a 250, before, during or after the outage, gets one reply.
func TestPostgresE2E_DatabaseRestartUnderLoad(t *testing.T) {
	db := pgLibrary(t)
	sink := smtptest.NewSink(t, smtptest.Options{})
	var replicas []*server
	for _, name := range []string{"restart_a", "restart_b"} {
		s := startServe(t, db+"&application_name="+name, []string{"qotd", "web", "ops", "smtp"}, append([]string{
			"--qotd-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0", "--web-rate", "0", "--web-access-log=false",
			"--ops-addr", "127.0.0.1:0", "--log-level", "info", "--state-dir", t.TempDir(),
			"--smtp-addr", "127.0.0.1:0", "--smtp-domain", "localhost", "--smtp-relay", sink.Addr, "--smtp-relay-tls", "none",
			"--smtp-retry-min", "100ms", "--smtp-retry-max", "300ms",
			"--smtp-ip-rate", "0", "--smtp-ip-reply-limit", "0", "--smtp-reply-limit", "0"},
			offExcept("qotd", "web", "ops", "smtp")...)...)
		replicas = append(replicas, s)
	}
	readyz := func(s *server) int {
		code, _ := httpGet(t, "http://"+s.Addr("ops")+"/readyz")
		return code
	}
	qotdOnce := func(addr string) string {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	want := qotdOnce(replicas[0].Addr("qotd"))
	if got := qotdOnce(replicas[1].Addr("qotd")); got != want || !strings.Contains(want, "--") {
		t.Fatalf("the replicas' quotes of the day differ before the outage: %q and %q", want, got)
	}

	// Load on both replicas: QOTD, the day's quote on the web, and mail.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var qr, hr loadResult
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for _, s := range replicas {
		wg.Add(2)
		go func() { defer wg.Done(); qotdLoad(ctx, s.Addr("qotd"), want, &qr) }()
		go func() {
			defer wg.Done()
			httpLoad(ctx, client, "http://"+s.Addr("web")+"/api/v1/today", func(b string) error {
				if !strings.Contains(b, `"text"`) {
					return fmt.Errorf("body %q is not a quote", b)
				}
				return nil
			}, &hr)
		}()
	}
	var outage atomic.Bool
	var mu sync.Mutex
	accepted := map[string]bool{}
	var refusedDuringOutage, refusedOtherwise, failed int
	var sent atomic.Int64
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				from := fmt.Sprintf("r%d-%d@example.org", i, n)
				down := outage.Load()
				r := sendQuoteRequest(replicas[i].Addr("smtp"), from)
				sent.Add(1)
				mu.Lock()
				switch {
				case r.code == 250:
					accepted[from] = true
				case r.code >= 400 && r.code < 500 && (down || outage.Load()):
					refusedDuringOutage++
				case r.code >= 400 && r.code < 500:
					refusedOtherwise++
				default:
					failed++
					if failed <= 5 {
						t.Errorf("mail from %s: code %d, %v; want a 250 or, while the database is down, a 4xx", from, r.code, r.err)
					}
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	time.Sleep(2 * time.Second)
	outage.Store(true)
	restore := databaseOutage(t, db)
	down := time.Now()
	for _, s := range replicas {
		if !eventually(15*time.Second, func() bool { return readyz(s) == 503 }) {
			t.Errorf("%s: /readyz does not report the database's outage within 15 s", s.Addr("ops"))
		}
	}
	time.Sleep(3 * time.Second)
	restore()
	t.Logf("the database was out for %v", time.Since(down).Round(time.Millisecond))
	up := time.Now()
	for _, s := range replicas {
		if !eventually(30*time.Second, func() bool { return readyz(s) == 200 }) {
			t.Errorf("%s: /readyz does not recover within 30 s of the database's return", s.Addr("ops"))
		}
	}
	t.Logf("both replicas ready %v after the database's return", time.Since(up).Round(time.Millisecond))
	// Mail is taken again on both, within the same time.
	for i, s := range replicas {
		if !eventually(30*time.Second, func() bool {
			from := fmt.Sprintf("after-%d-%d@example.org", i, time.Now().UnixNano())
			if sendQuoteRequest(s.Addr("smtp"), from).code != 250 {
				return false
			}
			mu.Lock()
			accepted[from] = true
			mu.Unlock()
			return true
		}) {
			t.Errorf("replica %d takes no mail 30 s after the database's return", i)
		}
	}
	outage.Store(false)
	time.Sleep(time.Second)
	cancel()
	wg.Wait()
	qr.report(t, "QOTD")
	hr.report(t, "web")
	if qr.ok.Load() == 0 || hr.ok.Load() == 0 {
		t.Fatalf("the load got %d QOTD and %d web answers: it showed nothing", qr.ok.Load(), hr.ok.Load())
	}
	mu.Lock()
	t.Logf("mail: %d sent, %d got a 250, %d a 4xx during the outage, %d a 4xx outside it", sent.Load(), len(accepted), refusedDuringOutage, refusedOtherwise)
	if refusedDuringOutage == 0 {
		t.Error("no mail was refused while the database was down: the outage did not reach the mail frontend")
	}
	mu.Unlock()

	// Every 250 gets exactly one reply.
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := perRecipient(sink.Messages())
		var missing []string
		for from := range accepted {
			if got[from] == 0 {
				missing = append(missing, from)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests that got a 250 have no reply 60 s after the load: %v", len(missing), len(accepted), missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // time enough for a duplicate to arrive
	for from, n := range perRecipient(sink.Messages()) {
		if n > 1 {
			t.Errorf("%s got %d replies, want 1", from, n)
		}
		if !accepted[from] {
			t.Errorf("%s got a reply to a request that was refused", from)
		}
	}
}
