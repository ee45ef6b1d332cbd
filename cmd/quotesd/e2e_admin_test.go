package main

// End-to-end tests of curation in the browser: the real binary with
// --web-admin and --web-submissions, a curator whose password was set by
// "quotesd admin passwd", driven by headless Chromium through plain forms.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/quotesd/quotesd/quoter/quotertest"
)

const (
	e2eCurator  = "ada"
	e2ePassword = "correct horse battery staple"
	e2eToken    = "e2e-admin-token"
)

// startCuration serves a sample library with /admin and the public
// submissions on, the admin API's token e2eToken, and the curator
// e2eCurator, whose password is set with "quotesd admin passwd" before
// the server starts.
func startCuration(t *testing.T, args ...string) (*server, string) {
	t.Helper()
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	setCuratorPassword(t, db, e2eCurator, e2ePassword)
	return startCurationOn(t, db, args...)
}

// startCurationOn is startCuration on the library db.
func startCurationOn(t *testing.T, db string, args ...string) (*server, string) {
	t.Helper()
	all := append([]string{"--db", db, "serve", "--log-format", "json", "--log-level", "debug",
		"--web-addr", "127.0.0.1:0", "--state-dir", t.TempDir(), "--web-admin", "--web-submissions"}, offExcept("web")...)
	cmd := exec.Command(quotesdBinary(t), append(all, args...)...)
	cmd.Env = append(os.Environ(), "QUOTESD_WEB_ADMIN_TOKEN="+e2eToken)
	s := startProcess(t, cmd, []string{"web"})
	return s, "http://" + s.Addr("web")
}

