package main

// End-to-end tests of the web frontend: the real binary serving a real
// library on loopback, driven by an HTTP client and by headless Chromium.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/quotesd/quotesd/quoter/quotertest"
)

// startWeb serves a sample library over the web frontend only, with env
// added to the process environment. With --ops-addr among args (the
// operations listener, off otherwise) it waits for that listener too.
func startWeb(t *testing.T, env []string, args ...string) (*server, string) {
	t.Helper()
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	all := append([]string{"--db", db, "serve", "--log-format", "json", "--log-level", "debug",
		"--web-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("web")...)
	cmd := exec.Command(quotesdBinary(t), append(all, args...)...)
	cmd.Env = append(os.Environ(), env...)
	wait := []string{"web"}
	if slices.Contains(args, "--ops-addr") {
		wait = append(wait, "ops")
	}
	s := startProcess(t, cmd, wait)
	return s, "http://" + s.Addr("web")
}

// fetch does one request and returns the status, headers and body.
func fetch(t *testing.T, method, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

type e2eQuote struct {
	ID     int64  `json:"id"`
	Text   string `json:"text"`
	Author string `json:"author"`
}

func TestWebE2E_CurlJSONAndMetricsOnTheOpsListener(t *testing.T) {
	s, base := startWeb(t, nil, "--ops-addr", "127.0.0.1:0")
	ops := "http://" + s.Addr("ops")
	code, _, body := fetch(t, "GET", base+"/api/v1/today", "")
	if code != 200 {
		t.Fatalf("/api/v1/today: %d %s", code, body)
	}
	var today e2eQuote
	if err := json.Unmarshal([]byte(body), &today); err != nil {
		t.Fatal(err)
	}
	code, hdr, text := fetch(t, "GET", base+"/", "", "Accept", "*/*")
	if code != 200 || !strings.HasPrefix(text, today.Text+"\n    -- "+today.Author) {
		t.Errorf("curl / = %d %q, want today's quote %q as text", code, text, today.Text)
	}
	if !strings.Contains(hdr.Get("Cache-Control"), "max-age=") || hdr.Get("ETag") == "" {
		t.Errorf("today's caching headers missing: %v", hdr)
	}
	if code, _, _ := fetch(t, "GET", ops+"/readyz", ""); code != 200 {
		t.Errorf("/readyz on the ops listener = %d, want 200", code)
	}
	_, _, metrics := fetch(t, "GET", ops+"/metrics", "")
	for _, m := range []string{`quotesd_web_requests_total{code="200",method="GET",route="/api/v1/today"} 1`, "go_goroutines"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics on the ops listener lacks %s", m)
		}
	}
	s.WaitLog(5*time.Second, "request", map[string]string{"path": "/api/v1/today", "client_ip": "127.0.0.1", "frontend": "web"})
	if err := s.Stop(); err != nil {
		t.Errorf("quotesd serve exited with %v after SIGTERM, want status 0", err)
	}
}

// The public port serves no operations endpoint unless --web-ops asks for
// the health checks (a load balancer that checks only the port it
// balances); /metrics is never there. --web-ops is live on SIGHUP.
func TestWebE2E_PublicPortServesHealthChecksOnlyWithWebOpsAndNeverMetrics(t *testing.T) {
	config := filepath.Join(t.TempDir(), "quotesd.conf")
	if err := os.WriteFile(config, []byte("web-ops = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, base := startWeb(t, nil, "--config", config)
	for _, path := range []string{"/metrics", "/livez", "/readyz"} {
		if code, _, _ := fetch(t, "GET", base+path, ""); code != http.StatusNotFound {
			t.Errorf("%s on the web port without --web-ops = %d, want 404", path, code)
		}
	}
	if err := os.WriteFile(config, []byte("web-ops = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "reloaded", nil)
	for _, path := range []string{"/livez", "/readyz"} {
		if code, _, body := fetch(t, "GET", base+path, ""); code != http.StatusOK || body != "ok\n" {
			t.Errorf("%s on the web port with web-ops = true: %d %q, want 200 ok", path, code, body)
		}
	}
	if code, _, _ := fetch(t, "GET", base+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the web port with web-ops = true = %d, want 404: metrics are on --ops-addr only", code)
	}
}

func TestWebE2E_AdminAPIWithoutTokenIsAbsent(t *testing.T) {
	_, base := startWeb(t, []string{"QUOTESD_WEB_ADMIN_TOKEN="})
	code, _, body := fetch(t, "POST", base+"/api/v1/quotes", `{"text":"x","author":"y"}`, "Authorization", "Bearer anything")
	if code != 404 {
		t.Errorf("POST without a configured token = %d %s, want 404", code, body)
	}
}

func TestWebE2E_AdminTokenFromEnvironment(t *testing.T) {
	_, base := startWeb(t, []string{"QUOTESD_WEB_ADMIN_TOKEN=env-token-123"})
	code, hdr, body := fetch(t, "POST", base+"/api/v1/quotes", `{"text":"Added over HTTP, end to end.","author":"E2E"}`,
		"Authorization", "Bearer env-token-123", "Content-Type", "application/json")
	if code != 201 {
		t.Fatalf("POST = %d %s, want 201", code, body)
	}
	if code, _, got := fetch(t, "GET", base+hdr.Get("Location"), ""); code != 200 || !strings.Contains(got, "Added over HTTP") {
		t.Errorf("GET %s = %d %s", hdr.Get("Location"), code, got)
	}
	code, _, _ = fetch(t, "POST", base+"/api/v1/quotes", `{"text":"Added over HTTP, end to end.","author":"E2E"}`,
		"Authorization", "Bearer env-token-123")
	if code != 409 {
		t.Errorf("duplicate POST = %d, want 409", code)
	}
	if code, _, _ := fetch(t, "DELETE", base+hdr.Get("Location"), "", "Authorization", "Bearer wrong"); code != 401 {
		t.Errorf("DELETE with a wrong token = %d, want 401", code)
	}
}

func TestWebE2E_TokenFileIsReloadedOnSIGHUP(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("first-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, base := startWeb(t, nil, "--web-admin-token-file", file)
	add := func(tok, text string) int {
		code, _, _ := fetch(t, "POST", base+"/api/v1/quotes", `{"text":"`+text+`","author":"Reload"}`, "Authorization", "Bearer "+tok)
		return code
	}
	if code := add("first-token", "Before the reload."); code != 201 {
		t.Fatalf("first token: %d, want 201", code)
	}
	if err := os.WriteFile(file, []byte("second-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "reload: applied", map[string]string{"setting": "web-admin-token", "new": "(redacted)"})
	if code := add("first-token", "With the old token."); code != 401 {
		t.Errorf("old token after reload: %d, want 401", code)
	}
	if code := add("second-token", "After the reload."); code != 201 {
		t.Errorf("new token after reload: %d, want 201", code)
	}
}

// A SIGHUP re-reads the settings and builds a new web handler; a client
// that has spent its request budget must not get it back, whether the
// rate changed or not (issue 16: each reload used to forgive every client).
func TestWebE2E_SIGHUPKeepsEachClientsSpentRateLimit(t *testing.T) {
	config := filepath.Join(t.TempDir(), "quotesd.conf")
	settings := func(text string) {
		t.Helper()
		if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	settings("web-rate = 2\n") // a burst of 2, then one every 30 s
	s, base := startWeb(t, nil, "--config", config)
	today := func() (int, http.Header) {
		t.Helper()
		code, hdr, _ := fetch(t, "GET", base+"/api/v1/today", "")
		return code, hdr
	}
	for i := range 2 {
		if code, _ := today(); code != http.StatusOK {
			t.Fatalf("request %d of a burst of 2: %d, want 200", i+1, code)
		}
	}
	if code, hdr := today(); code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("third request: %d with Retry-After %q, want 429 with a Retry-After", code, hdr.Get("Retry-After"))
	}
	reload := func(text string) {
		t.Helper()
		settings(text)
		s.Signal(syscall.SIGHUP)
		s.WaitLog(10*time.Second, "reloaded", nil)
	}
	for _, text := range []string{"web-rate = 2\n", "web-rate = 3\n"} {
		reload(text)
		if code, _ := today(); code != http.StatusTooManyRequests {
			t.Errorf("after a reload with %q: %d, want 429 (the client spent its budget)", strings.TrimSpace(text), code)
		}
	}
	// The reload did apply: without a limit the client gets through.
	reload("web-rate = 0\n")
	if code, _ := today(); code != http.StatusOK {
		t.Errorf("after a reload with web-rate = 0: %d, want 200", code)
	}
}

// browser starts headless Chromium on a fresh profile. Its flags keep it
// off the network beyond loopback: no background services, no component
// updates, no sync, and a host resolver that resolves nothing but the
// loopback address.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserFor(t, 30*time.Second)
}

// browserFor is browser for a test that drives it for up to d in all.
func browserFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	path := e2eTool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, d)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// screenshot saves a full-page screenshot in the test's temp dir, and in
// $QUOTESD_E2E_SCREENSHOTS when set (to look at the pages by eye).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 {
		t.Errorf("screenshot %s is only %d bytes", name, len(png))
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("QUOTESD_E2E_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// noHorizontalScroll fails when the page is wider than the viewport.
func noHorizontalScroll(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= document.documentElement.clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		t.Errorf("%s scrolls horizontally at 375 px: scrollWidth %d", page, w)
	}
}

func TestWebE2E_BrowserShowsTodaysQuote(t *testing.T) {
	ctx := browser(t)
	_, base := startWeb(t, nil)
	_, _, body := fetch(t, "GET", base+"/api/v1/today", "")
	var today e2eQuote
	if err := json.Unmarshal([]byte(body), &today); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(".quote-text")); err != nil {
		t.Fatalf("opening /: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".quote-text p").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if shown != today.Text {
		t.Errorf("page shows %q, /api/v1/today says %q", shown, today.Text)
	}
	author, _ := chromedp.Run(ctx, chromedp.Text(".quote .author"))
	if author != today.Author {
		t.Errorf("page credits %q, want %q", author, today.Author)
	}
	// The stylesheet loaded despite the strict CSP (a blocked sheet would
	// leave the default serif 16 px text).
	size, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".quote-text")).fontSize`))
	if size == "16px" || size == "" {
		t.Errorf("quote font size %q: the stylesheet did not apply", size)
	}
	screenshot(t, ctx, "today-desktop")

	if err := chromedp.Do(ctx, chromedp.Click(`a.random`), chromedp.WaitVisible(`#quote-title`)); err != nil {
		t.Fatalf("following the random link: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/random") {
		t.Errorf("after clicking 'random', location = %s", loc)
	}
	if txt, _ := chromedp.Run(ctx, chromedp.Text(".quote-text")); strings.TrimSpace(txt) == "" {
		t.Error("random page shows no quote")
	}

	// A phone: 375 px wide. No page may scroll sideways, not even the
	// search results holding the longest quotes.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 812)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/random", "/search?q=the", "/authors", "/tags", "/day/2000-01-01", "/nope"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+p)); err != nil {
			t.Fatalf("opening %s: %v", p, err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitReady("main")); err != nil {
			t.Fatalf("waiting for %s: %v", p, err)
		}
		noHorizontalScroll(t, ctx, p)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(".quote-text")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "today-phone")

	// Dark mode follows the system's preference.
	light, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	dark := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
	if _, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: dark})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	night, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if night == light {
		t.Errorf("background %s in both light and dark mode", light)
	}
	screenshot(t, ctx, "today-phone-dark")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/search?q=the"), chromedp.WaitReady("main")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "search-desktop-dark")
}
