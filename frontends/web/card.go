package web

import (
	"container/list"
	"context"
	"hash/fnv"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// Quote cards: /quotes/{id}.png|.svg, /today.png|.svg and
// /day/{date}.png|.svg, the quote each page shows as an image, for link
// previews (og:image), READMEs, slides and blogs. A card carries the
// validators and Cache-Control of the page of the quote it shows, is
// rendered once per (quote, its content, theme, width, format) and kept
// in a bounded cache (cardCache), and is rate-limited with the rest of
// the site (its routes are in the limited group).

// cardFormat is a card's encoding.
type cardFormat uint8

const (
	cardPNG cardFormat = iota
	cardSVG
)

const (
	contentPNG = "image/png"
	contentSVG = "image/svg+xml"
)

// cardOptions are a card's query parameters.
type cardOptions struct {
	theme string // "light", "dark" or "auto" (the SVG follows the reader; the PNG is light)
	width int
}

var defaultCardOptions = cardOptions{theme: "auto", width: cardDefaultWidth}

// parseCardOptions reads ?theme= and ?width=; anything else is a 400
// that names the parameter.
func parseCardOptions(r *http.Request) (cardOptions, error) {
	o := defaultCardOptions
	if r.URL.RawQuery == "" {
		return o, nil
	}
	switch t := r.URL.Query().Get("theme"); t {
	case "", "auto":
	case "light", "dark":
		o.theme = t
	default:
		return o, badParam("theme", "unknown theme %s: want light, dark or auto", quoted(t))
	}
	var err error
	o.width, err = intParam(r, "width", cardDefaultWidth, cardMinWidth, cardMaxWidth)
	return o, err
}

// cardTarget is what a card shows and the cache policy of its page.
type cardTarget struct {
	q            *quoter.Quote
	cacheControl []string
	lastMod      time.Time
	lastModH     []string // lastMod as an HTTP date, or nil
}

// card returns the handler of one kind of card (resolve finds its quote)
// in format f.
func (h *Handler) card(f cardFormat, resolve func(*Handler, *http.Request) (cardTarget, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, err := parseCardOptions(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		t, err := resolve(h, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rend, err := h.cards.get(r.Context(), t.q, o, f)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		hd := w.Header()
		// An image is no document that sends a referrer; and the
		// fewer the headers, the cheaper (see securityHeaders).
		delete(hd, "Referrer-Policy")
		if f == cardSVG {
			// The SVG's own <style> (its colours, its dark theme): the
			// site's policy allows only the style sheet.
			hd["Content-Security-Policy"] = svgPolicy
		}
		serveRendition(w, r, rend, t.cacheControl, t.lastMod, t.lastModH, false)
	}
}

var svgPolicy = []string{"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}

// todayCard resolves /today.png|.svg as "/" resolves its quote, with ?tag=,
// ?lang= and ?collection=.
func todayCard(h *Handler, r *http.Request) (cardTarget, error) {
	now := h.cal.Time()
	var flt quoter.Filter
	if r.URL.RawQuery != "" {
		var err error
		if flt, err = h.daily(r); err != nil {
			return cardTarget{}, err
		}
	}
	return h.todayTarget(r.Context(), now, flt)
}

func (h *Handler) todayTarget(ctx context.Context, now time.Time, flt quoter.Filter) (cardTarget, error) {
	e, err := h.todayEntryAt(ctx, now, flt)
	if err != nil {
		return cardTarget{}, err
	}
	return cardTarget{q: e.quote, cacheControl: h.today.cacheControl(e, now), lastMod: e.lastMod, lastModH: e.lastModH}, nil
}

// dayCard resolves /day/{date}.png|.svg as /day/{date} resolves its quote.
func dayCard(h *Handler, r *http.Request) (cardTarget, error) {
	return h.dayTarget(r, chi.URLParam(r, "date"))
}

// dayTarget is the quote of the day written s (YYYY-MM-DD), with the
// daily filter of r's query; today's is served as "/" serves it.
func (h *Handler) dayTarget(r *http.Request, s string) (cardTarget, error) {
	day, err := quoter.ParseDate(s)
	if err != nil {
		return cardTarget{}, quoter.Errorf(quoter.ENOTFOUND, "there is no day %q: dates are written YYYY-MM-DD and must exist", s)
	}
	now := h.cal.Time()
	today := quoter.DateOf(now)
	flt, err := h.daily(r)
	if err != nil {
		return cardTarget{}, err
	}
	switch {
	case today.Before(day):
		return cardTarget{}, quoter.Errorf(quoter.ENOTFOUND, "%s has not come yet: come back that day for its quote", day)
	case day == today:
		return h.todayTarget(r.Context(), now, flt)
	}
	q, err := h.q.Today(r.Context(), day, flt)
	if err != nil {
		return cardTarget{}, err
	}
	lm := dayChanged(q, day, h.cal.Zone())
	return cardTarget{q: q, cacheControl: []string{pastDayCacheControl}, lastMod: lm,
		lastModH: []string{lm.UTC().Format(http.TimeFormat)}}, nil
}

// quoteCard resolves /quotes/{id}.png|.svg.
func quoteCard(h *Handler, r *http.Request) (cardTarget, error) {
	return h.quoteTarget(r.Context(), chi.URLParam(r, "id"))
}

// quoteTarget is the quote of id s when the web shows it to its visitors
// (a private collection's is a 404, as its page is to them).
func (h *Handler) quoteTarget(ctx context.Context, s string) (cardTarget, error) {
	id, err := parseID(s)
	if err != nil {
		return cardTarget{}, quoter.Errorf(quoter.ENOTFOUND, "there is no quote %q", s)
	}
	q, err := h.q.Quote(ctx, id)
	if err == nil {
		q, err = h.visible(ctx, q, false)
	}
	if err != nil {
		return cardTarget{}, err
	}
	return cardTarget{q: q, cacheControl: quotePageCacheControl}, nil
}

// quotePageCacheControl is the public quote page's (see quotePage).
var quotePageCacheControl = []string{"public, max-age=300"}

// renderCard lays q out and draws it in format f.
func renderCard(q *quoter.Quote, o cardOptions, f cardFormat) (rendition, error) {
	l, err := layoutCard(q, o.width)
	if err != nil {
		return rendition{}, err
	}
	theme := &themeLight
	if o.theme == "dark" {
		theme = &themeDark
	}
	if f == cardSVG {
		rend := newRendition(contentSVG, drawSVG(l, theme, o.theme == "auto", cardTitle(q)))
		rend.pack()
		return rend, nil
	}
	b, err := drawPNG(l, theme)
	if err != nil {
		return rendition{}, err
	}
	rend := newRendition(contentPNG, b)
	rend.binary = true
	return rend, nil
}

// cardTitle is the card's text as words: its title, its alt text.
func cardTitle(q *quoter.Quote) string {
	return capRunes(oneLine(q.Text), cardMaxRunes) + " — " + capRunes(oneLine(q.Author), cardMaxAttrRun)
}

// cardKey is what a rendered card depends on: the quote, by id and by a
// hash of what the card shows of it (an edit changes the card), and the
// options and format.
type cardKey struct {
	id      int64
	content uint64
	theme   string
	width   int
	format  cardFormat
}

func cardKeyOf(q *quoter.Quote, o cardOptions, f cardFormat) cardKey {
	hs := fnv.New64a()
	for _, s := range []string{q.Text, q.Author, q.Source, strconv.Itoa(q.Year)} {
		hs.Write([]byte(s))
		hs.Write([]byte{0})
	}
	theme := o.theme
	if f == cardPNG && theme == "auto" {
		theme = "light" // one PNG for both
	}
	return cardKey{id: q.ID, content: hs.Sum64(), theme: theme, width: o.width, format: f}
}

// cardCacheBytes bounds the rendered cards kept: a 1200-wide PNG is 10 to
// 70 KiB, an SVG (with its compressed copies) a few KiB, so this holds
// some hundreds of cards, the day's and the most shared.
const cardCacheBytes = 32 << 20

// cardCache keeps rendered cards, least recently used out first, within
// cardCacheBytes. Renders run at most GOMAXPROCS at once (each holds an
// image of at most 1600×840 bytes while it is drawn), so a burst of cold
// cards queues rather than takes memory without bound; a request that
// gives up while it waits leaves the queue.
type cardCache struct {
	mu    sync.Mutex
	items map[cardKey]*list.Element // of *cardEntry
	order list.List                 // most recently used at the front
	size  int
	max   int
	sem   chan struct{}
	hot   atomic.Pointer[hotCard] // the last card served, read without the lock
}

type cardEntry struct {
	key  cardKey
	rend rendition
	size int
}

// hotCard is the card served last, by the quote it was asked for: the
// memo of today's quote hands out the same *quoter.Quote until the quote
// changes, so the card of the day is found by comparing a pointer and
// the options, without hashing the quote or taking the lock.
type hotCard struct {
	q *quoter.Quote
	o cardOptions
	f cardFormat
	e *cardEntry
}

func newCardCache(maxBytes int) *cardCache {
	return &cardCache{items: map[cardKey]*list.Element{}, max: maxBytes, sem: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// get returns q's card, rendered now if it is not kept.
func (c *cardCache) get(ctx context.Context, q *quoter.Quote, o cardOptions, f cardFormat) (*rendition, error) {
	if h := c.hot.Load(); h != nil && h.q == q && h.o == o && h.f == f {
		return &h.e.rend, nil
	}
	key := cardKeyOf(q, o, f)
	if e := c.lookup(key); e != nil {
		c.hot.Store(&hotCard{q: q, o: o, f: f, e: e})
		return &e.rend, nil
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.sem }()
	if e := c.lookup(key); e != nil { // rendered while this one waited
		return &e.rend, nil
	}
	rend, err := renderCard(q, o, f)
	if err != nil {
		return nil, err
	}
	e := &cardEntry{key: key, rend: rend, size: len(rend.body) + 256}
	if rend.gzip != nil {
		e.size += len(rend.gzip.body) + len(rend.zstd.body)
	}
	c.add(e)
	c.hot.Store(&hotCard{q: q, o: o, f: f, e: e})
	return &e.rend, nil
}

func (c *cardCache) lookup(key cardKey) *cardEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cardEntry)
}

func (c *cardCache) add(e *cardEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[e.key]; ok {
		return
	}
	c.items[e.key] = c.order.PushFront(e)
	c.size += e.size
	for c.size > c.max && c.order.Len() > 1 {
		old := c.order.Back()
		oe := old.Value.(*cardEntry)
		c.order.Remove(old)
		delete(c.items, oe.key)
		c.size -= oe.size
	}
}

// shareRoutes registers the cards and oEmbed with get (see routes).
func (h *Handler) shareRoutes(get func(string, http.HandlerFunc)) {
	for _, f := range []struct {
		ext    string
		format cardFormat
	}{{".png", cardPNG}, {".svg", cardSVG}} {
		get("/today"+f.ext, h.card(f.format, todayCard))
		get("/day/{date}"+f.ext, h.card(f.format, dayCard))
		get("/quotes/{id}"+f.ext, h.card(f.format, quoteCard))
	}
	get("/oembed", h.oembed)
}
