// Package web is the HTTP frontend of quotesd: today's quote as a page, a
// JSON API modelled on quotable's, an Atom feed, an authenticated admin
// API, the curators' pages under /admin and the public submission forms.
// The operations endpoints live on their own listener (package ops); this
// port serves /livez and /readyz only when Config.Ops says so, and never
// /metrics.
//
// It is a thin adapter: every handler turns a request into quoter.Library
// calls and the results into HTML, JSON or plain text. The only state it
// keeps is a memo of today's rendered quote (see todayMemo), because the
// quote of the day is by far the most requested resource and it changes
// once a day, a second's memo of the collections (collectionsMemo), and
// the budgets of sign-ins and submissions (Guards). Curators' sessions are
// signed cookies, not state (session.go).
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/ops"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/subscribers"
)

// Config is what the web frontend needs. Library is required; the zero
// value of every other field is a working default.
type Config struct {
	Addr string // where serve listens; "" disables the frontend (New ignores it)

	// Library is the store: the quotes it serves (quoter.Quoter) and, for
	// /admin, the submissions and the admin API's curation routes, what
	// its curators change (quoter.Curator).
	Library  quoter.Library
	Calendar *quoter.Calendar // decides "today"; nil means the local zone
	Log      *slog.Logger     // nil means slog.Default()

	// AccessLog receives the access log, one record per request (see
	// Access); nil means Log. quotesd serve passes a logger that batches
	// its writes, and whose handler is an AccessHandler.
	AccessLog *slog.Logger

	// Metrics is the registry the web frontend's per-route counters and
	// histograms go on: the process's one, which the operations listener
	// serves. nil means none: they are counted but registered nowhere.
	Metrics *prometheus.Registry

	// AdminToken enables the admin API (POST, PUT, PATCH, DELETE on
	// /api/v1/quotes; the pins under /api/v1/days) for requests carrying
	// "Authorization: Bearer <token>".
	// Empty disables it: those routes answer 404, as if they did not exist.
	AdminToken string

	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when deciding the client IP (for the rate limit and the
	// access log). Empty means the TCP peer is the client.
	TrustedProxies Prefixes

	// RateLimit is the number of requests a client (limits.Client: an
	// IPv4 address or an IPv6 /64) may make per RateWindow, and at once:
	// a token bucket of RateLimit tokens that refills at RateLimit per
	// RateWindow. Past it, 429 with Retry-After. 0 disables the limit.
	RateLimit  int
	RateWindow time.Duration // 0 means one minute

	// Limiter, when not nil, holds the clients' request budgets; nil means
	// a limiter of the handler's own. New sets its rate from RateLimit and
	// RateWindow. Give the Handler that replaces another on reload the
	// same Limiter, so that the clients keep what they have spent: a
	// reload must not forgive a client that is being limited.
	Limiter Limiter

	// RateShared asks for the rate limit to be one across every replica
	// sharing the database (--web-rate-shared): quotesd serve then gives
	// a Limiter of package limits/postgres. New itself only reads Limiter.
	RateShared bool

	// NoAccessLog turns off the access log line of every request (on by
	// default): for sites whose proxy logs already, where it would only cost.
	NoAccessLog bool

	// BaseURL, when set (e.g. "https://quotes.example.org"), is used for the
	// absolute links and ids of the Atom feed, so they do not change with
	// the Host a client happened to use. Empty means "from the request".
	BaseURL string

	// Ops serves /livez and /readyz on this port too, outside the rate
	// limit, for a load balancer that can only check the port it balances.
	// Off, they answer 404 like any path that does not exist.
	Ops bool

	// Ready, when not nil and Ops is on, is asked by /readyz after the
	// library (see ops.Readyz).
	Ready func() error

	// Admin serves /admin, where curators sign in with a name and the
	// password set by "quotesd admin passwd" (see admin_web.go).
	Admin bool

	// Submissions serves the public "Submit a quote" form and a
	// "Suggest a correction" form for every quote; what they send waits
	// in the moderation queue for a curator (see submit.go).
	Submissions bool

	// Subscribers, when not nil, serves the links of the mail
	// subscriptions' messages: /subscriptions/confirm and
	// /subscriptions/unsubscribe (with RFC 8058 one-click POST). The
	// mail frontend owns the store; serve wires it here.
	Subscribers subscribers.Store
	// Subscribe serves the /subscribe form (--web-subscribe), which
	// starts a subscription through Requester; without a Requester (mail
	// subscriptions off) it is not served.
	Subscribe bool
	Requester subscribers.Requester

	// Collections names the private collections the web frontend may
	// serve when a request names them (?collection=). Public collections
	// are always served; a private one not listed here is, to the web's
	// visitors, a collection that does not exist.
	Collections []string

	// Guards, when not nil, holds the budgets of sign-in attempts and of
	// public submissions; nil means guards of the handler's own. Give the
	// Handler that replaces another on reload the same Guards, as for
	// Limiter.
	Guards *Guards
}

// Limiter holds the clients' request budgets: a token bucket per
// limits.Client. *limits.Limiter is the per-replica one; the shared one
// (limits/postgres) has the same methods and meaning.
type Limiter interface {
	// SetRate sets r tokens a second in bursts of burst for every
	// client; r <= 0 means no limit.
	SetRate(r rate.Limit, burst int)
	// Take takes a token from c's bucket at now, or reports how long
	// until there is one.
	Take(c limits.Client, now time.Time) (wait time.Duration, ok bool)
}

// Handler is the web frontend as an http.Handler.
type Handler struct {
	subs    subscribers.Store     // nil: no subscription routes
	request subscribers.Requester // nil: no /subscribe form
	q       quoter.Library
	cal     *quoter.Calendar
	log     *slog.Logger
	alog    *slog.Logger  // the access log
	afast   AccessHandler // alog's handler, when it is one
	access  bool          // write the access log
	proxied bool          // the client IP comes from X-Forwarded-For (ClientIPFromXFF)
	limiter Limiter
	quota   rateQuota // the limit, for the RateLimit-* headers of a 429
	token   []byte
	baseURL *url.URL
	today   *todayMemo
	feed    *feedMemo
	metrics *httpMetrics
	router  chi.Router

	adminPages  bool            // serve /admin
	submissions bool            // serve the public submission forms
	served      map[string]bool // private collections served when named
	trusted     Prefixes        // the trusted proxies, for X-Forwarded-Proto
	guards      *Guards
	colls       collectionsMemo
	cards       *cardCache  // rendered quote cards (card.go)
	hosted      hostedPages // today's page per base URL (meta.go)
}

// New returns the web frontend's handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Library == nil {
		return nil, errors.New("web: Config.Library is nil")
	}
	h := &Handler{q: cfg.Library, cal: cfg.Calendar, log: cfg.Log, access: !cfg.NoAccessLog}
	if h.cal == nil {
		h.cal = &quoter.Calendar{}
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.alog = cfg.AccessLog
	if h.alog == nil {
		h.alog = h.log
	}
	h.afast, _ = h.alog.Handler().(AccessHandler)
	if cfg.AdminToken != "" {
		h.token = []byte(cfg.AdminToken)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web: base URL %q: want an absolute http(s) URL", cfg.BaseURL)
		}
		h.baseURL = u
	}
	var reg prometheus.Registerer // nil unless set: a nil *Registry in it would not be nil
	if cfg.Metrics != nil {
		reg = cfg.Metrics
	}
	h.adminPages, h.submissions, h.trusted = cfg.Admin, cfg.Submissions, cfg.TrustedProxies
	h.subs = cfg.Subscribers
	if cfg.Subscribe {
		h.request = cfg.Requester
	}
	h.served = make(map[string]bool, len(cfg.Collections))
	for _, c := range cfg.Collections {
		h.served[c] = true
	}
	h.guards = cfg.Guards
	if h.guards == nil {
		h.guards = NewGuards()
	}
	h.today = &todayMemo{h: h}
	h.feed = &feedMemo{}
	h.cards = newCardCache(cardCacheBytes)
	h.router = h.routes(cfg)
	// After the routes: the metrics make a series for each of them (the
	// middleware reads h.metrics only when it serves).
	h.metrics = newHTTPMetrics(reg, knownRequests(h.router))
	// Last, once nothing can fail: a Handler that is never served must not
	// change the rate of the one in service.
	h.limiter = cfg.Limiter
	if h.limiter == nil {
		h.limiter = limits.NewLimiter(0, 1)
	}
	window := cfg.RateWindow
	if window <= 0 {
		window = time.Minute
	}
	h.limiter.SetRate(rate.Limit(float64(cfg.RateLimit)/window.Seconds()), cfg.RateLimit)
	h.quota = newRateQuota(cfg.RateLimit, window)
	return h, nil
}

