package web_test

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// decodePNG decodes a card and checks its size.
func decodePNG(t *testing.T, body []byte, w, h int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the card is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("the card is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}

// svgCard is what the tests read of an SVG card.
type svgCard struct {
	Width  string    `xml:"width,attr"`
	Height string    `xml:"height,attr"`
	Title  string    `xml:"title"`
	Style  string    `xml:"style"`
	Texts  []svgText `xml:"text"`
}

type svgText struct {
	Class      string  `xml:"class,attr"`
	X          float64 `xml:"x,attr"`
	Y          float64 `xml:"y,attr"`
	Size       float64 `xml:"font-size,attr"`
	TextLength float64 `xml:"textLength,attr"`
	Text       string  `xml:",chardata"`
}

func decodeSVG(t *testing.T, body []byte) svgCard {
	t.Helper()
	var s svgCard
	if err := xml.Unmarshal(body, &s); err != nil {
		t.Fatalf("the card is not well-formed SVG: %v\n%s", err, truncate(string(body)))
	}
	return s
}

// quoteLines are the lines of the quote on an SVG card (class "t", the
// text colour, at the quote's size: not the author, which is "t m").
func (s svgCard) quoteLines() []svgText {
	var out []svgText
	for _, tx := range s.Texts {
		if tx.Class == "t" {
			out = append(out, tx)
		}
	}
	return out
}

func TestCards_EveryPageHasItsQuoteAsPNGAndSVG(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	past := e.todays(today.AddDays(-3))
	id := strconv.FormatInt(q.ID, 10)
	for _, tc := range []struct {
		target string
		quote  *quoter.Quote
		w, h   int
	}{
		{"/today", q, 1200, 630},
		{"/day/" + today.String(), q, 1200, 630},
		{"/day/" + today.AddDays(-3).String(), past, 1200, 630},
		{"/quotes/" + id, q, 1200, 630},
	} {
		t.Run(tc.target, func(t *testing.T) {
			w := e.get(tc.target + ".png")
			want(t, w, http.StatusOK)
			wantHeader(t, w, "Content-Type", "image/png")
			decodePNG(t, w.Body.Bytes(), tc.w, tc.h)

			w = e.get(tc.target + ".svg")
			want(t, w, http.StatusOK)
			wantHeader(t, w, "Content-Type", "image/svg+xml")
			s := decodeSVG(t, w.Body.Bytes())
			if s.Width != "1200" || s.Height != "630" {
				t.Errorf("SVG is %sx%s, want 1200x630", s.Width, s.Height)
			}
			var text []string
			for _, l := range s.quoteLines() {
				text = append(text, l.Text)
			}
			if got, want := strings.Join(text, " "), strings.Join(strings.Fields(tc.quote.Text), " "); got != want {
				t.Errorf("the SVG's lines read %q, want the quote %q", got, want)
			}
			if !strings.Contains(s.Title, tc.quote.Author) {
				t.Errorf("SVG title %q does not name the author %q", s.Title, tc.quote.Author)
			}
		})
	}
}

func TestCards_ThemeAndWidth(t *testing.T) {
	e := newEnv(t)
	auto := e.get("/today.svg")
	want(t, auto, http.StatusOK)
	if !strings.Contains(auto.Body.String(), "@media (prefers-color-scheme: dark)") {
		t.Error("the auto SVG does not follow prefers-color-scheme")
	}
	for _, theme := range []string{"light", "dark"} {
		w := e.get("/today.svg?theme=" + theme)
		want(t, w, http.StatusOK)
		if strings.Contains(w.Body.String(), "prefers-color-scheme") {
			t.Errorf("the %s SVG follows the reader's scheme", theme)
		}
	}
	// The page's policy would block the SVG's own style sheet.
	if csp := auto.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'unsafe-inline'") || strings.Contains(csp, "script") {
		t.Errorf("SVG Content-Security-Policy %q, want inline styles and nothing else", csp)
	}

	light, dark, autoPNG := e.get("/today.png?theme=light"), e.get("/today.png?theme=dark"), e.get("/today.png")
	if !bytes.Equal(light.Body.Bytes(), autoPNG.Body.Bytes()) {
		t.Error("the auto PNG is not the light one")
	}
	// The background is the site's: paper by day, ink by night.
	for _, c := range []struct {
		name string
		body []byte
		want [3]uint32
	}{{"light", light.Body.Bytes(), [3]uint32{0xfb, 0xf8, 0xf3}}, {"dark", dark.Body.Bytes(), [3]uint32{0x15, 0x16, 0x1a}}} {
		r, g, b, _ := decodePNG(t, c.body, 1200, 630).At(2, 2).RGBA()
		if got := [3]uint32{r >> 8, g >> 8, b >> 8}; got != c.want {
			t.Errorf("%s card background %x, want %x", c.name, got, c.want)
		}
	}

	for _, width := range []int{320, 800, 1600} {
		w := e.get("/today.png?width=" + strconv.Itoa(width))
		want(t, w, http.StatusOK)
		decodePNG(t, w.Body.Bytes(), width, (width*630+600)/1200)
		s := decodeSVG(t, e.get("/today.svg?width="+strconv.Itoa(width)).Body.Bytes())
		if s.Width != strconv.Itoa(width) {
			t.Errorf("SVG width %s, want %d", s.Width, width)
		}
	}
}

func TestCards_TakeTheDailyFilterOfTheirPage(t *testing.T) {
	e := newEnv(t)
	q, err := e.lib.Today(t.Context(), today, quoter.Filter{Tag: "poetry"})
	if err != nil {
		t.Fatal(err)
	}
	s := decodeSVG(t, e.get("/today.svg?tag=poetry").Body.Bytes())
	if lines := s.quoteLines(); len(lines) == 0 || !strings.HasPrefix(strings.Join(strings.Fields(q.Text), " "), lines[0].Text) {
		t.Errorf("/today.svg?tag=poetry starts %v, want today's poetry quote %q", lines, q.Text)
	}
	wantStatus := func(target string, status int) {
		t.Helper()
		if w := e.get(target); w.Code != status {
			t.Errorf("%s: status %d, want %d", target, w.Code, status)
		}
	}
	wantStatus("/today.png?tag=nothing-tagged-so", http.StatusNotFound)
	wantStatus("/today.png?collection=no-such-collection", http.StatusNotFound)
	wantStatus("/day/"+today.AddDays(-1).String()+".svg?tag=poetry", http.StatusOK)
}

func TestCards_CarryTheValidatorsAndCachePolicyOfTheirPage(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	day := "/day/" + today.AddDays(-2).String()
	for _, pair := range [][2]string{
		{"/", "/today.png"}, {"/", "/today.svg"},
		{day, day + ".png"}, {day, day + ".svg"},
		{"/quotes/" + strconv.FormatInt(q.ID, 10), "/quotes/" + strconv.FormatInt(q.ID, 10) + ".png"},
	} {
		page, card := e.get(pair[0], "Accept", browserAccept), e.get(pair[1])
		want(t, card, http.StatusOK)
		for _, h := range []string{"Cache-Control", "Last-Modified"} {
			if got, want := card.Header().Get(h), page.Header().Get(h); got != want {
				t.Errorf("%s: %s %q, want the page's %q", pair[1], h, got, want)
			}
		}
		etag := card.Header().Get("ETag")
		if etag == "" || etag == page.Header().Get("ETag") {
			t.Errorf("%s: ETag %q, want one of its own", pair[1], etag)
		}
		want(t, e.get(pair[1], "If-None-Match", etag), http.StatusNotModified)
		if lm := card.Header().Get("Last-Modified"); lm != "" {
			want(t, e.get(pair[1], "If-Modified-Since", lm), http.StatusNotModified)
		}
		// Rendered once: the second copy is the same bytes.
		if again := e.get(pair[1]); !bytes.Equal(again.Body.Bytes(), card.Body.Bytes()) {
			t.Errorf("%s: a second request got other bytes", pair[1])
		}
	}
}

func TestCards_ChangeWhenTheQuoteIsEdited(t *testing.T) {
	e := newEnv(t, withToken)
	q := e.todays(today)
	target := "/quotes/" + strconv.FormatInt(q.ID, 10) + ".svg"
	before := e.get(target)
	body := `{"text":"An edited text, shown at once.","author":"` + q.Author + `","lang":"en"}`
	want(t, e.do(http.MethodPut, "/api/v1/quotes/"+strconv.FormatInt(q.ID, 10), strings.NewReader(body),
		"Authorization", "Bearer "+token, "Content-Type", "application/json"), http.StatusOK)
	after := e.get(target)
	if after.Header().Get("ETag") == before.Header().Get("ETag") || !strings.Contains(after.Body.String(), "An edited text, shown at once.") {
		t.Errorf("the card did not change with its quote:\n%s", truncate(after.Body.String()))
	}
}

func TestCards_RefuseBadInputWithAClearMessage(t *testing.T) {
	e := newEnv(t)
	q := e.todays(today)
	for _, tc := range []struct {
		target, names string
		status        int
	}{
		{"/today.png?width=100", "width", http.StatusBadRequest},
		{"/today.svg?width=1601", "width", http.StatusBadRequest},
		{"/today.png?width=wide", "width", http.StatusBadRequest},
		{"/today.png?theme=neon", "theme", http.StatusBadRequest},
		{"/quotes/" + strconv.FormatInt(q.ID, 10) + ".svg?theme=%3Cb%3E", "theme", http.StatusBadRequest},
		{"/quotes/999999.png", "999999", http.StatusNotFound},
		{"/quotes/abc.svg", "abc", http.StatusNotFound},
		{"/day/2999-01-01.png", "2999-01-01", http.StatusNotFound},
		{"/day/2026-02-30.svg", "2026-02-30", http.StatusNotFound},
	} {
		w := e.get(tc.target)
		want(t, w, tc.status)
		if !strings.Contains(w.Body.String(), tc.names) {
			t.Errorf("%s: the error does not name %q:\n%s", tc.target, tc.names, truncate(w.Body.String()))
		}
	}
}

// A quote far longer than a card holds is shrunk, then cut with an
// ellipsis before the attribution: every line inside the frame, the
// attribution below the last, rendered in bounded time.
func TestCards_LongQuotesShrinkThenAreCutAndNeverOverflow(t *testing.T) {
	long := quoter.Quote{Text: strings.TrimSpace(strings.Repeat("Everything flows and nothing abides; everything gives way and nothing stays fixed. ", 45)),
		Author: "Heraclitus of Ephesus, as reported by Plato in a long and winding attribution that goes on", Source: strings.TrimSpace(strings.Repeat("Cratylus ", 20)), Year: -360, Lang: "en"}
	word := quoter.Quote{Text: strings.Repeat("Pneumonoultramicroscopicsilicovolcanoconiosis", 30), Author: "A Lexicographer", Lang: "en"}
	short := quoter.Quote{Text: "Know thyself.", Author: "Socrates", Lang: "en"}
	e := newEnvWith(t, quotertest.NewLibrary(t, long, word, short))
	sizes := map[string]float64{}
	for _, text := range []string{long.Text, word.Text, short.Text} {
		q := e.quoteWithText(text)
		for _, width := range []int{320, 1200, 1600} {
			start := time.Now()
			target := "/quotes/" + strconv.FormatInt(q.ID, 10) + ".svg?width=" + strconv.Itoa(width)
			w := e.get(target)
			want(t, w, http.StatusOK)
			png := e.get("/quotes/" + strconv.FormatInt(q.ID, 10) + ".png?width=" + strconv.Itoa(width))
			want(t, png, http.StatusOK)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s took %v", target, d)
			}
			s := decodeSVG(t, w.Body.Bytes())
			lines := s.quoteLines()
			if len(lines) == 0 {
				t.Fatalf("%s: no lines", target)
			}
			var attrY float64
			for _, tx := range s.Texts {
				if tx.Class == "a" && strings.HasPrefix(tx.Text, "—") {
					attrY = tx.Y
				}
				if tx.TextLength > 0 && (tx.X < 0 || tx.X+tx.TextLength > float64(width)*(1-0.07)) {
					t.Errorf("%s: %q runs from %.1f to %.1f, past the margin of a %d-wide card", target, tx.Text, tx.X, tx.X+tx.TextLength, width)
				}
			}
			last := lines[len(lines)-1]
			if last.Y >= attrY-last.Size {
				t.Errorf("%s: the last line (baseline %.1f) reaches the attribution (%.1f)", target, last.Y, attrY)
			}
			if text == long.Text && !strings.HasSuffix(last.Text, "…") {
				t.Errorf("%s: the cut quote ends %q, want an ellipsis", target, last.Text)
			}
			if width == 1200 {
				sizes[text] = lines[0].Size
			}
		}
	}
	if !(sizes[short.Text] > sizes[long.Text]) || sizes[long.Text] < 28 {
		t.Errorf("sizes at 1200 wide: short %.1f, long %.1f: want the long one smaller, and no smaller than 28", sizes[short.Text], sizes[long.Text])
	}
}

