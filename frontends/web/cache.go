package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

const (
	contentText = "text/plain; charset=utf-8"
	contentHTML = "text/html; charset=utf-8"
	contentJSON = "application/json; charset=utf-8"
	contentAtom = "application/atom+xml; charset=utf-8"
)

// rendition is one encoded representation of a resource, with its strong
// ETag (a hash of the bytes, so equal bodies get equal tags across
// processes and restarts).
type rendition struct {
	body []byte
	etag string
	// Header values, made once: Content-Type, ETag, Content-Length.
	ctypeH, etagH, lengthH []string
	// The body compressed once (see pack), for a rendition served many
	// times; nil when it is not.
	gzip, zstd *encoded
	// binary marks a type compress passes through (a PNG): it never
	// varies by Accept-Encoding, whatever its length.
	binary bool
}

func newRendition(ctype string, body []byte) rendition {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	return rendition{
		body:    body,
		etag:    etag,
		ctypeH:  []string{ctype},
		etagH:   []string{etag},
		lengthH: []string{strconv.Itoa(len(body))},
	}
}

// serve writes rend with its validators and cache policy, or 304 Not
// Modified when the client's copy is current. negotiated resources vary
// by Accept.
func serve(w http.ResponseWriter, r *http.Request, rend rendition, cacheControl string, lastMod time.Time, negotiated bool) {
	var lm []string
	if !lastMod.IsZero() {
		lm = []string{lastMod.UTC().Format(http.TimeFormat)}
	}
	serveRendition(w, r, &rend, []string{cacheControl}, lastMod, lm, negotiated)
}

// The Vary of a rendition: by Accept when negotiated, and by
// Accept-Encoding when the body is long enough to be compressed (see
// compress). A shorter body is the same whatever the client accepts, and
// saying so keeps the hot path's headers few (see securityHeaders).
var (
	varyAccept         = []string{"Accept"}
	varyAcceptEncoding = []string{"Accept-Encoding"}
	varyBoth           = []string{"Accept, Accept-Encoding"}
)

