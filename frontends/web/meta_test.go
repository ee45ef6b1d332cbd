package web_test

import (
	"encoding/json"
	"html"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
)

var (
	reMeta   = regexp.MustCompile(`<meta (?:property|name)="([^"]+)" content="([^"]*)">`)
	reLDJSON = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
	reOEmbed = regexp.MustCompile(`<link rel="alternate" type="application/json\+oembed" href="([^"]*)"`)
	reEmbed  = regexp.MustCompile(`(?s)<textarea id="embed-code"[^>]*>(.*?)</textarea>`)
)

// fetch GETs url from a real server, as link unfurlers do (asking for
// HTML), and returns the response and body.
func fetch(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", browserAccept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// pageMeta returns the meta properties and names of a page, unescaped.
func pageMeta(page string) map[string]string {
	m := map[string]string{}
	for _, s := range reMeta.FindAllStringSubmatch(page, -1) {
		m[s[1]] = html.UnescapeString(s[2])
	}
	return m
}

// quotationLD mirrors the schema.org Quotation of the pages.
type quotationLD struct {
	Context  string `json:"@context"`
	Type     string `json:"@type"`
	Text     string `json:"text"`
	URL      string `json:"url"`
	Citation string `json:"citation"`
	Creator  struct {
		Type string `json:"@type"`
		Name string `json:"name"`
	} `json:"creator"`
	IsPartOf *struct {
		Type string `json:"@type"`
		Name string `json:"name"`
	} `json:"isPartOf"`
}

// Link previews as a chat client makes them: the pages over a real
// socket, their Open Graph, Twitter and JSON-LD read, each og:image
// fetched and decoded at its stated size.
func TestLinkPreviews_PagesDescribeTheirQuoteAndTheirImageIsThere(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	q := e.todays(today)
	pastDay := today.AddDays(-4)
	past := e.todays(pastDay)
	id := strconv.FormatInt(q.ID, 10)
	for _, tc := range []struct {
		path, canonical string
		quote           *quoter.Quote
	}{
		{"/", "/", q},
		{"/day/" + pastDay.String(), "/day/" + pastDay.String(), past},
		{"/quotes/" + id, "/quotes/" + id, q},
		{"/quotes/" + id + "?utm_source=chat", "/quotes/" + id, q},
		{"/?tag=poetry", "/?tag=poetry", nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, body := fetch(t, srv.URL+tc.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			page := string(body)
			m := pageMeta(page)
			quote := tc.quote
			if quote == nil {
				var err error
				if quote, err = e.lib.Today(t.Context(), today, quoter.Filter{Tag: "poetry"}); err != nil {
					t.Fatal(err)
				}
			}
			canonical := srv.URL + tc.canonical
			if c := reCanonical.FindStringSubmatch(page); c == nil || html.UnescapeString(c[1]) != canonical {
				t.Errorf("canonical link %v, want %s", c, canonical)
			}
			for k, v := range map[string]string{
				"og:url": canonical, "twitter:card": "summary_large_image", "og:image:width": "1200",
				"og:image:height": "630", "og:image:type": "image/png", "og:site_name": "quotesd",
			} {
				if m[k] != v {
					t.Errorf("%s = %q, want %q", k, m[k], v)
				}
			}
			for _, k := range []string{"og:title", "og:type", "twitter:title", "og:image:alt"} {
				if m[k] == "" {
					t.Errorf("no %s", k)
				}
			}
			words := strings.Fields(quote.Text)
			lead := strings.Join(words[:min(5, len(words))], " ")
			if !strings.HasPrefix(m["og:description"], lead) || m["twitter:description"] != m["og:description"] {
				t.Errorf("og:description %q, twitter:description %q: want the quote, %q...", m["og:description"], m["twitter:description"], lead)
			}

			// og:image: absolute, here, a PNG of the stated size.
			img, err := url.Parse(m["og:image"])
			if err != nil || !img.IsAbs() || !strings.HasPrefix(m["og:image"], srv.URL+"/") {
				t.Fatalf("og:image %q is not an absolute URL of this site", m["og:image"])
			}
			if m["twitter:image"] != m["og:image"] {
				t.Errorf("twitter:image %q, og:image %q", m["twitter:image"], m["og:image"])
			}
			ires, ibody := fetch(t, m["og:image"])
			if ires.StatusCode != http.StatusOK || ires.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("og:image: status %d, %s", ires.StatusCode, ires.Header.Get("Content-Type"))
			}
			cfg, err := png.DecodeConfig(strings.NewReader(string(ibody)))
			if err != nil {
				t.Fatalf("og:image is not a PNG: %v", err)
			}
			if strconv.Itoa(cfg.Width) != m["og:image:width"] || strconv.Itoa(cfg.Height) != m["og:image:height"] {
				t.Errorf("og:image is %dx%d, the page says %sx%s", cfg.Width, cfg.Height, m["og:image:width"], m["og:image:height"])
			}

			// JSON-LD: a schema.org Quotation of the same quote.
			ld := reLDJSON.FindStringSubmatch(page)
			if ld == nil {
				t.Fatal("no JSON-LD")
			}
			var qt quotationLD
			if err := json.Unmarshal([]byte(ld[1]), &qt); err != nil {
				t.Fatalf("JSON-LD: %v\n%s", err, ld[1])
			}
			if qt.Context != "https://schema.org" || qt.Type != "Quotation" || qt.Text != quote.Text ||
				qt.Creator.Type != "Person" || qt.Creator.Name != quote.Author {
				t.Errorf("JSON-LD %+v, want a Quotation of %q by %s", qt, quote.Text, quote.Author)
			}
			if quote.Source != "" && (qt.IsPartOf == nil || qt.IsPartOf.Name != quote.Source || !strings.HasPrefix(qt.Citation, quote.Source)) {
				t.Errorf("JSON-LD isPartOf %+v, citation %q: want the source %q", qt.IsPartOf, qt.Citation, quote.Source)
			}
		})
	}
}