func TestCards_MarkupInQuotesIsEscapedInTheSVG(t *testing.T) {
	e := newEnvWith(t, quotertest.NewLibrary(t, markup))
	w := e.get("/today.svg")
	want(t, w, http.StatusOK)
	s := decodeSVG(t, w.Body.Bytes()) // well-formed: the markup is text
	if strings.Contains(w.Body.String(), "<script") || strings.Contains(w.Body.String(), "<img") || !strings.Contains(s.Title, "<script>alert(1)</script>") {
		t.Errorf("markup reached the SVG as markup, or not as text:\n%s", truncate(w.Body.String()))
	}
}

func TestCards_AreRateLimitedWithTheSite(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RateLimit = 2; c.RateWindow = time.Minute })
	want(t, e.get("/today.png"), http.StatusOK)
	want(t, e.get("/today.svg"), http.StatusOK)
	w := e.get("/today.png")
	want(t, w, http.StatusTooManyRequests)
	if w.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// The RateLimit-* fields of the IETF draft (ratelimit-headers) come with
// Retry-After on a 429: the quota, none left, and when the next is.
func TestRateLimit_HeadersOfTheIETFDraftBesideRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RateLimit = 3; c.RateWindow = time.Minute })
	for range 3 {
		w := e.get("/api/v1/today")
		want(t, w, http.StatusOK)
		if v := w.Header().Get("RateLimit-Limit"); v != "" {
			t.Errorf("a 200 carries RateLimit-Limit %q: only 429s do", v)
		}
	}
	w := e.get("/api/v1/today")
	wantAPIError(t, w, http.StatusTooManyRequests, "")
	retry, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || retry < 1 || retry > 20 {
		t.Fatalf("Retry-After %q, want the seconds until the next request (one per 20 s)", w.Header().Get("Retry-After"))
	}
	wantHeader(t, w, "RateLimit-Limit", "3")
	wantHeader(t, w, "RateLimit-Remaining", "0")
	wantHeader(t, w, "RateLimit-Reset", strconv.Itoa(retry))
	wantHeader(t, w, "RateLimit-Policy", "3;w=60")
	if !regexp.MustCompile(`RateLimit-Reset`).MatchString(w.Header().Get("Access-Control-Expose-Headers")) {
		t.Error("pages elsewhere cannot read RateLimit-Reset (Access-Control-Expose-Headers)")
	}
}