// serveRendition is serve with the Last-Modified header preformatted (lm),
// for the memoised hot path. Headers are assigned with canonical keys and
// the rendition's own slices, which nothing modifies.
func serveRendition(w http.ResponseWriter, r *http.Request, rend *rendition, cacheControl []string, lastMod time.Time, lm []string, negotiated bool) {
	hd := w.Header()
	hd["Content-Type"] = rend.ctypeH
	body, etagH, lengthH := rend.body, rend.etagH, rend.lengthH
	if rend.gzip != nil && r.Method == http.MethodGet {
		if enc := rend.encoding(r.Header["Accept-Encoding"]); enc != nil {
			// compress's wrapper passes a body with a coding through.
			hd["Content-Encoding"] = enc.codingH
			body, etagH, lengthH = enc.body, enc.etagH, enc.lengthH
		}
	}
	hd["Etag"] = etagH
	hd["Cache-Control"] = cacheControl
	switch compressible := len(rend.body) >= compressMinSize && !rend.binary; {
	case negotiated && unfurled(r):
		hd["Vary"] = varyUnfurled // see previewBot
	case negotiated && compressible:
		hd["Vary"] = varyBoth
	case negotiated:
		hd["Vary"] = varyAccept
	case compressible:
		hd["Vary"] = varyAcceptEncoding
	default:
		delete(hd, "Vary") // compress's, before it knew the length
	}
	if lm != nil {
		hd["Last-Modified"] = lm
	}
	if tag, ok := notModified(r, rend.etag, lastMod); ok {
		delete(hd, "Content-Type")
		// The 304 names the validator of the copy the client holds, plain
		// or compressed, whatever it would be sent now, so that a cache
		// refreshes that copy.
		switch tag {
		case "", "*":
		case rend.etag:
			hd["Etag"] = rend.etagH
		default:
			hd["Etag"] = []string{tag}
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead || len(body) > netHTTPBuffer {
		hd["Content-Length"] = lengthH
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// netHTTPBuffer is how much of a response body net/http holds back before
// it sends the header. A body that fits and is written whole by a handler
// that then returns gets its Content-Length from net/http, at less cost
// than a header entry the server would copy, sort and write like any
// other; a longer one, or a HEAD response, which has no body to measure,
// needs it set.
const netHTTPBuffer = 2048

// notModified evaluates a conditional GET (RFC 9110 §13.2.2): If-None-Match
// when present (weak comparison), else If-Modified-Since. etag matches in
// its plain form and in those of its compressed representations (see
// etagMatches); tag is the entity tag that matched, "" when the dates did.
func notModified(r *http.Request, etag string, lastMod time.Time) (tag string, ok bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || etagMatches(t, etag) {
				return t, true
			}
		}
		return "", false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !lastMod.IsZero() {
		t, err := http.ParseTime(ims)
		return "", err == nil && !lastMod.Truncate(time.Second).After(t)
	}
	return "", false
}

// maxAgeUntil is a Cache-Control for a resource that changes at t: public,
// fresh for the whole seconds left until then.
func maxAgeUntil(now, t time.Time) string {
	secs := int64(math.Floor(t.Sub(now).Seconds()))
	if secs < 0 {
		secs = 0
	}
	return "public, max-age=" + strconv.FormatInt(secs, 10)
}

// todayTTL bounds how long the memo trusts its copy of today's quote before
// asking the library again: changes made through this frontend clear it at
// once (the generation), changes by another process (`quotesd add`) show
// within this long.
const todayTTL = time.Second

// todayMemo keeps today's quote rendered in every format, keyed by (day,
// generation): the page, the JSON and the text are encoded once and then
// served as bytes, so the hottest resource costs a map-free pointer load.
// The daily quotes of a tag or a language (?tag=, ?lang=) are memoised
// apart, in a small map, so that they cost the unfiltered path nothing.
type todayMemo struct {
	h      *Handler
	gen    atomic.Uint64 // bumped by every write through the admin API
	mu     sync.Mutex    // serialises rebuilds
	cur    atomic.Pointer[todayEntry]
	maxAge atomic.Pointer[maxAgeValue]

	fmu      sync.Mutex                    // guards filtered and serialises its rebuilds
	filtered map[quoter.Filter]*todayEntry // today's quote of a tag or a language
}

// maxFiltered bounds the memo of filtered daily quotes. Only filters that
// name a real tag or language get an entry (the others are errors), and
// when the map is full it starts over: a client asking for every tag in
// turn costs rebuilds, never memory.
const maxFiltered = 64

// maxAgeValue is today's Cache-Control value, formatted at most once a
// second (it counts down whole seconds to the rollover).
type maxAgeValue struct {
	sec   int64    // Unix second it was computed for
	until int64    // Unix second of the rollover it counts down to
	value []string // the header value
}

// cacheControl returns the Cache-Control header value for e at now.
func (m *todayMemo) cacheControl(e *todayEntry, now time.Time) []string {
	sec := now.Unix()
	if v := m.maxAge.Load(); v != nil && v.sec == sec && v.until == e.rollover {
		return v.value
	}
	v := &maxAgeValue{sec: sec, until: e.rollover, value: []string{maxAgeUntil(now, time.Unix(e.rollover, 0))}}
	m.maxAge.Store(v)
	return v.value
}

type todayEntry struct {
	day      quoter.Date
	gen      uint64
	checked  time.Time     // when the library was last asked
	lastMod  time.Time     // when this content became today's
	lastModH []string      // lastMod as an HTTP date
	rollover int64         // Unix second when day stops being today
	filter   quoter.Filter // the daily quote's filter
	quote    *quoter.Quote
	text     rendition
	html     rendition
	json     rendition
}

// fresh reports whether e may be served for day at now, generation gen.
func (e *todayEntry) fresh(day quoter.Date, gen uint64, now time.Time) bool {
	return e != nil && e.day == day && e.gen == gen && now.Sub(e.checked) < todayTTL
}

// invalidate makes the next request rebuild, after a write.
func (m *todayMemo) invalidate() { m.gen.Add(1) }

// getAt returns today's entry at the instant now (read once per request by
// the caller), rebuilding it when the day rolled over, the library changed
// through this frontend, or the copy is older than todayTTL.
func (m *todayMemo) getAt(ctx context.Context, now time.Time) (*todayEntry, error) {
	day := quoter.DateOf(now)
	gen := m.gen.Load()
	if e := m.cur.Load(); e.fresh(day, gen, now) {
		return e, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.cur.Load()
	if prev.fresh(day, gen, now) {
		return prev, nil // another request rebuilt it while we waited
	}
	e, err := m.build(ctx, now, day, gen, quoter.Filter{}, prev)
	if err != nil {
		return nil, err
	}
	m.cur.Store(e)
	return e, nil
}

// getFilteredAt is getAt for today's quote of a tag or a language (f not
// zero): the same entry, kept in the bounded map.
func (m *todayMemo) getFilteredAt(ctx context.Context, now time.Time, f quoter.Filter) (*todayEntry, error) {
	day := quoter.DateOf(now)
	gen := m.gen.Load()
	m.fmu.Lock()
	defer m.fmu.Unlock()
	prev := m.filtered[f]
	if prev.fresh(day, gen, now) {
		return prev, nil
	}
	e, err := m.build(ctx, now, day, gen, f, prev)
	if err != nil {
		return nil, err
	}
	if m.filtered == nil || prev == nil && len(m.filtered) >= maxFiltered {
		m.filtered = make(map[quoter.Filter]*todayEntry)
	}
	m.filtered[f] = e
	return e, nil
}

// build asks the library for day's quote passing f and renders it in
// every format. prev, the entry it replaces (or nil), keeps its bytes and
// validators when the quote is the same.
func (m *todayMemo) build(ctx context.Context, now time.Time, day quoter.Date, gen uint64, f quoter.Filter, prev *todayEntry) (*todayEntry, error) {
	q, err := m.h.q.Today(ctx, day, f)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.day == day && reflect.DeepEqual(prev.quote, q) {
		e := *prev // same quote: keep the bytes and validators
		e.gen, e.checked = gen, now
		return &e, nil
	}
	e := &todayEntry{day: day, gen: gen, checked: now, filter: f, quote: q, lastMod: day.Time(m.h.cal.Zone())}
	if prev != nil && prev.day == day {
		e.lastMod = now.Truncate(time.Second) // edited during the day
	}
	e.lastModH = []string{e.lastMod.UTC().Format(http.TimeFormat)}
	e.rollover = m.h.cal.Rollover(day).Unix()
	for _, r := range []struct {
		f   format
		dst *rendition
	}{{formatText, &e.text}, {formatHTML, &e.html}, {formatJSON, &e.json}} {
		if *r.dst, err = m.h.renderDay(q, day, day, f, r.f, m.h.configuredBase()); err != nil {
			return nil, err
		}
		// Without a configured base URL, today's page is served from a
		// copy made per Host (todayHTML), packed there: packing this one
		// too was work the first browser waited for, for nothing.
		if r.f != formatHTML || m.h.baseURL != nil {
			r.dst.pack()
		}
	}
	return e, nil
}

// todayEntryAt returns today's entry for the daily quote f selects: the
// library's when f is zero, else a tag's or a language's.
func (h *Handler) todayEntryAt(ctx context.Context, now time.Time, f quoter.Filter) (*todayEntry, error) {
	if f.IsZero() {
		return h.today.getAt(ctx, now)
	}
	return h.today.getFilteredAt(ctx, now, f)
}

// pastDayCacheControl is the cache policy of a past day's quote. The day
// keeps its quote for good, but not its text: an edit of the quote (a
// typo fixed, an attribution corrected) shows on every day it was shown,
// and a purge makes them 410. So a day past is cacheable for long, never
// immutable, and its ETag (a hash of the bytes) changes exactly when the
// representation does, so that revalidating costs a 304.
const pastDayCacheControl = "public, max-age=86400"

// dayChanged is when the content of day's quote q last changed: the start
// of the day in zone, or the quote's last change (Quote.Changed) when it
// is later. It is Last-Modified of a past day and <updated> of its feed
// entry, and the same in every process serving the library.
func dayChanged(q *quoter.Quote, day quoter.Date, zone *time.Location) time.Time {
	t := day.Time(zone)
	if c := q.Changed(); c.After(t) {
		return c.In(zone)
	}
	return t
}

// serveToday writes today's quote in format f with today's cache policy:
// fresh until the next rollover in the configured zone.
func (h *Handler) serveToday(w http.ResponseWriter, r *http.Request, e *todayEntry, now time.Time, f format, negotiated bool) {
	var rend *rendition
	switch f {
	case formatText:
		rend = &e.text
	case formatJSON:
		rend = &e.json
	default:
		rend = h.todayHTML(r, e)
	}
	serveRendition(w, r, rend, h.today.cacheControl(e, now), e.lastMod, e.lastModH, negotiated)
}