// do runs browser actions, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// submitClick clicks a form's button and returns the status of the page
// it leads to (after any redirect).
func submitClick(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
	return resp.Status
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signInBrowser(t *testing.T, ctx context.Context, base, password string) int64 {
	t.Helper()
	do(t, ctx, "opening the sign-in page", chromedp.Navigate(base+"/admin/signin"), chromedp.WaitVisible("#name"),
		chromedp.SetValue("#name", e2eCurator), chromedp.SetValue("#password", password))
	return submitClick(t, ctx, `form[action="/admin/signin"] button`)
}

func quotesTotal(t *testing.T, base string) int {
	t.Helper()
	_, _, body := fetch(t, "GET", base+"/api/v1/quotes?limit=1", "")
	var l struct {
		TotalCount int `json:"totalCount"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("/api/v1/quotes: %v: %s", err, body)
	}
	return l.TotalCount
}

func TestWebE2E_CuratorReviewsEditsPinsAndImportsInTheBrowser(t *testing.T) {
	ctx := browserFor(t, 2*time.Minute)
	s, base := startCuration(t)

	// A visitor submits a quote through the public form.
	do(t, ctx, "submitting a quote", chromedp.Navigate(base+"/submit"), chromedp.WaitVisible("#text"),
		chromedp.SetValue("#text", "Whereof one cannot speak, thereof one must be silent."),
		chromedp.SetValue("#author", "Ludwig Wittgenstein"), chromedp.SetValue("#note", "Tractatus, 7"))
	if st := submitClick(t, ctx, `form[action="/submit"] button`); st != http.StatusOK {
		t.Fatalf("submitting: status %d", st)
	}
	if txt := pageText(t, ctx); !strings.Contains(txt, "Thank you") {
		t.Fatalf("after submitting: %s", txt)
	}
	if quotesWith(t, base, "Wittgenstein") != 0 {
		t.Fatal("a submission is published before approval")
	}

	// Signing in: the session cookie is HttpOnly, SameSite=Strict, and not
	// Secure over plain HTTP (Secure behind TLS is checked below).
	do(t, ctx, "opening /admin signed out", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible("#password"))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/admin/signin" {
		t.Errorf("/admin signed out led to %s, want the sign-in page", loc)
	}
	if st := signInBrowser(t, ctx, base, e2ePassword); st != http.StatusOK {
		t.Fatalf("signing in: status %d", st)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "quotesd_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie after signing in: %+v", cookies.Cookies)
	}
	if !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Secure || session.Path != "/" {
		t.Errorf("session cookie: HttpOnly %v SameSite %q Secure %v Path %q; want HttpOnly, Strict, not Secure over HTTP, /",
			session.HTTPOnly, session.SameSite, session.Secure, session.Path)
	}
	if js, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(js, "quotesd_session") {
		t.Error("scripts can read the session cookie")
	}
	s.WaitLog(5*time.Second, "admin sign-in", map[string]string{"curator": e2eCurator, "client_ip": "127.0.0.1"})

	// Approve the pending submission.
	txt := pageText(t, ctx)
	if !strings.Contains(txt, "Whereof one cannot speak") || !strings.Contains(txt, "Tractatus, 7") {
		t.Fatalf("the queue does not show the submission:\n%s", txt)
	}
	if st := submitClick(t, ctx, `li.submission form[action$="/approve"] button`); st != http.StatusOK {
		t.Fatalf("approving: status %d", st)
	}
	if txt := pageText(t, ctx); !strings.Contains(txt, "approved and published") || !strings.Contains(txt, "Nothing is waiting") {
		t.Errorf("after approving:\n%s", txt)
	}
	if quotesWith(t, base, "Wittgenstein") != 1 {
		t.Error("the approved quote is not published")
	}

	// Edit a quote.
	_, _, body := fetch(t, "GET", base+"/api/v1/today", "")
	var today e2eQuote
	if err := json.Unmarshal([]byte(body), &today); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(today.ID, 10)
	do(t, ctx, "opening the quote's admin page", chromedp.Navigate(base+"/admin/quotes/"+id), chromedp.WaitVisible("#author"),
		chromedp.SetValue("#author", "An Edited Author"))
	if st := submitClick(t, ctx, `form[action="/admin/quotes/`+id+`"] button`); st != http.StatusOK {
		t.Fatalf("saving the edit: status %d", st)
	}
	_, _, body = fetch(t, "GET", base+"/api/v1/quotes/"+id, "")
	if !strings.Contains(body, `"author":"An Edited Author"`) || !strings.Contains(body, `"editedBy":{"by":"ada","via":"web"}`) {
		t.Errorf("the quote after the edit: %s", body)
	}

	// Pin it to a day to come.
	do(t, ctx, "filling the pin form", chromedp.WaitVisible("#date"), chromedp.SetValue("#date", "2030-01-01"))
	if st := submitClick(t, ctx, `form[action$="/pin"] button`); st != http.StatusOK {
		t.Fatalf("pinning: status %d", st)
	}
	if txt := pageText(t, ctx); !strings.Contains(txt, "pinned to that day") {
		t.Errorf("after pinning:\n%s", txt)
	}
	_, _, body = fetch(t, "GET", base+"/api/v1/days?from=2030-01-01", "", "Authorization", "Bearer "+e2eToken)
	if !strings.Contains(body, `"date":"2030-01-01","id":`+id) {
		t.Errorf("pins after pinning: %s", body)
	}

	// An import with an error on line 3 imports nothing and says where.
	before := quotesTotal(t, base)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("text,author\nA good first line.,Someone\n,Nobody\nA good third line.,Someone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "choosing the file to import", chromedp.Navigate(base+"/admin/import"), chromedp.WaitVisible("#file"),
		chromedp.SetUploadFiles("#file", []string{bad}))
	if st := submitClick(t, ctx, `form[action="/admin/import"] button`); st != http.StatusBadRequest {
		t.Errorf("a bad import: status %d, want 400", st)
	}
	txt = pageText(t, ctx)
	if !strings.Contains(txt, "bad.csv:3") || !strings.Contains(txt, "Nothing was imported") {
		t.Errorf("the bad import's page does not show line 3 and that nothing was imported:\n%s", txt)
	}
	if after := quotesTotal(t, base); after != before {
		t.Errorf("a refused import changed the library from %d to %d quotes", before, after)
	}

	// A form POST without its CSRF token is refused, and changes nothing.
	do(t, ctx, "opening the quote's admin page", chromedp.Navigate(base+"/admin/quotes/"+id), chromedp.WaitVisible("#author"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('form[action$="/delete"] input[name=csrf]').remove() || true`)); err != nil {
		t.Fatal(err)
	}
	if st := submitClick(t, ctx, `form[action$="/delete"] button`); st != http.StatusForbidden {
		t.Errorf("a delete without its CSRF token: status %d, want 403", st)
	}
	if code, _, _ := fetch(t, "GET", base+"/api/v1/quotes/"+id, ""); code != http.StatusOK {
		t.Errorf("the quote after a refused delete: %d", code)
	}

	// The admin pages fit a phone's screen.
	do(t, ctx, "narrowing the viewport", chromedp.EmulateViewport(375, 812))
	for _, p := range []string{"/admin", "/admin/quotes/" + id, "/admin/import", "/admin/collections", "/submit", "/quotes/" + id} {
		do(t, ctx, "opening "+p, chromedp.Navigate(base+p), chromedp.WaitReady("main"))
		noHorizontalScroll(t, ctx, p)
	}
	screenshot(t, ctx, "quote-375")
	// And in dark mode, at a desktop's width.
	dark := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: dark}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "opening the quote's admin page in dark mode", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/admin/quotes/"+id), chromedp.WaitReady("main"))
	screenshot(t, ctx, "admin-quote-dark")
}

