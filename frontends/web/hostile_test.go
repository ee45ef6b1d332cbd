package web_test

// Bad input from the internet: each case gets a clear 4xx or is dropped,
// never a 500, a crash or a hang.

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

func TestHostile_APIParametersOutOfRangeOrOfWrongTypeAre400NamingThem(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ target, param string }{
		{"/api/v1/random?limit=0", "limit"},
		{"/api/v1/random?limit=51", "limit"},
		{"/api/v1/random?limit=abc", "limit"},
		{"/api/v1/random?limit=-1", "limit"},
		{"/api/v1/random?limit=1e3", "limit"},
		{"/api/v1/random?limit=99999999999999999999999", "limit"},
		{"/api/v1/random?minLength=-1", "minLength"},
		{"/api/v1/random?minLength=abc", "minLength"},
		{"/api/v1/random?maxLength=x", "maxLength"},
		{"/api/v1/random?maxLength=99999999999999999999999", "maxLength"},
		{"/api/v1/random?minLength=100&maxLength=10", "maxLength"},
		{"/api/v1/quotes?page=0", "page"},
		{"/api/v1/quotes?page=-1", "page"},
		{"/api/v1/quotes?page=abc", "page"},
		{"/api/v1/quotes?page=99999999999999999999", "page"},
		{"/api/v1/quotes?limit=0", "limit"},
		{"/api/v1/quotes?limit=101", "limit"},
		{"/api/v1/quotes?limit=%00", "limit"},
		{"/api/v1/quotes?sort=bogus", "sort"},
		{"/api/v1/quotes?sort=id%3BDROP", "sort"},
		{"/api/v1/quotes?order=sideways", "order"},
		{"/api/v1/today?date=2026-13-01", "date"},
		{"/api/v1/today?date=2026-02-30", "date"},
		{"/api/v1/today?date=abc", "date"},
		{"/api/v1/today?date=%ff", "date"},
		{"/api/v1/search", "q"},
		{"/api/v1/search?q=", "q"},
		{"/api/v1/search?q=" + strings.Repeat("word+", 300), "q"},
		{"/api/v1/search?q=a&page=abc", "page"},
		{"/api/v1/search?q=a&limit=1000", "limit"},
		{"/api/v1/quotes/abc", "id"},
		{"/api/v1/quotes/-1", "id"},
		{"/api/v1/quotes/0", "id"},
		{"/api/v1/quotes/1.5", "id"},
		{"/api/v1/quotes/99999999999999999999", "id"},
		{"/?format=xml", "format"},
		{"/api/v1/today?format=%3Cscript%3E", "format"}, // the API takes no format: unknown parameter
	} {
		w := e.get(tc.target, "Accept", "application/json")
		if tc.param == "" {
			if w.Code != http.StatusOK {
				t.Errorf("%s: %d, want 200", tc.target, w.Code)
			}
			continue
		}
		t.Run(tc.target, func(t *testing.T) { wantAPIError(t, w, http.StatusBadRequest, tc.param) })
	}
}

func TestHostile_PagesWithBadInputAreFriendly4xxNever500(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{
		"/day/2026-02-30", "/day/abc", "/day/99999-01-01", "/day/-2026-01-01", "/day/%ff",
		"/day/2099-01-01", "/quotes/abc", "/quotes/-1", "/quotes/99999999999999999999", "/quotes/%00",
		"/random?tag=%00", "/random?tag=%ff", "/random?maxLength=-5", "/random?minLength=zz",
		"/search?q=a&page=-3", "/search?q=a&page=zz", "/search?q=%ff", "/search?q=%22%22%22",
		"/authors?page=0", "/tags?page=-1", "/?format=%3Cscript%3E", "/%ff", "/%00",
	} {
		for _, accept := range []string{browserAccept, "*/*", "application/json"} {
			w := e.get(target, "Accept", accept)
			if w.Code < 400 || w.Code >= 500 {
				// A few of these are fine as 200 (an ignored parameter); none may be a 5xx.
				if w.Code >= 500 {
					t.Errorf("%s (Accept %s): %d, want a 4xx", target, accept, w.Code)
				}
				continue
			}
			if strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") && strings.Contains(w.Body.String(), "<script>") {
				t.Errorf("%s: error page echoes markup unescaped:\n%s", target, truncate(w.Body.String()))
			}
		}
	}
}

