package web_test

import (
	"bytes"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// The items of Lighthouse's SEO category, checked by hand on the pages
// issue 17 asks to score 100 (and the other pages, which share the
// layout). TestLighthouse_PagesScoreAtLeastTheFloors runs Lighthouse itself where it can.
var (
	reTitle       = regexp.MustCompile(`<title>([^<]*)</title>`)
	reDescription = regexp.MustCompile(`<meta name="description" content="([^"]*)">`)
	reViewport    = regexp.MustCompile(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	reLang        = regexp.MustCompile(`<html lang="([a-z]{2,3}(-[A-Za-z0-9]+)*)">`)
	reAnchor      = regexp.MustCompile(`(?s)<a\b([^>]*)>(.*?)</a>`)
	reHref        = regexp.MustCompile(`\bhref="([^"]*)"`)
	reTag         = regexp.MustCompile(`<[^>]*>`)
	reImg         = regexp.MustCompile(`<img\b[^>]*>`)
	reCanonical   = regexp.MustCompile(`<link rel="canonical" href="([^"]*)">`)
	reNoindex     = regexp.MustCompile(`(?i)<meta name="(robots|googlebot)"[^>]*noindex`)
)

// genericLinkText is Lighthouse's list of link texts that say nothing
// (its link-text audit, English).
var genericLinkText = map[string]bool{
	"click here": true, "click this": true, "go": true, "here": true, "this": true, "start": true,
	"right here": true, "more": true, "learn more": true, "read more": true, "see more": true,
	"more info": true, "more information": true, "information": true,
}

func seoPages(e *testEnv) []string {
	q := e.todays(today)
	return []string{
		"/", "/quotes/" + strconv.FormatInt(q.ID, 10), "/search?q=love", "/authors",
		"/day/" + today.AddDays(-1).String(), "/random", "/search", "/tags", "/authors/" + q.AuthorSlug(),
	}
}

func TestSEO_PagesPassTheLighthouseAuditsByHand(t *testing.T) {
	e := newEnv(t)
	for _, target := range seoPages(e) {
		t.Run(target, func(t *testing.T) {
			w := e.get(target, "Accept", browserAccept)
			want(t, w, http.StatusOK) // http-status-code
			if v := w.Header().Get("X-Robots-Tag"); v != "" {
				t.Errorf("X-Robots-Tag %q", v) // is-crawlable
			}
			checkSEO(t, w.Body.String())
		})
	}
}

func checkSEO(t *testing.T, page string) {
	t.Helper()
	if m := reTitle.FindStringSubmatch(page); m == nil || strings.TrimSpace(m[1]) == "" {
		t.Error("no <title>") // document-title
	}
	m := reDescription.FindStringSubmatch(page)
	if m == nil || strings.TrimSpace(m[1]) == "" {
		t.Error("no meta description") // meta-description
	} else if d := html.UnescapeString(m[1]); utf8.RuneCountInString(d) > 160 {
		t.Errorf("meta description of %d characters: %q", utf8.RuneCountInString(d), d)
	}
	if !reViewport.MatchString(page) {
		t.Error("no viewport meta") // viewport
	}
	if !reLang.MatchString(page) {
		t.Error("no valid <html lang>") // html-has-lang
	}
	if reNoindex.MatchString(page) {
		t.Error("the page says noindex") // is-crawlable
	}
	for _, a := range reAnchor.FindAllStringSubmatch(page, -1) {
		href := reHref.FindStringSubmatch(a[1])
		if href == nil {
			t.Errorf("anchor with no href: %s", a[0]) // crawlable-anchors
			continue
		}
		u, err := url.Parse(html.UnescapeString(href[1]))
		if err != nil || href[1] == "" || u.Scheme == "javascript" || strings.HasPrefix(href[1], "#") && len(href[1]) == 1 {
			t.Errorf("uncrawlable href %q", href[1])
		}
		text := strings.ToLower(strings.TrimSpace(html.UnescapeString(reTag.ReplaceAllString(a[2], ""))))
		if genericLinkText[text] || text == "" && !strings.Contains(a[1], "aria-label=") {
			t.Errorf("link text %q says nothing: %s", text, a[0]) // link-text
		}
	}
	for _, img := range reImg.FindAllString(page, -1) {
		if !strings.Contains(img, " alt=") {
			t.Errorf("image with no alt: %s", img) // image-alt
		}
	}
	if c := reCanonical.FindStringSubmatch(page); c != nil {
		if u, err := url.Parse(c[1]); err != nil || !u.IsAbs() {
			t.Errorf("canonical %q is not an absolute URL", c[1]) // canonical
		}
	}
	if strings.Contains(page, "hreflang") {
		t.Error("hreflang links: check them against Lighthouse's hreflang audit") // hreflang
	}
}

// Lighthouse's robots-txt audit: every line a known directive with a valid
// value, and nothing that keeps crawlers off the site.
func TestSEO_RobotsTxtAllowsTheSiteAndNamesTheFeed(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.BaseURL = "https://quotes.example.org/" })
	r := e.get("/robots.txt", "Host", "evil.example")
	want(t, r, http.StatusOK)
	wantHeader(t, r, "Content-Type", "text/plain; charset=utf-8")
	for i, line := range strings.Split(strings.TrimSpace(r.Body.String()), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "user-agent":
		case "allow":
		case "disallow":
			if v == "/" {
				t.Errorf("line %d: %q blocks the site", i+1, line)
			}
		case "sitemap":
			if u, err := url.Parse(v); err != nil || !u.IsAbs() {
				t.Errorf("line %d: sitemap %q is not an absolute URL", i+1, v)
			}
		default:
			t.Errorf("line %d: %q is no robots.txt directive", i+1, line)
		}
		if !ok {
			t.Errorf("line %d: %q has no colon", i+1, line)
		}
	}
	if !strings.Contains(r.Body.String(), "Sitemap: https://quotes.example.org/feed.atom\n") {
		t.Errorf("robots.txt names no feed at the base URL:\n%s", r.Body.String())
	}
}

