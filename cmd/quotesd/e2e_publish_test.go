package main

// End-to-end test of the daily posts: the real quotesd binary posting to
// a receiver on loopback standing in for a webhook.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/publish"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

func init() {
	// The reload test starts each component from a settings file: the
	// publisher needs a target, whose URL a file holds.
	url, err := filepath.Abs("testdata/publish-url")
	if err != nil {
		panic(err)
	}
	startSettings["publish"] = []string{`publish = ` + strconv.Quote("team=slack:@"+url)}
}

// hookReceiver records the posts a webhook on loopback is sent.
type hookReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	posts []hookPost
	got   chan struct{}
}

type hookPost struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{got: make(chan struct{}, 10)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.posts = append(r.posts, hookPost{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		r.got <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.posts)
}

// quotesd down at the posting time (00:00 UTC, passed whenever the test
// runs) and started later the same day posts the day's quote at once,
// signed, with links to the site; started again, it does not post twice.
func TestPublish_E2E_MissedPostIsSentOnceWhenQuotesdComesBack(t *testing.T) {
	recv := newHookReceiver(t)
	dir, state := t.TempDir(), t.TempDir()
	key := filepath.Join(dir, "hmac-key")
	if err := os.WriteFile(key, []byte("e2e-hmac-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// What a quotesd that posted yesterday left.
	today := quoter.DateOf(time.Now().UTC())
	if err := os.WriteFile(filepath.Join(state, "publish-daily.json"), []byte(`{"robot":"`+today.AddDays(-1).String()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	args := append(offExcept("publish"),
		"--state-dir", state, "--tz", "UTC",
		"--publish", "robot=json:"+recv.URL+"/hooks/quotes?secret=@"+key,
		"--publish-at", "00:00",
		"--publish-base-url", "https://quotes.example.org",
	)
	s := startServe(t, db, nil, args...)
	select {
	case <-recv.got:
	case <-time.After(30 * time.Second):
		t.Fatal("no post within 30s of the start")
	}
	s.WaitLog(10*time.Second, "publish daily quote posted", map[string]string{"target": "robot", "frontend": "publish"})
	recv.mu.Lock()
	p := recv.posts[0]
	recv.mu.Unlock()
	if got, want := p.header.Get("X-Quotesd-Signature"), publish.Sign([]byte("e2e-hmac-key"), p.body); got != want {
		t.Errorf("X-Quotesd-Signature = %q, want %q", got, want)
	}
	var body struct {
		Day   quoter.Date `json:"day"`
		URL   string      `json:"url"`
		Quote struct {
			ID int64 `json:"id"`
		} `json:"quote"`
	}
	if err := json.Unmarshal(p.body, &body); err != nil {
		t.Fatalf("post %s: %v", p.body, err)
	}
	if body.Day != today || body.URL != "https://quotes.example.org/quotes/"+strconv.FormatInt(body.Quote.ID, 10) {
		t.Errorf("post for %v linking %q, want today %v and the quote's page", body.Day, body.URL, today)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("quotesd serve exited with %v, want status 0", err)
	}
	for _, l := range s.Logs() {
		if strings.Contains(l, "e2e-hmac-key") {
			t.Errorf("the log shows the HMAC key: %s", l)
		}
	}

	again := startServe(t, db, nil, args...)
	again.WaitLog(30*time.Second, "ready", nil)
	time.Sleep(time.Second)
	if n := recv.count(); n != 1 {
		t.Errorf("%d posts after a restart the same day, want 1", n)
	}
	if err := again.Stop(); err != nil {
		t.Errorf("quotesd serve exited with %v, want status 0", err)
	}
}

// Three replicas on one PostgreSQL database, each configured with the
// same target: the leader of the publish role posts, once; a new leader
// after the first is killed does not post again.
func TestPublish_E2E_ReplicasOnPostgresPostOnceAcrossAFailover(t *testing.T) {
	db := pgLibrary(t)
	recv := newHookReceiver(t)
	key := filepath.Join(t.TempDir(), "hmac-key")
	if err := os.WriteFile(key, []byte("replicas-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, _ := startReplicas(t, db, 3, nil, func(stateDir string) []string {
		return append(offExcept("publish"),
			"--state-dir", stateDir, "--tz", "UTC",
			"--publish", "robot=json:"+recv.URL+"/in?secret=@"+key,
			"--publish-at", "00:00", // passed: the first leader posts today's quote
		)
	})
	select {
	case <-recv.got:
	case <-time.After(30 * time.Second):
		t.Fatal("no post within 30s of the start")
	}
	time.Sleep(3 * time.Second) // more than a renewal: the followers have tried
	leader, rest := theLeader(t, rs)
	leader.Kill()
	killed := time.Now()
	for len(leading(rest)) == 0 && time.Since(killed) < 20*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	if len(leading(rest)) != 1 {
		t.Fatalf("no replica took the lead within 20s of the leader's SIGKILL")
	}
	t.Logf("a new leader within %v of the SIGKILL", time.Since(killed).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	if n := recv.count(); n != 1 {
		t.Errorf("%d posts, want 1: the new leader must find the day claimed", n)
	}
}