// listenRaw starts h on loopback with its real server, its read-header
// timeout set to rht when positive, and returns the address.
func listenRaw(t *testing.T, h http.Handler, rht time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(ln, h, nil, time.Second)
	if rht > 0 {
		srv.SetReadHeaderTimeout(rht)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// rawGet sends a request line and headers exactly as given and returns the
// status code of the answer (0 if the connection closed without one).
func rawGet(t *testing.T, addr, target string, headers ...string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: quotes.test\r\nConnection: close\r\n", target)
	for _, h := range headers {
		fmt.Fprintf(c, "%s\r\n", h)
	}
	io.WriteString(c, "\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHostile_HugeRequestTargetsAndHeadersAre414Or431(t *testing.T) {
	e := newEnv(t)
	addr := listenRaw(t, e.handler, 0)
	for _, tc := range []struct {
		name    string
		target  string
		headers []string
		want    int
	}{
		{"QueryOf16KiB", "/api/v1/search?q=" + strings.Repeat("a", 16<<10), nil, http.StatusRequestURITooLong},
		{"PathOf16KiB", "/" + strings.Repeat("p", 16<<10), nil, http.StatusRequestURITooLong},
		{"QueryOf64KiB", "/api/v1/search?q=" + strings.Repeat("a", 64<<10), nil, http.StatusRequestHeaderFieldsTooLarge},
		{"QueryOf1MiB", "/?q=" + strings.Repeat("a", 1<<20), nil, http.StatusRequestHeaderFieldsTooLarge},
		{"OneHeaderOf64KiB", "/", []string{"X-Huge: " + strings.Repeat("a", 64<<10)}, http.StatusRequestHeaderFieldsTooLarge},
		{"ThousandHeaders", "/", func() []string {
			var hs []string
			for i := range 1000 {
				hs = append(hs, fmt.Sprintf("X-H%d: %s", i, strings.Repeat("v", 40)))
			}
			return hs
		}(), http.StatusRequestHeaderFieldsTooLarge},
		{"LongCookie", "/", []string{"Cookie: a=" + strings.Repeat("c", 40<<10)}, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := rawGet(t, addr, tc.target, tc.headers...); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	if got, _ := rawGet(t, addr, "/api/v1/today"); got != http.StatusOK {
		t.Errorf("after the huge requests: /api/v1/today %d, want 200", got)
	}
}

// A slowloris client sends its headers a byte at a time: the server closes
// it at the read-header timeout, and serves others meanwhile.
func TestHostile_SlowlorisIsCutAtTheReadHeaderTimeout(t *testing.T) {
	e := newEnv(t)
	const rht = 300 * time.Millisecond
	addr := listenRaw(t, e.handler, rht)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		io.Copy(io.Discard, c) // returns when the server closes
		closed <- time.Since(start)
	}()
	req := "GET / HTTP/1.1\r\nHost: quotes.test\r\nX-Slow: " + strings.Repeat("z", 200)
	sent := 0
	var took time.Duration
loop:
	for i := 0; i < len(req); i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			break
		}
		sent++
		select {
		case took = <-closed:
			break loop
		case <-time.After(50 * time.Millisecond):
		}
		if i == 2 { // others are served while the slow client dribbles
			if got, _ := rawGet(t, addr, "/api/v1/today"); got != http.StatusOK {
				t.Errorf("another client during the slowloris: %d, want 200", got)
			}
		}
	}
	if took == 0 {
		select {
		case took = <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("the slow client was still connected after sending %d bytes over %v", sent, time.Since(start))
		}
	}
	// The server's clock starts at accept, a little before ours.
	if took < rht*2/3 || took > rht+5*time.Second || sent >= len(req) {
		t.Errorf("the slow client was cut after %v (%d bytes), want soon after the %v read-header timeout", took, sent, rht)
	}
}

func TestHostile_PathTraversalOnStaticAssetsFindsNothing(t *testing.T) {
	e := newEnv(t)
	addr := listenRaw(t, e.handler, 0)
	for _, target := range []string{
		"/static/../web.go", "/static/../../go.mod", "/static/%2e%2e/web.go", "/static/%2e%2e%2fweb.go",
		"/static/..%2f..%2fgo.mod", "/static/..%5c..%5cgo.mod", "/static//etc/passwd", "//etc/passwd",
		"/static/%2fetc%2fpasswd", "/static/....//....//etc/passwd", "/static/.", "/static/", "/static/%00",
		"/static/assets/../../../../etc/passwd", "/static/%c0%ae%c0%ae/web.go", "/static/style.css%00.go",
	} {
		for name, get := range map[string]func() (int, string){
			"handler": func() (int, string) { w := e.get(target); return w.Code, w.Body.String() },
			"socket":  func() (int, string) { return rawGet(t, addr, target) },
		} {
			code, body := get()
			if code == http.StatusOK || code >= 500 {
				t.Errorf("%s via %s: %d, want a 4xx (or a redirect)", target, name, code)
			}
			for _, leak := range []string{"package web", "module quotesd", "root:x:0:0"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s via %s: the body leaks a file (%q)", target, name, leak)
				}
			}
		}
	}
}

// markup is a quote that tries every kind of injection a page, a feed or a
// JSON consumer could fall for.
var markup = quoter.Quote{
	Text:   `<script>alert(1)</script> "double" & 'single' </textarea><img src=x onerror=alert(2)> ]]> {{.}}`,
	Author: `<b>Bold</b> "Author" & Co`,
	Source: `<i>Source</i> ' "`,
	Lang:   "en",
}

func TestHostile_MarkupInQuotesIsEscapedOnEveryPageFeedAndJSON(t *testing.T) {
	lib := quotertest.NewLibrary(t, markup)
	e := newEnvWith(t, lib)
	q := e.todays(today)
	if q.Text != markup.Text {
		t.Fatalf("today's quote is %q, want the markup quote", q.Text)
	}
	id := strconv.FormatInt(q.ID, 10)
	raw := []string{"<script>", "<b>Bold", "<i>Source", "<img", "</textarea>"}
	for _, target := range []string{"/", "/random", "/quotes/" + id, "/day/" + today.String(), "/search?q=alert", "/authors", "/tags", "/search?q=%3Cscript%3E"} {
		w := e.get(target, "Accept", browserAccept)
		want(t, w, http.StatusOK)
		body := w.Body.String()
		for _, r := range raw {
			// A quote page closes its own text area (the embed snippet):
			// one </textarea> per <textarea, no more.
			if r == "</textarea>" && strings.Count(body, r) == strings.Count(body, "<textarea") {
				continue
			}
			if strings.Contains(body, r) {
				t.Errorf("%s: %q reached the page unescaped", target, r)
			}
		}
		if target != "/authors" && target != "/tags" && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the quote's text is not on the page, escaped", target)
		}
	}

	feed := e.get("/feed.atom")
	want(t, feed, http.StatusOK)
	for _, r := range raw {
		if strings.Contains(feed.Body.String(), r) {
			t.Errorf("feed: %q in the XML unescaped", r)
		}
	}
	dec := xml.NewDecoder(strings.NewReader(feed.Body.String()))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the feed is not well-formed XML: %v", err)
		}
	}

	for _, target := range []string{"/api/v1/today", "/api/v1/quotes/" + id, "/api/v1/random", "/?format=json", "/api/v1/search?q=alert"} {
		w := e.get(target, "Accept", "application/json")
		want(t, w, http.StatusOK)
		body := w.Body.String()
		if strings.ContainsAny(body, "<>") {
			t.Errorf("%s: JSON carries raw < or > (want \\u003c escapes, safe to embed): %s", target, truncate(body))
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Errorf("%s: not JSON: %v", target, err)
		}
	}
	if got := decode[apiQuote](t, e.get("/api/v1/today")); got.Text != markup.Text || got.Author != markup.Author {
		t.Errorf("JSON round trip changed the quote: %+v", got)
	}
	text := e.get("/", "Accept", "*/*")
	if ct := text.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || text.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("text form: Content-Type %q, nosniff %q; want text/plain, nosniff", ct, text.Header().Get("X-Content-Type-Options"))
	}
}