// quotesWith counts the quotes a search for words finds.
func quotesWith(t *testing.T, base, words string) int {
	t.Helper()
	_, _, body := fetch(t, "GET", base+"/api/v1/search?q="+url.QueryEscape(words), "")
	var l struct {
		TotalCount int `json:"totalCount"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("search: %v: %s", err, body)
	}
	return l.TotalCount
}

func TestWebE2E_AWrongPasswordFiveTimesIsThrottled(t *testing.T) {
	ctx := browserFor(t, 2*time.Minute) // six argon2id verifications, in a -race binary
	s, base := startCuration(t)
	for i := range 5 {
		if st := signInBrowser(t, ctx, base, "wrong guess "+strconv.Itoa(i)); st != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i+1, st)
		}
		if txt := pageText(t, ctx); !strings.Contains(txt, "Wrong name or password") {
			t.Fatalf("wrong password %d:\n%s", i+1, txt)
		}
	}
	// The sixth attempt, even with the right password, waits.
	if st := signInBrowser(t, ctx, base, e2ePassword); st != http.StatusTooManyRequests {
		t.Errorf("sixth attempt: status %d, want 429", st)
	}
	if txt := pageText(t, ctx); !strings.Contains(txt, "Too many sign-in attempts") {
		t.Errorf("sixth attempt:\n%s", txt)
	}
	s.WaitLog(5*time.Second, "admin sign-in failed", map[string]string{"curator": e2eCurator, "client_ip": "127.0.0.1"})
	s.WaitLog(5*time.Second, "admin sign-in throttled", map[string]string{"curator": e2eCurator})
}

// Behind a trusted reverse proxy that terminated TLS, the session cookie
// is Secure.
func TestWebE2E_SessionCookieIsSecureBehindATLSProxy(t *testing.T) {
	_, base := startCuration(t, "--web-trusted-proxies", "127.0.0.1/32")
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) string {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return b.String()
	}
	page := get(base + "/admin/signin")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", page)
	}
	form := url.Values{"csrf": {m[1]}, "name": {e2eCurator}, "password": {e2ePassword}}
	req, _ := http.NewRequest("POST", base+"/admin/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in behind the proxy: %d", resp.StatusCode)
	}
	var session string
	for _, sc := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "quotesd_session=") {
			session = sc
		}
	}
	for _, flag := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age="} {
		if !strings.Contains(session, flag) {
			t.Errorf("session cookie %q lacks %s", session, flag)
		}
	}
}

// setCuratorPassword runs "quotesd admin passwd NAME" with the password
// piped in, as a script would.
func setCuratorPassword(t *testing.T, db, name, password string) {
	t.Helper()
	cmd := exec.Command(quotesdBinary(t), "--db", db, "admin", "passwd", name)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("quotesd admin passwd %s: %v\n%s", name, err, out)
	}
}

// signInHTTP signs in with a plain HTTP client and returns the session
// cookie.
func signInHTTP(t *testing.T, base string) *http.Cookie {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/admin/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/admin/signin", url.Values{"csrf": {string(m[1])}, "name": {e2eCurator}, "password": {e2ePassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "quotesd_session" {
			return ck
		}
	}
	t.Fatalf("signing in: %d, no session cookie", resp.StatusCode)
	return nil
}

// adminStatus is the status of GET /admin with the session cookie ck.
func adminStatus(t *testing.T, base string, ck *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/admin", nil)
	req.AddCookie(ck)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A session is a signed cookie, not server state: another replica serving
// the same library accepts it, and so does a quotesd started afresh. A
// new password ends it everywhere.
func TestWebE2E_ASessionWorksOnEveryReplicaAndAfterARestart(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	setCuratorPassword(t, db, e2eCurator, e2ePassword)
	a, baseA := startCurationOn(t, db)
	ck := signInHTTP(t, baseA)
	_, baseB := startCurationOn(t, db)
	if st := adminStatus(t, baseB, ck); st != http.StatusOK {
		t.Errorf("the session signed in on one replica, on another: %d, want 200", st)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	_, baseC := startCurationOn(t, db)
	if st := adminStatus(t, baseC, ck); st != http.StatusOK {
		t.Errorf("the session after a restart: %d, want 200", st)
	}
	setCuratorPassword(t, db, e2eCurator, "a brand new password")
	for _, base := range []string{baseB, baseC} {
		if st := adminStatus(t, base, ck); st != http.StatusSeeOther {
			t.Errorf("the session after a new password, on %s: %d, want 303 to the sign-in page", base, st)
		}
	}
}
