package web

import (
	"bytes"
	"encoding/xml"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// The Atom feed is written with encoding/xml and a handful of structs: the
// format needs a dozen elements, and owning them keeps the entry ids exactly
// as stable as promised (one per day, derived from the day's permalink),
// which feed libraries tend to derive from content instead.

const (
	feedDays = 30
	atomNS   = "http://www.w3.org/2005/Atom"
)

type atomFeed struct {
	XMLName   xml.Name    `xml:"feed"`
	NS        string      `xml:"xmlns,attr"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Subtitle  string      `xml:"subtitle"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Author     atomPerson     `xml:"author"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
	Categories []atomCategory `xml:"category"`
}

// feedMemo keeps the last feed built, keyed like todayMemo, plus the base
// URL it was built for.
type feedMemo struct {
	mu      sync.Mutex
	day     quoter.Date
	gen     uint64
	base    string
	checked time.Time
	rend    rendition
	lastMod time.Time
}

// atomFeed is GET /feed.atom: the quotes of the last 30 days, newest first;
// with ?tag= or ?lang=, that tag's or language's daily quotes. Each
// entry's id is the day's permalink, so readers never see a day twice, and
// its updated time is when that day's content last changed (see
// dayChanged), so readers show a corrected quote again.
func (h *Handler) atomFeed(w http.ResponseWriter, r *http.Request) {
	now := h.cal.Time()
	today := quoter.DateOf(now)
	base := h.base(r)
	flt, err := h.daily(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !flt.IsZero() {
		// Not memoised: the library memoises each day's selection, and a
		// tag's feed is read by feed readers, not by crowds.
		b, updated, err := h.buildFeed(r, today, base, flt)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		serve(w, r, newRendition(contentAtom, b), maxAgeUntil(now, h.cal.Rollover(today)), updated, false)
		return
	}
	gen := h.today.gen.Load()

	m := h.feed
	m.mu.Lock()
	if m.day != today || m.gen != gen || m.base != base || now.Sub(m.checked) >= todayTTL || m.rend.body == nil {
		b, _, err := h.buildFeed(r, today, base, quoter.Filter{})
		if err != nil {
			m.mu.Unlock()
			h.fail(w, r, err)
			return
		}
		rend := newRendition(contentAtom, b)
		switch {
		case m.rend.etag == rend.etag:
		case m.day == today && m.base == base:
			m.lastMod = now.Truncate(time.Second)
		default:
			m.lastMod = today.Time(h.cal.Zone())
		}
		m.day, m.gen, m.base, m.checked, m.rend = today, gen, base, now, rend
	}
	rend, lastMod := m.rend, m.lastMod
	m.mu.Unlock()
	serve(w, r, rend, maxAgeUntil(now, h.cal.Rollover(today)), lastMod, false)
}

// buildFeed writes the feed of the daily quote flt selects, and returns
// it with its updated time: the latest of its entries'.
//
// A tag's or a language's feed has ids of its own, its query in the feed's
// and in every entry's ("…/day/2026-03-14?tag=poetry"): the same day has
// another quote there, and must not pass in a reader for the main feed's
// entry of that day.
func (h *Handler) buildFeed(r *http.Request, today quoter.Date, base string, flt quoter.Filter) ([]byte, time.Time, error) {
	zone := h.cal.Zone()
	query := dailyQuery(flt)
	f := atomFeed{
		NS:       atomNS,
		ID:       base + "/feed.atom" + query,
		Title:    "quotesd: quote of the day",
		Subtitle: "One quote a day, from a library you host.",
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: base + "/feed.atom" + query},
			{Rel: "alternate", Type: "text/html", Href: base + "/" + query},
		},
		Author:    atomPerson{Name: "quotesd"},
		Generator: "quotesd",
	}
	switch {
	case flt.Tag != "":
		f.Title += ": #" + flt.Tag
	case flt.Lang != "":
		f.Title += ": language " + flt.Lang
	}
	updated := today.Time(zone)
	for i := 0; i < feedDays; i++ {
		day := today.AddDays(-i)
		q, err := h.q.Today(r.Context(), day, flt)
		if code := quoter.ErrorCode(err); code == quoter.EGONE {
			continue // a purged quote: its day leaves the feed
		} else if code == quoter.ENOTFOUND && (i > 0 || flt.IsZero()) {
			// An empty library: a valid feed without entries. (An
			// unknown tag or language is a 404 naming it.)
			break
		} else if err != nil {
			return nil, time.Time{}, err
		}
		permalink := base + "/day/" + day.String() + query
		changed := dayChanged(q, day, zone)
		if changed.After(updated) {
			updated = changed
		}
		stamp := day.Time(zone).Format(time.RFC3339)
		e := atomEntry{
			ID:        permalink,
			Title:     day.Time(time.UTC).Format("2 January 2006") + ": " + q.Author,
			Updated:   changed.Format(time.RFC3339),
			Published: stamp,
			Links: []atomLink{
				{Rel: "alternate", Type: "text/html", Href: permalink},
				{Rel: "related", Type: "text/html", Href: base + "/quotes/" + strconv.FormatInt(q.ID, 10)},
			},
			Author:  atomPerson{Name: q.Author},
			Summary: atomText{Type: "text", Body: q.Render()},
			Content: atomText{Type: "html", Body: quoteHTML(q)},
		}
		if q.Removed {
			e.Links = e.Links[:1] // the quote's own page is gone
			e.Summary.Body += "\n\n" + removedNote
			e.Content.Body += "<p><em>" + removedNote + "</em></p>"
		}
		for _, t := range q.Tags {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = updated.Format(time.RFC3339)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, time.Time{}, quoter.Internal("encoding the Atom feed", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), updated, nil
}

// quoteHTML is a quote as an HTML fragment for feed readers; every piece of
// quote text is escaped here, and escaped again by the XML encoder.
func quoteHTML(q *quoter.Quote) string {
	var b strings.Builder
	b.WriteString("<blockquote><p>")
	b.WriteString(strings.ReplaceAll(html.EscapeString(q.Text), "\n", "<br>"))
	b.WriteString("</p></blockquote><p>— ")
	b.WriteString(html.EscapeString(q.Author))
	if q.Source != "" {
		b.WriteString(", <cite>" + html.EscapeString(q.Source) + "</cite>")
	}
	if q.Year != 0 {
		b.WriteString(" (" + formatYear(q.Year) + ")")
	}
	b.WriteString("</p>")
	return b.String()
}

// base is the absolute URL prefix for the feed's links: the configured
// base URL, else the scheme and Host of the request, when the Host is a
// plain host name or address (anything odd falls back to localhost rather
// than being echoed into the feed).
func (h *Handler) base(r *http.Request) string {
	if h.baseURL != nil {
		return h.baseURL.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" || strings.TrimLeft(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != "" {
		host = "localhost"
	}
	return scheme + "://" + host
}