// A quote may be in a right-to-left language, and its author, source and
// tags are someone else's words: every page isolates them, the quote's text
// with dir="auto" and each name in a <bdi>, so that their direction cannot
// reorder the text around them (the core refuses the bidi controls that
// would make the spoofing deliberate).
func TestHostile_UserTextIsIsolatedFromTheBidiOfThePage(t *testing.T) {
	rtl := quoter.Quote{Text: "אין דבר העומד בפני הרצון", Author: "תאודור הרצל", Source: "אלטנוילנד", Tags: []string{"חזון"}, Lang: "he"}
	e := newEnvWith(t, quotertest.NewLibrary(t, rtl))
	id := strconv.FormatInt(e.todays(today).ID, 10)
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"/", []string{`<blockquote class="quote-text" dir="auto">`, "<bdi>" + rtl.Author + "</bdi>", "<cite><bdi>" + rtl.Source + "</bdi></cite>", "#<bdi>" + rtl.Tags[0] + "</bdi>"}},
		{"/random", []string{`<blockquote class="quote-text" dir="auto">`, "<bdi>" + rtl.Author + "</bdi>", "<cite><bdi>" + rtl.Source + "</bdi></cite>"}},
		{"/quotes/" + id, []string{`<blockquote class="quote-text" dir="auto">`, "<bdi>" + rtl.Author + "</bdi>", "#<bdi>" + rtl.Tags[0] + "</bdi>"}},
		{"/day/" + today.String(), []string{`<blockquote class="quote-text" dir="auto">`, "<bdi>" + rtl.Author + "</bdi>"}},
		{"/search?q=" + url.QueryEscape("הרצון"), []string{`<blockquote class="quote-text" dir="auto">`, "<bdi>" + rtl.Author + "</bdi>", "“<bdi>הרצון</bdi>”"}},
		{"/authors", []string{"<bdi>" + rtl.Author + "</bdi>"}},
		{"/tags", []string{"#<bdi>" + rtl.Tags[0] + "</bdi>"}},
	} {
		w := e.get(tc.target, "Accept", browserAccept)
		want(t, w, http.StatusOK)
		for _, s := range tc.want {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("%s: page lacks %s", tc.target, s)
			}
		}
	}
}

