package publish

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quotesd/quotesd/logs/logstest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/settings"
)

// received is one request a receiver got.
type received struct {
	at     time.Time
	path   string
	header http.Header
	body   []byte
}

// receiver stands in for a service on 127.0.0.1:0: it records what it is
// sent and answers from a script, then 200 once the script is done.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	replies []reply
	arrived chan struct{}
}

type reply struct {
	status     int
	retryAfter string
	body       string
	location   string
}

func newReceiver(t *testing.T, replies ...reply) *receiver {
	t.Helper()
	r := &receiver{replies: replies, arrived: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{at: time.Now(), path: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
		rep := reply{status: http.StatusOK, body: `{"ok":true}`}
		if len(r.replies) > 0 {
			rep, r.replies = r.replies[0], r.replies[1:]
		}
		r.mu.Unlock()
		if rep.retryAfter != "" {
			w.Header().Set("Retry-After", rep.retryAfter)
		}
		if rep.location != "" {
			w.Header().Set("Location", rep.location)
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// wait waits for n requests in all, failing the test after timeout.
func (r *receiver) wait(t *testing.T, n int, timeout time.Duration) []received {
	t.Helper()
	deadline := time.After(timeout)
	for len(r.requests()) < n {
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("%d requests after %v, want %d", len(r.requests()), timeout, n)
		}
	}
	return r.requests()
}

// quiet checks that no more than n requests came in d.
func (r *receiver) quiet(t *testing.T, n int, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if got := len(r.requests()); got != n {
		t.Errorf("%d requests, want %d", got, n)
	}
}

// hosts is a dialler that reaches only the receivers given, by the names
// the targets' URLs use: nothing else is ever dialled.
func hosts(m map[string]*receiver) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		r := m[host]
		if r == nil {
			return nil, fmt.Errorf("test dialler: %s is not a receiver", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, "tcp", r.Listener.Addr().String())
	}
}

// env is a publisher's surroundings in a test: a library, a clock, the
// state directory, the secrets' files and variables, the log, metrics.
type env struct {
	t       *testing.T
	lib     quoter.Quoter
	clock   *quotertest.Clock
	dir     string
	vars    map[string]string
	log     *logstest.Buffer
	metrics *prometheus.Registry
	pub     *Publisher // the last started
}

func newEnv(t *testing.T, now time.Time) *env {
	return &env{t: t, lib: quotertest.NewLibrary(t), clock: quotertest.NewClock(now), dir: t.TempDir(),
		vars: map[string]string{}, log: &logstest.Buffer{}, metrics: prometheus.NewRegistry()}
}

// secret writes value to a file named name and returns its reference.
func (e *env) secret(name, value string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return "@" + p
}

func (e *env) config(targets ...string) Config {
	var c Config
	c.Declare(settings.New("publish"))
	c.Targets = targets
	c.At = "07:30"
	c.BackoffMin, c.BackoffMax = 20*time.Millisecond, 200*time.Millisecond
	c.StateFile = filepath.Join(e.dir, "publish-daily.json")
	c.Metrics = e.metrics
	c.LookupEnv = func(k string) (string, bool) { v, ok := e.vars[k]; return v, ok }
	c.Version = "quotesd test"
	return c
}

// ranBefore writes the state a quotesd that posted to targets yesterday
// left: without one, a first start after the posting time waits for the
// next day (it cannot tell a first start from a restart).
func (e *env) ranBefore(cfg Config) {
	e.t.Helper()
	m := map[string]string{}
	for _, sp := range cfg.Specs() {
		m[sp.Name] = quoter.DateOf(e.clock.Now()).AddDays(-1).String()
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(cfg.StateFile, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// start runs a publisher of cfg until the test ends or the returned stop
// is called (a restart: the next start reads the same state file).
func (e *env) start(cfg Config) (stop func()) {
	e.t.Helper()
	cal := &quoter.Calendar{Location: time.UTC, Now: e.clock.Now}
	p, err := New(cfg, e.lib, cal, slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		e.t.Fatal(err)
	}
	e.pub = p
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Serve(ctx); err != nil {
			e.t.Errorf("Serve: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				e.t.Error("Serve did not return within 10s of its context's end")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// sent, failed and retried read the metrics of the last publisher started.
func (e *env) sent(target string) float64 {
	return testutil.ToFloat64(e.pub.m.sent.WithLabelValues(target))
}

func (e *env) failed(target, outcome string) float64 {
	return testutil.ToFloat64(e.pub.m.failed.WithLabelValues(target, outcome))
}

var morning = time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC)

// Every kind, each to its own receiver under the name its real service
// would have, with its secrets in files and variables: what arrives is
// what the service documents.
func TestPublish_EachKindPostsWhatItsServiceTakes(t *testing.T) {
	e := newEnv(t, morning)
	slack, discord, ntfy, gotify, jsonr := newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t)
	e.vars["DISCORD_URL"] = "http://discord.test/api/webhooks/123456/secret-discord-token"
	e.vars["HMAC_KEY"] = "hmac-key-of-the-json-target"
	cfg := e.config(
		"team=slack:"+e.secret("slack-url", "http://hooks.slack.test/services/T000/B000/secret-slack-token"),
		"gamers=discord:env:DISCORD_URL",
		"phone=ntfy:http://ntfy.test/quotes-42?secret="+e.secret("ntfy-token", "tk_secretntfytoken"),
		"desk=gotify:http://gotify.test/?tag=wit&secret="+e.secret("gotify-token", "AppTokenSecret"),
		"robot=json:http://automation.test/hooks/quotes?secret=env:HMAC_KEY",
	)
	cfg.BaseURL = "https://quotes.example.org/"
	cfg.Dial = hosts(map[string]*receiver{"hooks.slack.test": slack, "discord.test": discord, "ntfy.test": ntfy, "gotify.test": gotify, "automation.test": jsonr})
	e.ranBefore(cfg)
	e.start(cfg)

	s := slack.wait(t, 1, 10*time.Second)[0]
	if s.path != "/services/T000/B000/secret-slack-token" || s.header.Get("Content-Type") != "application/json" {
		t.Errorf("slack: POST %s (%s), want the webhook's path, JSON", s.path, s.header.Get("Content-Type"))
	}
	var sm map[string]any
	json.Unmarshal(s.body, &sm)
	if sm["text"] == "" || len(arr(sm["blocks"])) != 3 {
		t.Errorf("slack payload %s: want text and three blocks (quote, context, card)", s.body)
	}

	d := discord.wait(t, 1, 10*time.Second)[0]
	if d.path != "/api/webhooks/123456/secret-discord-token" {
		t.Errorf("discord: POST %s", d.path)
	}
	dm := decode(t, d.body)
	if e0 := obj(arr(dm["embeds"])[0]); !strings.HasPrefix(e0["url"].(string), "https://quotes.example.org/quotes/") {
		t.Errorf("discord embed url = %v, want the quote's page", e0["url"])
	}

	n := ntfy.wait(t, 1, 10*time.Second)[0]
	nm := decode(t, n.body)
	if n.path != "/" || nm["topic"] != "quotes-42" || n.header.Get("Authorization") != "Bearer tk_secretntfytoken" {
		t.Errorf("ntfy: POST %s, topic %v, Authorization %q; want the root, quotes-42, the access token", n.path, nm["topic"], n.header.Get("Authorization"))
	}
	if click, _ := nm["click"].(string); !strings.HasPrefix(click, "https://quotes.example.org/quotes/") || !strings.HasSuffix(nm["attach"].(string), ".png") {
		t.Errorf("ntfy click %v, attach %v: want the page and the card", nm["click"], nm["attach"])
	}

	g := gotify.wait(t, 1, 10*time.Second)[0]
	gm := decode(t, g.body)
	if g.path != "/message" || g.header.Get("X-Gotify-Key") != "AppTokenSecret" || strings.Contains(g.path, "token") {
		t.Errorf("gotify: POST %s, X-Gotify-Key %q; want /message with the token in the header", g.path, g.header.Get("X-Gotify-Key"))
	}
	wit, err := e.lib.Today(context.Background(), testDay, quoter.Filter{Tag: "wit"})
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := gm["message"].(string); !strings.HasPrefix(msg, wit.Text) || !strings.Contains(gm["title"].(string), "(wit)") {
		t.Errorf("gotify (?tag=wit): title %v, message %q; want the day's quote of the wit tag, %q", gm["title"], msg, wit.Text)
	}

	j := jsonr.wait(t, 1, 10*time.Second)[0]
	mac := Sign([]byte("hmac-key-of-the-json-target"), j.body)
	if got := j.header.Get("X-Quotesd-Signature"); !hmac.Equal([]byte(got), []byte(mac)) || !strings.HasPrefix(got, "sha256=") {
		t.Errorf("json: X-Quotesd-Signature %q, want %q (HMAC-SHA256 of the body under the key)", got, mac)
	}
	if got := j.header.Get("X-Quotesd-Delivery"); got != "robot/2026-12-07" {
		t.Errorf("json: X-Quotesd-Delivery %q, want robot/2026-12-07", got)
	}
	var jp jsonPost
	if err := json.Unmarshal(j.body, &jp); err != nil || jp.Day != testDay || jp.Quote.Text == "" {
		t.Errorf("json payload %s (%v)", j.body, err)
	}
	today, _ := e.lib.Today(context.Background(), testDay, quoter.Filter{})
	if jp.Quote.ID != today.ID {
		t.Errorf("json: quote #%d, want the day's, #%d", jp.Quote.ID, today.ID)
	}
	for _, r := range []*receiver{slack, discord, ntfy, gotify, jsonr} {
		if ua := r.requests()[0].header.Get("User-Agent"); ua != "quotesd/test" {
			t.Errorf("User-Agent %q, want quotesd/test", ua)
		}
	}
	eventually(t, func() bool { return e.sent("team") == 1 })
	if got := e.sent("team"); got != 1 {
		t.Errorf("quotesd_publish_sent_total{target=team} = %v, want 1", got)
	}
	for _, secret := range []string{"secret-slack-token", "secret-discord-token", "tk_secretntfytoken", "AppTokenSecret", "hmac-key"} {
		if strings.Contains(e.log.String(), secret) {
			t.Errorf("the log shows the secret %q:\n%s", secret, e.log)
		}
	}
}

// jsonTarget is a json target posting to r, its key in a variable.
func (e *env) jsonTarget(name string, r *receiver) string {
	e.vars["KEY"] = "key"
	return name + "=json:" + r.URL + "/in?secret=env:KEY"
}

func TestPublish_RetriesAfter5xxUntilTaken(t *testing.T) {
	e := newEnv(t, morning)
	r := newReceiver(t, reply{status: 500, body: "oops"}, reply{status: 503})
	cfg := e.config(e.jsonTarget("hook", r))
	e.ranBefore(cfg)
	e.start(cfg)
	got := r.wait(t, 3, 10*time.Second)
	for i := 1; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < 20*time.Millisecond {
			t.Errorf("retry %d came %v after the failure, want at least the back-off (20ms)", i, gap)
		}
	}
	r.quiet(t, 3, 300*time.Millisecond)
	eventually(t, func() bool { return e.sent("hook") == 1 })
	if e.sent("hook") != 1 || e.failed("hook", failRetried) != 2 {
		t.Errorf("sent %v, failed and retried %v; want 1 and 2", e.sent("hook"), e.failed("hook", failRetried))
	}
}

func TestPublish_429WaitsForRetryAfter(t *testing.T) {
	e := newEnv(t, morning)
	r := newReceiver(t, reply{status: 429, retryAfter: "1", body: `{"retry_after":1}`})
	cfg := e.config(e.jsonTarget("hook", r))
	e.ranBefore(cfg)
	e.start(cfg)
	got := r.wait(t, 2, 10*time.Second)
	if gap := got[1].at.Sub(got[0].at); gap < time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: 1, want 1s or more", gap)
	}
	r.quiet(t, 2, 200*time.Millisecond)
	eventually(t, func() bool { return e.sent("hook") == 1 })
	if e.sent("hook") != 1 {
		t.Errorf("sent %v, want 1", e.sent("hook"))
	}
}

func TestPublish_NetworkFailureIsRetried(t *testing.T) {
	e := newEnv(t, morning)
	r := newReceiver(t)
	addr := r.Listener.Addr().String()
	r.Close() // down at the posting time
	cfg := e.config(e.jsonTarget("hook", r))
	e.ranBefore(cfg)
	e.start(cfg)
	eventually(t, func() bool { return e.failed("hook", failRetried) >= 1 })
	if e.failed("hook", failRetried) < 1 {
		t.Fatalf("failed and retried %v after the service was down, want 1 or more", e.failed("hook", failRetried))
	}
	back := newReceiverAt(t, addr)
	back.wait(t, 1, 10*time.Second)
	eventually(t, func() bool { return e.sent("hook") == 1 })
	if e.sent("hook") != 1 {
		t.Errorf("sent %v, want 1 once the service is back", e.sent("hook"))
	}
}

// eventually waits up to 5s for ok.
func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// newReceiverAt is a receiver listening on addr (a service come back).
func newReceiverAt(t *testing.T, addr string) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	r := &receiver{arrived: make(chan struct{}, 100)}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{at: time.Now(), path: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		r.arrived <- struct{}{}
	}))
	r.Listener.Close()
	r.Listener = ln
	r.Start()
	t.Cleanup(r.Close)
	return r
}

// A 4xx other than 429 is the service refusing the post: sending it again
// would be refused again. The answer is logged, short and without the
// secrets it may repeat; the day counts as done, across a restart too.
func TestPublish_400IsNotRetriedAndIsLoggedRedacted(t *testing.T) {
	e := newEnv(t, morning)
	answer := "invalid_payload for /services/T000/B000/secret-slack-token " + strings.Repeat("x", 100<<10)
	r := newReceiver(t, reply{status: 400, body: answer})
	cfg := e.config("team=slack:" + e.secret("slack-url", r.URL+"/services/T000/B000/secret-slack-token"))
	e.ranBefore(cfg)
	stop := e.start(cfg)
	r.wait(t, 1, 10*time.Second)
	r.quiet(t, 1, 300*time.Millisecond)
	log := e.log.String()
	if !strings.Contains(log, "daily post refused") || !strings.Contains(log, "400 Bad Request: invalid_payload for (redacted)") {
		t.Errorf("the log does not show the refusal with the answer, redacted:\n%.2000s", log)
	}
	if strings.Contains(log, "secret-slack-token") {
		t.Errorf("the log shows the webhook's token:\n%.2000s", log)
	}
	if len(log) > 8<<10 {
		t.Errorf("the log holds %d bytes: the answer is not cut", len(log))
	}
	eventually(t, func() bool { return e.failed("team", failGivenUp) == 1 })
	if e.failed("team", failGivenUp) != 1 || e.sent("team") != 0 {
		t.Errorf("given up %v, sent %v; want 1 and 0", e.failed("team", failGivenUp), e.sent("team"))
	}
	stop()
	e.clock.Advance(time.Hour)
	e.start(cfg)
	r.quiet(t, 1, 300*time.Millisecond)
}

// A redirect to another host is not followed: the post would take its
// secrets somewhere not configured.
func TestPublish_RedirectToAnotherHostIsNotFollowed(t *testing.T) {
	e := newEnv(t, morning)
	elsewhere := newReceiver(t)
	r := newReceiver(t, reply{status: 307, location: "http://elsewhere.test/steal"})
	cfg := e.config(e.jsonTarget("hook", r))
	cfg.Targets = []string{"hook=json:http://hooks.test/in?secret=env:KEY"}
	cfg.Dial = hosts(map[string]*receiver{"hooks.test": r, "elsewhere.test": elsewhere})
	e.ranBefore(cfg)
	e.start(cfg)
	r.wait(t, 1, 10*time.Second)
	r.quiet(t, 1, 300*time.Millisecond)
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect's host got %d requests, want none", n)
	}
	if !strings.Contains(e.log.String(), "not followed") {
		t.Errorf("the log does not say the redirect was refused:\n%s", e.log)
	}
}