// With --web-base-url the absolute URLs are the configured site's,
// whatever Host a request came with; without it, the request's, and the
// memoised page of the day is not served to one Host with another's.
func TestLinkPreviews_URLsFollowTheBaseURLOrTheRequest(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.BaseURL = "https://quotes.example.org" })
	m := pageMeta(e.get("/", "Accept", browserAccept, "Host", "evil.example").Body.String())
	if m["og:url"] != "https://quotes.example.org/" || m["og:image"] != "https://quotes.example.org/today.png" {
		t.Errorf("with a base URL: og:url %q, og:image %q", m["og:url"], m["og:image"])
	}
	e = newEnv(t)
	get := func(host string, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		r.Header.Set("Accept", browserAccept)
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		return w
	}
	for _, host := range []string{"one.example", "two.example:8080", "one.example"} {
		w := get(host)
		m := pageMeta(w.Body.String())
		if m["og:image"] != "http://"+host+"/today.png" {
			t.Errorf("Host %s: og:image %q", host, m["og:image"])
		}
		want(t, get(host, "If-None-Match", w.Header().Get("ETag")), http.StatusNotModified)
	}
}

// oembedJSON mirrors an oEmbed response.
type oembedJSON struct {
	Version         string `json:"version"`
	Type            string `json:"type"`
	ProviderName    string `json:"provider_name"`
	Title           string `json:"title"`
	AuthorName      string `json:"author_name"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	ThumbnailURL    string `json:"thumbnail_url"`
	ThumbnailWidth  int    `json:"thumbnail_width"`
	ThumbnailHeight int    `json:"thumbnail_height"`
}

var (
	reEmbedImg  = regexp.MustCompile(`^<a href="([^"]+)"><img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]+)"></a>$`)
	reEmbedHref = regexp.MustCompile(`href="([^"]+)"`)
)