func TestHostile_SearchMetacharactersAreInert(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	e := newEnvWith(t, lib)
	before, err := lib.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`'`, `"`, `''`, `a' OR '1'='1`, `'; DROP TABLE quotes; --`, `a"; DELETE FROM quotes; --`,
		`*`, `a*`, `*a`, `-a`, `a -b`, `NEAR`, `a NEAR/2 b`, `a OR`, `OR OR`, `AND`, `NOT a`, `(a`, `a)`, `((`,
		`text:a`, `author:*`, `^a`, `a:b:c`, `\`, `%`, `_`, `a%`, `?`, `;`, `--`, `/*`, `*/`,
		"\x00", "a\x00b", `{`, `[`, `\u0000`, `MATCH`, `quotes MATCH 'a'`, strings.Repeat("(", 200),
		strings.Repeat("a OR ", 150) + "a", `"unterminated`, `a"b"c`, `ünïcödé`, `🙂`,
	} {
		for _, target := range []string{"/api/v1/search?q=" + url.QueryEscape(q), "/search?q=" + url.QueryEscape(q)} {
			w := e.get(target, "Accept", "application/json")
			if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
				t.Errorf("search %q (%s): %d, want 200 or 400\n%s", q, target, w.Code, truncate(w.Body.String()))
			}
		}
	}
	after, err := lib.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the library changed under searches: %+v, then %+v", before, after)
	}
}