// Exactly one post per target per day, whether quotesd restarts just
// before the posting time or just after it. (The publisher's timer sleeps
// in real time what the test clock says is left, so the clock is set a
// moment before each posting time it is to pass.)
func TestPublish_OncePerDayAcrossARestart(t *testing.T) {
	t.Run("restart at 07:29:59", func(t *testing.T) {
		e := newEnv(t, morning.Add(-2*time.Second))
		r := newReceiver(t)
		cfg := e.config(e.jsonTarget("hook", r))
		e.ranBefore(cfg)
		stop := e.start(cfg)
		r.quiet(t, 0, 200*time.Millisecond)
		stop()
		e.clock.Set(morning.Add(-time.Second))
		e.start(cfg)
		r.quiet(t, 0, 200*time.Millisecond) // 07:29:59: not yet
		e.clock.Set(morning.Add(time.Second))
		r.wait(t, 1, 10*time.Second)
		r.quiet(t, 1, 1500*time.Millisecond)
	})
	t.Run("restart at 07:30:01", func(t *testing.T) {
		e := newEnv(t, morning.Add(-500*time.Millisecond))
		r := newReceiver(t)
		cfg := e.config(e.jsonTarget("hook", r))
		e.ranBefore(cfg)
		stop := e.start(cfg)
		e.clock.Set(morning)
		r.wait(t, 1, 10*time.Second)
		stop()
		e.clock.Set(morning.Add(time.Second))
		stop = e.start(cfg)
		r.quiet(t, 1, 1500*time.Millisecond)
		stop()
		e.clock.Set(morning.Add(24*time.Hour + time.Second)) // the next day's comes
		e.start(cfg)
		r.wait(t, 2, 10*time.Second)
		r.quiet(t, 2, 300*time.Millisecond)
	})
}