// Lighthouse's font-size audit wants most text at 12 px or more: every
// size in the stylesheet is 0.75rem (12 px) or more, or an em of such.
func TestSEO_FontSizesAreLegible(t *testing.T) {
	e := newEnv(t)
	css := e.get("/static/style.css").Body.String()
	re := regexp.MustCompile(`(\d*\.?\d+)(rem|em|px)\b`)
	for _, decl := range regexp.MustCompile(`font(-size)?:[^;}]*`).FindAllString(css, -1) {
		if strings.Contains(decl, "line-height") {
			continue
		}
		m := re.FindStringSubmatch(decl)
		if m == nil {
			continue // inherit, var(...), a weight alone
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "px" && n < 12 || m[2] != "px" && n < 0.75 {
			t.Errorf("illegible font size in %q", decl)
		}
	}
}

func TestPages_MetaDescriptionIsTheQuoteCut(t *testing.T) {
	var long string // the sample's longest quote, near 4 KiB
	for _, q := range quotertest.Sample() {
		if len(q.Text) > len(long) {
			long = q.Text
		}
	}
	e := newEnv(t)
	q := e.quoteWithText(long)
	long = strings.Join(strings.Fields(long), " ")
	page := e.get("/quotes/"+strconv.FormatInt(q.ID, 10), "Accept", browserAccept).Body.String()
	m := reDescription.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no meta description")
	}
	d := html.UnescapeString(m[1])
	if !strings.HasSuffix(d, "…") || !strings.HasPrefix(long, strings.TrimSuffix(d, "…")) || utf8.RuneCountInString(d) > 160 {
		t.Errorf("description %q, want the start of the quote cut at a word, with an ellipsis", d)
	}
	for _, target := range []string{"/nope"} {
		w := e.get(target, "Accept", browserAccept)
		if reDescription.FindStringSubmatch(w.Body.String()) == nil {
			t.Errorf("%s (%d): no meta description", target, w.Code)
		}
	}
}

func TestConfig_WarnsOfAnUnsetBaseURLOnAPublicAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		base    string
		addr    net.Addr
		warning bool
	}{
		{"AllAddresses", "", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, true},
		{"IPv6Any", "", &net.TCPAddr{IP: net.IPv6zero, Port: 8080}, true},
		{"Loopback", "", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, false},
		{"IPv6Loopback", "", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, false},
		{"UnixSocket", "", &net.UnixAddr{Name: "/run/quotesd/web.sock", Net: "unix"}, false},
		{"BaseURLSet", "https://quotes.example.org", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			cfg := web.Config{BaseURL: tc.base}
			cfg.WarnUnsetBaseURL(slog.New(slog.NewTextHandler(&buf, nil)), tc.addr)
			if got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "--web-base-url"); got != tc.warning {
				t.Errorf("warned %v, want %v: %q", got, tc.warning, buf.String())
			}
		})
	}
}