func TestHostile_InvalidUTF8InPathQueryAndBody(t *testing.T) {
	e := newEnv(t, withToken)
	for _, tc := range []struct {
		target string
		want   int
	}{
		{"/%ff%fe", http.StatusNotFound},
		{"/quotes/%ff", http.StatusNotFound},
		{"/day/%ff", http.StatusNotFound},
		{"/api/v1/quotes/%ff", http.StatusBadRequest},
		{"/api/v1/search?q=%ff%fe", http.StatusBadRequest},
		{"/search?q=%c3%28", http.StatusBadRequest},
		{"/api/v1/random?tag=%ff", http.StatusBadRequest},
		{"/api/v1/random?author=%ed%a0%80", http.StatusBadRequest},
		{"/random?tag=%ff", http.StatusBadRequest},
	} {
		if w := e.get(tc.target, "Accept", "application/json"); w.Code != tc.want {
			t.Errorf("%s: %d, want %d\n%s", tc.target, w.Code, tc.want, truncate(w.Body.String()))
		}
	}
	before := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes")).TotalCount
	for name, body := range map[string]string{
		"InText":     "{\"text\":\"bad \xff\xfe bytes\",\"author\":\"x\"}",
		"InAuthor":   "{\"text\":\"fine\",\"author\":\"\xc3\x28\"}",
		"Overlong":   "{\"text\":\"\xc0\xaf\",\"author\":\"x\"}",
		"Surrogate":  "{\"text\":\"\xed\xa0\x80\",\"author\":\"x\"}",
		"OutsideKey": "{\"text\":\"fine\",\"author\":\"x\"}\xff",
	} {
		t.Run(name, func(t *testing.T) {
			wantAPIError(t, e.admin(http.MethodPost, "/api/v1/quotes", body), http.StatusBadRequest, "body")
		})
	}
	if after := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes")).TotalCount; after != before {
		t.Errorf("bodies with invalid UTF-8 stored %d quotes", after-before)
	}
}

func TestHostile_AdminWithoutWrongAndRightTokensOnEveryMethod(t *testing.T) {
	lib := quotertest.NewLibrary(t)
	e := newEnvWith(t, lib, withToken)
	q := e.todays(today)
	id := strconv.FormatInt(q.ID, 10)
	calls := []struct{ method, target, body string }{
		{http.MethodPost, "/api/v1/quotes", `{"text":"Brand new words.","author":"New Author"}`},
		{http.MethodPut, "/api/v1/quotes/" + id, `{"text":"Replaced words.","author":"Replacer"}`},
		{http.MethodPatch, "/api/v1/quotes/" + id, `{"author":"Patcher"}`},
		{http.MethodDelete, "/api/v1/quotes/" + id, ``},
	}
	stats := func() quoter.Stats {
		st, err := lib.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := stats()
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong", "Bearer " + token[1:], "bearer " + strings.ToUpper(token), "Bearer " + token + "\x00", "Token " + token} {
		for _, c := range calls {
			w := e.do(c.method, c.target, strings.NewReader(c.body), "Authorization", auth, "Content-Type", "application/json")
			wantAPIError(t, w, http.StatusUnauthorized, "")
		}
	}
	if after := stats(); after != before {
		t.Fatalf("requests without the right token changed the library: %+v, then %+v", before, after)
	}
	if got := e.todays(today); got.Text != q.Text || got.Author != q.Author {
		t.Fatalf("requests without the right token changed quote %s: %+v", id, got)
	}
	wantStatus := []int{http.StatusCreated, http.StatusOK, http.StatusOK, http.StatusNoContent}
	for i, c := range calls {
		if w := e.do(c.method, c.target, strings.NewReader(c.body), bearer...); w.Code != wantStatus[i] {
			t.Errorf("%s %s with the token: %d, want %d\n%s", c.method, c.target, w.Code, wantStatus[i], w.Body.String())
		}
	}
	for _, m := range []string{http.MethodPut, http.MethodPatch} {
		big := `{"text":"` + strings.Repeat("a", 70<<10) + `","author":"b"}`
		wantAPIError(t, e.admin(m, "/api/v1/quotes/1", big), http.StatusRequestEntityTooLarge, "")
	}
}