// maxURI caps the request target. No URL of this site comes near it (a
// search query is capped at 1000 bytes); a longer one is refused before
// routing with 414 (see capURI). Targets past the 32 KiB header cap are
// refused by net/http itself, with 431.
const maxURI = 8 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.router.ServeHTTP(w, r)
}

// capURI refuses request targets over maxURI with 414 before routing. It
// runs inside the common middleware, so the refusal carries the security
// headers and is logged and counted like any other answer.
func (h *Handler) capURI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > maxURI {
			h.fail(w, r, &httpError{http.StatusRequestURITooLong, fmt.Sprintf("request URI over %d bytes", maxURI)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routes builds the router. The order of middleware matters: the client IP
// is decided first (everything after it logs and limits by it); the access
// log and metrics wrap the panic recovery, so a recovered panic is counted
// and logged as the 500 it became; between them the compression, so that
// the log counts the bytes sent and a recovered 500 is written through it.
func (h *Handler) routes(cfg Config) chi.Router {
	r := chi.NewRouter()
	// The client IP is decided by chi's ClientIPFrom* middleware from
	// X-Forwarded-For, only through the trusted proxies. Without proxies the
	// client is the TCP peer, which peerIP reads straight from the request,
	// as ClientIPFromRemoteAddr would decide it: that middleware copies
	// every request (and its context) just to store the address.
	if len(cfg.TrustedProxies) > 0 {
		prefixes := make([]string, len(cfg.TrustedProxies))
		for i, p := range cfg.TrustedProxies {
			prefixes[i] = p.String()
		}
		r.Use(middleware.ClientIPFromXFF(prefixes...))
		h.proxied = true
	}
	r.Use(h.observe, compress, h.recoverPanics, securityHeaders, cors, h.capURI, middleware.GetHead)
	r.NotFound(h.notFound)
	r.MethodNotAllowed(h.methodNotAllowed)

	// Health checks stay outside the rate limit: a load balancer polling
	// them must never be throttled into taking the server out.
	if cfg.Ops {
		r.Get("/livez", ops.Livez)
		r.Method(http.MethodGet, "/readyz", ops.Readyz(h.q, cfg.Ready, h.log))
	}

	r.Group(func(r chi.Router) {
		if cfg.RateLimit > 0 {
			r.Use(h.limit)
		}
		// Every route's query is checked against what it declares in
		// routeParams (params.go) before its handler runs.
		get := func(pattern string, fn http.HandlerFunc) { r.Get(pattern, h.checkQuery(http.MethodGet, pattern, fn)) }
		get("/", h.todayPage)
		get("/random", h.randomPage)
		get("/quotes/{id}", h.quotePage)
		get("/day/{date}", h.dayPage)
		get("/search", h.searchPage)
		get("/authors", h.authorsPage)
		get("/tags", h.tagsPage)
		get("/feed.atom", h.atomFeed)
		get("/static/*", h.static)
		get("/favicon.ico", h.favicon)
		get("/robots.txt", h.robots)
		get("/api/openapi.json", h.openAPI)
		h.shareRoutes(get)
		h.apiRoutes(r)
		h.submitRoutes(r)
		h.subscriptionRoutes(r)
		h.subscribeRoutes(r)
		h.adminRoutes(r)
		h.authorRoutes(r)
		h.quotableRoutes(r)
	})
	return r
}

// limit answers 429 to a client that has spent its budget, with the
// seconds until it has a request again in Retry-After (RFC 9110 §10.2.3),
// rounded up, and the same in the RateLimit-* headers of the IETF draft
// (ratelimit.go). Only on 429s: rate headers on every response would cost
// more than the whole quote of the day to serve.
func (h *Handler) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := h.limiter.Take(h.client(r), time.Now()); !ok {
			secs := max(1, int((wait+time.Second-1)/time.Second))
			h.quota.exhausted(w.Header(), secs)
			h.tooManyRequests(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP is the client's address for the access log: as decided by the
// ClientIPFromXFF middleware behind trusted proxies, else (or when it
// could decide none) the TCP peer.
func (h *Handler) clientIP(r *http.Request) string {
	if h.proxied {
		if a := middleware.GetClientIPAddr(r.Context()); a.IsValid() {
			return a.String()
		}
	}
	return peerIP(r.RemoteAddr)
}

// peerIP is the address in a RemoteAddr ("192.0.2.1:4321", "[::1]:4321"),
// as chi's ClientIPFromRemoteAddr decides it (v4-mapped addresses folded
// to IPv4), or "" if there is none. An IPv4 peer, the common case, is
// returned as a substring of remote, without allocating: the kernel's
// dotted form is the canonical one (ParseAddr rejects any other).
func peerIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote // a bare address, as in some tests
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	if a.Is4() {
		return host
	}
	return a.Unmap().String()
}

// client is whom a request counts against: the client (limits.ClientOf)
// of the IP decided by chi's ClientIPFromXFF middleware behind trusted
// proxies, else of the TCP peer (never a header the client could forge).
// When no IP could be decided (a malformed X-Forwarded-For chain) it is
// the unknown client, one budget shared by all such requests.
func (h *Handler) client(r *http.Request) limits.Client {
	if h.proxied {
		return limits.ClientOf(middleware.GetClientIPAddr(r.Context()))
	}
	return limits.ClientOf(peerAddr(r.RemoteAddr))
}

// peerAddr is the address in a RemoteAddr ("192.0.2.1:4321",
// "[::1]:4321", or a bare address as in some tests), or the zero Addr.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(remote)
	return a
}

// securityHeaders sets the headers every response carries. The pages use no
// scripts, no inline styles and no third-party resources, so the policy can
// be this strict; its frame-ancestors replaces X-Frame-Options. Its
// connect-src 'self' gives no script anything (none can run): it lets
// tools that fetch from the page's context, as Lighthouse fetches
// /robots.txt, read this site. API
// responses are never documents, so they skip Referrer-Policy (which only
// documents apply), keeping the JSON hot path within eight headers, the
// size up to which Go's header map stays a single small group.
//
// The values are shared slices assigned with canonical keys: this runs on
// every request, and Header.Set would canonicalise and allocate each time.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Security-Policy"] = contentSecurityPolicy
		hd["X-Content-Type-Options"] = nosniff
		if !isAPI(r) {
			hd["Referrer-Policy"] = noReferrer
		}
		next.ServeHTTP(w, r)
	})
}

var (
	contentSecurityPolicy = []string{"default-src 'none'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}
	nosniff    = []string{"nosniff"}
	noReferrer = []string{"no-referrer"}
)