// A consumer discovers the oEmbed link on a quote page, asks it, and
// embeds its HTML: the SVG card in a link to the page, no script.
func TestOEmbed_DiscoveredOnQuotePagesAndAnsweredAsRichHTML(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	q := e.todays(today)
	pageURL := srv.URL + "/quotes/" + strconv.FormatInt(q.ID, 10)
	_, body := fetch(t, pageURL)
	link := reOEmbed.FindStringSubmatch(string(body))
	if link == nil {
		t.Fatal("no oEmbed discovery link on the quote page")
	}
	res, b := fetch(t, html.UnescapeString(link[1]))
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("oEmbed: status %d, %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	var o oembedJSON
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if o.Version != "1.0" || o.Type != "rich" || o.ProviderName != "quotesd" || o.AuthorName != q.Author || o.Title == "" ||
		o.Width != 600 || o.Height != 315 || o.ThumbnailWidth != 1200 || o.ThumbnailHeight != 630 {
		t.Errorf("oEmbed %+v", o)
	}
	if strings.Contains(o.HTML, "<script") {
		t.Errorf("the embed HTML has a script: %s", o.HTML)
	}
	m := reEmbedImg.FindStringSubmatch(o.HTML)
	if m == nil || m[1] != pageURL || m[2] != pageURL+".svg" || m[3] != "600" || m[4] != "315" {
		t.Fatalf("embed HTML %s, want the SVG card of %s in a link to it", o.HTML, pageURL)
	}
	if res, _ := fetch(t, m[2]); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("the embedded image: status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, tb := fetch(t, o.ThumbnailURL); res.StatusCode != http.StatusOK {
		t.Errorf("thumbnail: status %d", res.StatusCode)
	} else if cfg, err := png.DecodeConfig(strings.NewReader(string(tb))); err != nil || cfg.Width != o.ThumbnailWidth || cfg.Height != o.ThumbnailHeight {
		t.Errorf("thumbnail: %v, %dx%d", err, cfg.Width, cfg.Height)
	}

	// The quote page shows the same snippet to copy.
	snippet := reEmbed.FindStringSubmatch(string(body))
	if snippet == nil || html.UnescapeString(snippet[1]) != o.HTML {
		t.Errorf("the page's embed snippet %v, want oEmbed's %s", snippet, o.HTML)
	}
}

func TestOEmbed_SizesFormatsAndOtherSites(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	id := strconv.FormatInt(q.ID, 10)
	page := "http://example.com/quotes/" + id
	get := func(query string) *httptest.ResponseRecorder { return e.get("/oembed?" + query) }
	for _, tc := range []struct {
		query         string
		width, height int
	}{
		{"url=" + url.QueryEscape(page) + "&maxwidth=400", 400, 210},
		{"url=" + url.QueryEscape(page) + "&maxwidth=200", 200, 105},
		{"url=" + url.QueryEscape(page) + "&maxheight=210", 400, 210},
		{"url=" + url.QueryEscape(page) + "&maxwidth=2000&format=json", 600, 315},
	} {
		w := get(tc.query)
		want(t, w, http.StatusOK)
		o := decode[oembedJSON](t, w)
		size := `width="` + strconv.Itoa(tc.width) + `" height="` + strconv.Itoa(tc.height) + `"`
		if o.Width != tc.width || o.Height != tc.height || !strings.Contains(o.HTML, size) {
			t.Errorf("%s: %dx%d, %s; want %dx%d, the image too", tc.query, o.Width, o.Height, o.HTML, tc.width, tc.height)
		}
	}
	// "/" and the day pages embed too, their daily filter kept.
	o := decode[oembedJSON](t, get("url="+url.QueryEscape("http://example.com/?tag=poetry")))
	if hrefs := reEmbedHref.FindStringSubmatch(o.HTML); hrefs == nil || hrefs[1] != "http://example.com/?tag=poetry" || !strings.Contains(o.HTML, "/today.svg?tag=poetry") {
		t.Errorf("oEmbed of /?tag=poetry: %s", o.HTML)
	}
	day := "http://example.com/day/" + today.AddDays(-1).String()
	o = decode[oembedJSON](t, get("url="+url.QueryEscape(day)))
	if !strings.Contains(o.HTML, `href="`+day+`"`) || !strings.Contains(o.HTML, day+`.svg`) {
		t.Errorf("oEmbed of a day: %s", o.HTML)
	}

	for _, tc := range []struct {
		query  string
		status int
	}{
		{"url=" + url.QueryEscape(page) + "&format=xml", http.StatusNotImplemented},
		{"url=" + url.QueryEscape("https://elsewhere.example/quotes/"+id), http.StatusNotFound},
		{"url=" + url.QueryEscape("http://example.com/search?q=life"), http.StatusNotFound},
		{"url=" + url.QueryEscape("http://example.com/quotes/999999"), http.StatusNotFound},
		{"url=" + url.QueryEscape("javascript:alert(1)"), http.StatusNotFound},
		{"url=", http.StatusBadRequest},
		{"url=" + url.QueryEscape(page) + "&maxwidth=wide", http.StatusBadRequest},
	} {
		if w := get(tc.query); w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.query, w.Code, tc.status, truncate(w.Body.String()))
		}
	}
}