// Down at the posting time, back later the same day: the post is sent at
// once.
func TestPublish_MissedPostIsSentOnStartTheSameDay(t *testing.T) {
	e := newEnv(t, morning.Add(-24*time.Hour))
	r := newReceiver(t)
	cfg := e.config(e.jsonTarget("hook", r))
	e.ranBefore(cfg)
	stop := e.start(cfg)
	r.wait(t, 1, 10*time.Second) // yesterday's
	stop()
	e.clock.Set(morning.Add(4 * time.Hour)) // 11:30, down all morning
	e.start(cfg)
	got := r.wait(t, 2, 10*time.Second)
	var p jsonPost
	if err := json.Unmarshal(got[1].body, &p); err != nil || p.Day != testDay {
		t.Errorf("the post sent on start is for %v (%v), want today, %v", p.Day, err, testDay)
	}
	r.quiet(t, 2, 300*time.Millisecond)
}

// A service that keeps failing is given up when the day ends; the next
// day's post is tried afresh.
func TestPublish_GivesUpWhenTheDayEnds(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 7, 23, 59, 59, 700_000_000, time.UTC))
	r := newReceiver(t, reply{status: 502}, reply{status: 502}, reply{status: 502})
	cfg := e.config(e.jsonTarget("hook", r))
	cfg.At = "00:00"
	cfg.BackoffMin, cfg.BackoffMax = time.Second, time.Second
	// The day's post is due (the state says yesterday's was made).
	if err := os.WriteFile(cfg.StateFile, []byte(`{"hook":"2026-12-06"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start(cfg)
	r.wait(t, 1, 10*time.Second)
	eventually(t, func() bool { return e.failed("hook", failGivenUp) == 1 })
	if e.failed("hook", failGivenUp) != 1 {
		t.Errorf("given up %v after a failure with less than the back-off left in the day, want 1", e.failed("hook", failGivenUp))
	}
	if !strings.Contains(e.log.String(), "given up") {
		t.Errorf("the log does not say the post was given up:\n%s", e.log)
	}
}

func TestNew_RefusesWhatCannotWork(t *testing.T) {
	e := newEnv(t, morning)
	for _, tc := range []struct {
		target, want string
	}{
		{"a=slack:env:NOPE", "NOPE is not set"},
		{"a=discord:@/nonexistent/discord-url", "reading @/nonexistent/discord-url"},
		{"a=ntfy:https://ntfy.test/", "want an ntfy topic's URL"},
		{"a=json:https://x.test/?secret=" + e.secret("empty", ""), "is empty"},
		{"a=discord:" + e.secret("not-a-url", "hooks.example/secret-token"), "does not hold an http or https URL"},
	} {
		_, err := New(e.config(tc.target), e.lib, &quoter.Calendar{}, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one saying %q", tc.target, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%s: the error shows the secret: %v", tc.target, err)
		}
	}
}

// claims is a record of claims shared by replicas, as the leases' table
// on PostgreSQL is: each target's day goes to the first to claim it.
type claims struct {
	mu   sync.Mutex
	last map[string]quoter.Date
}

func (c *claims) ClaimDaily(_ context.Context, target string, day quoter.Date) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.last[target]; ok && !last.Before(day) {
		return false, nil
	}
	c.last[target] = day
	return true, nil
}

// Replicas sharing one record of claims post once between them, even
// started after the posting time with no state file of their own.
func TestPublish_ReplicasSharingClaimsPostOnce(t *testing.T) {
	e := newEnv(t, morning.Add(time.Hour))
	r := newReceiver(t)
	shared := &claims{last: map[string]quoter.Date{}}
	for range 3 {
		cfg := e.config(e.jsonTarget("hook", r))
		cfg.StateFile, cfg.Claims = "", shared
		e.start(cfg)
	}
	r.wait(t, 1, 10*time.Second)
	r.quiet(t, 1, 500*time.Millisecond)
	if _, err := os.Stat(filepath.Join(e.dir, "publish-daily.json")); err == nil {
		t.Error("a state file was written: with claims, the shared record is the only one")
	}
}

// A webhook over HTTPS, its certificate checked, that moved on its own
// host (308): the post follows it there, body and all.
func TestPublish_HTTPSWithARedirectOnTheSameHost(t *testing.T) {
	e := newEnv(t, morning)
	r := &receiver{arrived: make(chan struct{}, 100), replies: []reply{{status: http.StatusPermanentRedirect, location: "/api/webhooks/1/moved"}}}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{at: time.Now(), path: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
		rep := reply{status: http.StatusNoContent}
		if len(r.replies) > 0 {
			rep, r.replies = r.replies[0], r.replies[1:]
		}
		r.mu.Unlock()
		if rep.location != "" {
			w.Header().Set("Location", rep.location)
		}
		w.WriteHeader(rep.status)
		r.arrived <- struct{}{}
	}))
	r.StartTLS()
	t.Cleanup(r.Close)
	e.vars["DISCORD_URL"] = "https://example.com/api/webhooks/1/secret-token"
	cfg := e.config("gamers=discord:env:DISCORD_URL")
	cfg.Dial = hosts(map[string]*receiver{"example.com": r}) // the test certificate's name
	cfg.TLSConfig = r.Client().Transport.(*http.Transport).TLSClientConfig
	e.ranBefore(cfg)
	e.start(cfg)
	got := r.wait(t, 2, 10*time.Second)
	if got[1].path != "/api/webhooks/1/moved" || string(got[1].body) != string(got[0].body) || len(got[1].body) == 0 {
		t.Errorf("after the 308: POST %s with %d bytes, want /api/webhooks/1/moved with the same %d", got[1].path, len(got[1].body), len(got[0].body))
	}
	eventually(t, func() bool { return e.sent("gamers") == 1 })
	if e.sent("gamers") != 1 {
		t.Errorf("sent %v, want 1", e.sent("gamers"))
	}
}
