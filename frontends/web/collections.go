package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// The web serves every public collection, and of the private ones only
// those Config.Collections names, and those only to requests that name
// them (?collection=). To its visitors, a private collection it does not
// serve does not exist: asking for it is a 404 that says no more than
// asking for a name never used, and its quotes' pages are 404s too.
// Signed-in curators (and the admin API's token) see every collection.

// collectionsTTL is how long the list of collections is kept for the
// checks of visitors' requests: a quote page asks whether its quote's
// collection is served, and asking the library each time would count every
// collection's quotes. A change made through this handler is seen at once;
// one made by another process (quotesd, another replica) within this time.
const collectionsTTL = time.Second

// collectionsMemo keeps the library's collections for collectionsTTL.
type collectionsMemo struct {
	mu   sync.Mutex
	at   time.Time // when list was read; zero when stale
	list []quoter.Collection
}

func (m *collectionsMemo) get(ctx context.Context, lib quoter.Curator) ([]quoter.Collection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := time.Now(); m.at.IsZero() || now.Sub(m.at) >= collectionsTTL || now.Before(m.at) {
		list, err := lib.Collections(ctx)
		if err != nil {
			return nil, err
		}
		m.list, m.at = list, now
	}
	return m.list, nil
}

func (m *collectionsMemo) invalidate() {
	m.mu.Lock()
	m.at = time.Time{}
	m.mu.Unlock()
}

// collectionParam reads ?collection= (one name or several joined by
// commas) and checks that the web serves each: a malformed name is a 400
// naming the parameter; an unknown one, or a private one not served, a 404.
// Absent, it is "" (every public collection).
func (h *Handler) collectionParam(r *http.Request) (string, error) {
	if r.URL.RawQuery == "" {
		return "", nil
	}
	v := strings.TrimSpace(r.URL.Query().Get("collection"))
	if v == "" {
		return "", nil
	}
	names := strings.Split(v, ",")
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSpace(n))
		if !validCollection(names[i]) {
			return "", badParam("collection", "invalid collection %s: names are lower-case letters, digits and inner hyphens, at most %d, joined by commas", quoted(n), quoter.MaxCollectionLen)
		}
	}
	all, err := h.colls.get(r.Context(), h.q)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if !h.serves(all, n) {
			return "", quoter.Errorf(quoter.ENOTFOUND, "there is no collection %q", n)
		}
	}
	return strings.Join(names, ","), nil
}

// serves reports whether name is among all and served on the web.
func (h *Handler) serves(all []quoter.Collection, name string) bool {
	for _, c := range all {
		if c.Name == name {
			return !c.Private || h.served[name]
		}
	}
	return false
}

// servedCollections is the collections the web shows its visitors: the
// public ones and the private ones it serves.
func (h *Handler) servedCollections(ctx context.Context) ([]quoter.Collection, error) {
	all, err := h.q.Collections(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0:0]
	for _, c := range all {
		if !c.Private || h.served[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// visible returns q when the web may show it to a visitor (its collection
// is served), else ENOTFOUND worded as for a quote that never was: a
// private collection's quotes must not leak through their ids. Curators
// see every quote.
func (h *Handler) visible(ctx context.Context, q *quoter.Quote, curator bool) (*quoter.Quote, error) {
	if curator || q.Collection == "" {
		return q, nil
	}
	all, err := h.colls.get(ctx, h.q)
	if err != nil {
		return nil, err
	}
	if !h.serves(all, q.Collection) {
		return nil, quoter.Errorf(quoter.ENOTFOUND, "no quote with id %d", q.ID)
	}
	return q, nil
}