// Unfurlers that ask for anything (Accept: */*, or none) get the page and
// its meta, where curl asking the same gets text; the User-Agent that
// decided it is in Vary, so a shared cache keeps the two apart.
func TestLinkPreviews_UnfurlersAskingForAnythingGetThePage(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	for _, target := range []string{"/", "/quotes/" + strconv.FormatInt(q.ID, 10), "/day/" + today.AddDays(-1).String()} {
		for _, ua := range []string{
			"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
			"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
			"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
		} {
			for _, accept := range []string{"*/*", ""} {
				headers := []string{"User-Agent", ua}
				if accept != "" {
					headers = append(headers, "Accept", accept)
				}
				w := e.get(target, headers...)
				want(t, w, http.StatusOK)
				if m := pageMeta(w.Body.String()); m["og:image"] == "" {
					t.Errorf("%s for %q, Accept %q: no og:image (%s)", target, ua, accept, w.Header().Get("Content-Type"))
				}
				if v := w.Header().Get("Vary"); !strings.Contains(v, "User-Agent") {
					t.Errorf("%s for %q: Vary %q lacks User-Agent", target, ua, v)
				}
			}
		}
		w := e.get(target, "User-Agent", "curl/8.5.0", "Accept", "*/*")
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || strings.Contains(w.Header().Get("Vary"), "User-Agent") {
			t.Errorf("%s for curl: %s, Vary %q; want text, not varying by User-Agent", target, ct, w.Header().Get("Vary"))
		}
	}
}

// An Accept sent on several field lines is read whole, as one list (RFC
// 9110, section 5.3), both to choose the representation and to decide
// whether the User-Agent chose it: a cache must never be told the page
// does not vary by User-Agent when it did.
func TestNegotiation_AcceptOnSeveralLinesIsOneList(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		ua     string
		accept []string
		ctype  string
		byUA   bool
	}{
		{"curl/8.5.0", []string{"text/plain;q=0.1", "application/json"}, "application/json", false},
		{"Slackbot-LinkExpanding 1.0", []string{"", "application/json"}, "application/json", false},
		{"Slackbot-LinkExpanding 1.0", []string{"*/*"}, "text/html", true},
		{"Slackbot-LinkExpanding 1.0", nil, "text/html", true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header.Set("User-Agent", c.ua)
		for _, a := range c.accept {
			r.Header.Add("Accept", a)
		}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		want(t, w, http.StatusOK)
		ct, vary := w.Header().Get("Content-Type"), w.Header().Get("Vary")
		if !strings.HasPrefix(ct, c.ctype) || strings.Contains(vary, "User-Agent") != c.byUA {
			t.Errorf("%s with Accept %q: %s, Vary %q; want %s, varying by User-Agent: %v", c.ua, c.accept, ct, vary, c.ctype, c.byUA)
		}
	}
}
