// Package finger is the RFC 1288 Finger frontend: a client connects, sends
// one query line (at most MaxQuery bytes) and gets a reply in CRLF text of
// at most MaxReply bytes, then the connection is closed. The empty query
// (`finger @host`) is today's quote, "random" a random one, a tag today's
// quote of that tag, "help" the list. /W and forwarding (a query naming
// another host) are refused: quotesd is never a relay.
//
// Connections are served by frontends/internal/oneshot, as QOTD's are:
// the same connection cap, per-client rate, deadlines and lingering close.
package finger

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/ops/metric"
	"github.com/quotesd/quotesd/quoter"
)

// MaxReply is the most bytes a reply may hold.
const MaxReply = 4096

// cacheTTL bounds how long the rendered quote of the day is reused: the
// library may change under us, and the store shows changes within about a
// second.
const cacheTTL = time.Second

// Server answers Finger queries from one quoter.
type Server struct {
	quoter   quoter.Quoter
	calendar *quoter.Calendar
	log      *slog.Logger

	cfg atomic.Pointer[Config]
	// connRate is the per-client connection rate; SetConfig changes it in
	// place, so that a reload keeps what each client spent.
	connRate *limits.Limiter

	cacheMu sync.Mutex // serialises refills of today
	today   atomic.Pointer[cachedReply]

	metrics *metrics

	lastFailLog atomic.Int64 // unix nanoseconds of the last "no quote to send"
	failsSince  atomic.Int64 // failures not logged since then
}

// cachedReply is the reply to the empty query, reused by every client
// until the day, the library or the TTL changes.
type cachedReply struct {
	day     quoter.Date
	libGen  uint64
	expires time.Time
	b       []byte
}

// NewServer returns a Server answering from q, with "today" decided by cal
// and logs on log. Its counters are registered on reg when reg is not nil.
func NewServer(q quoter.Quoter, cal *quoter.Calendar, log *slog.Logger, reg prometheus.Registerer, cfg Config) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{quoter: q, calendar: cal, log: log, metrics: newMetrics(reg), connRate: limits.NewLimiter(0, 1)}
	s.SetConfig(cfg)
	return s
}

// SetConfig applies cfg to connections from now on. The per-client rate
// changes in place: a client keeps what it has spent.
func (s *Server) SetConfig(cfg Config) {
	s.connRate.SetRate(rate.Limit(cfg.ConnRate), int(math.Max(1, math.Ceil(cfg.ConnRate))))
	s.cfg.Store(&cfg)
}

// Config returns the settings in force.
func (s *Server) Config() Config { return *s.cfg.Load() }

// Answer returns the reply to q: CRLF text of at most MaxReply bytes. The
// slice may be shared: do not modify. A library that cannot answer (empty,
// failing) gets a one-line apology, and the failure is logged.
func (s *Server) Answer(ctx context.Context, q Query) []byte {
	var b []byte
	var err error
	switch q.Kind {
	case Refused:
		s.metrics.refused.WithLabelValues(q.Reason).Inc()
		return oneshot.CRLF(q.Refusal)
	case Today:
		b, err = s.todaysReply(ctx)
	case Random:
		b, err = s.fit(ctx, func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
			return s.quoter.Random(ctx, f)
		})
	case Tag:
		b, err = s.tagReply(ctx, q.Tag)
	case Help:
		b, err = s.help(ctx)
	}
	if err != nil {
		s.metrics.errors.Inc()
		s.replyFailed(err)
		return oneshot.CRLF("finger: no quote to show just now; try again later")
	}
	return b
}

// cachedToday returns the reply to the empty query when it is in the
// cache, else nil. It never calls the library, so it cannot block: the
// acceptor answers inline with it.
func (s *Server) cachedToday() []byte {
	if c := s.today.Load(); c.fresh(s.calendar.Today(), s.libGeneration(), time.Now()) {
		return c.b
	}
	return nil
}

// todaysReply is today's quote, from the cache or rendered anew.
func (s *Server) todaysReply(ctx context.Context) ([]byte, error) {
	day, libGen, now := s.calendar.Today(), s.libGeneration(), time.Now()
	if c := s.today.Load(); c.fresh(day, libGen, now) {
		return c.b, nil
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if c := s.today.Load(); c.fresh(day, libGen, now) {
		return c.b, nil // another connection refilled it while we waited
	}
	b, err := s.fit(ctx, func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
		return s.quoter.Today(ctx, day, f)
	})
	if err != nil {
		return nil, err
	}
	s.today.Store(&cachedReply{day: day, libGen: libGen, expires: time.Now().Add(cacheTTL), b: b})
	return b, nil
}

// fresh reports whether c (which may be nil) is the reply for day and
// library generation libGen at now.
func (c *cachedReply) fresh(day quoter.Date, libGen uint64, now time.Time) bool {
	return c != nil && c.day == day && c.libGen == libGen && now.Before(c.expires)
}

// libGeneration is the generation of the quoter when it counts them (as
// reactor.Library does, once per reopened library), else 0.
func (s *Server) libGeneration() uint64 {
	if g, ok := s.quoter.(interface{ Generation() uint64 }); ok {
		return g.Generation()
	}
	return 0
}

// tagRE is what a tag may be (quoter's rule): a query that is not one
// names no tag, and is answered so without asking the library.
var tagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// tagReply is today's quote of tag, or a line saying it has none.
func (s *Server) tagReply(ctx context.Context, tag string) ([]byte, error) {
	unknown := oneshot.CRLF(fmt.Sprintf("finger: no quote is tagged %q; 'finger help@host' lists the tags", tag))
	if len(tag) > quoter.MaxTagLen || !tagRE.MatchString(tag) {
		return unknown, nil
	}
	day := s.calendar.Today()
	b, err := s.fit(ctx, func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
		f.Tag = tag
		return s.quoter.Today(ctx, day, f)
	})
	if quoter.ErrorCode(err) == quoter.ENOTFOUND {
		return unknown, nil
	}
	return b, err
}

// fit is the wire form of the first quote sel gives that fits MaxReply
// (see oneshot.Fit).
func (s *Server) fit(ctx context.Context, sel oneshot.Selector) ([]byte, error) {
	b, truncated, err := oneshot.Fit(ctx, sel, nil, MaxReply)
	if err != nil {
		return nil, err
	}
	if truncated {
		s.log.Warn("no quote in the library fits the 4 KiB Finger limit; sent one cut on a word boundary")
	}
	return b, nil
}

// helpText is the first part of the reply to "help".
const helpText = `quotesd Finger (RFC 1288): one quote a query.
  finger @HOST          today's quote
  finger random@HOST    a random quote
  finger TAG@HOST       today's quote tagged TAG
  finger help@HOST      this list
Tags:`

// help is the list of queries, then the tags, most used first, as many as
// fit MaxReply.
func (s *Server) help(ctx context.Context) ([]byte, error) {
	tags, err := s.quoter.Tags(ctx)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(helpText)
	line := 0
	for i, t := range tags {
		word := " " + t.Name
		if i < len(tags)-1 {
			word += ","
		}
		if line+len(word) > 72 {
			b.WriteString("\n ")
			line = 1
		}
		// The reply, with a CR per line, must keep room for this word.
		if b.Len()+strings.Count(b.String(), "\n")+len(word)+4 > MaxReply {
			break
		}
		b.WriteString(word)
		line += len(word)
	}
	return oneshot.CRLF(b.String()), nil
}

// replyFailed logs that no reply could be made (an empty library, a
// storage error): at most once a second, with the number of failures left
// unlogged, so that a flood of clients cannot flood the log too.
func (s *Server) replyFailed(err error) {
	now := time.Now().UnixNano()
	last := s.lastFailLog.Load()
	if now-last < int64(time.Second) || !s.lastFailLog.CompareAndSwap(last, now) {
		s.failsSince.Add(1)
		return
	}
	s.log.Error("no quote to send", "err", err, "more_failures_unlogged", s.failsSince.Swap(0))
}

// metrics counts what the frontend did, for /metrics.
type metrics struct {
	replies  *prometheus.CounterVec // by query kind
	refused  *prometheus.CounterVec // queries refused, by reason
	rejected *prometheus.CounterVec // connections closed unanswered, by reason
	errors   prometheus.Counter

	todayServed prometheus.Counter // resolved once: the hot path
}

var kinds = []string{string(Today), string(Random), string(Tag), string(Help), string(Refused)}

// newMetrics registers the counters with every series they can have, at
// zero.
func newMetrics(reg prometheus.Registerer) *metrics {
	r := metric.For(reg, "finger")
	m := &metrics{
		replies:  r.CounterVecKnown("replies_total", "Finger replies sent in full, by query (today, random, tag, help, refused).", metric.Each(kinds...), "query"),
		refused:  r.CounterVecKnown("refused_total", "Finger queries answered with a refusal, by reason.", metric.Each(refusalReasons...), "reason"),
		rejected: r.CounterVecKnown("rejected_total", "Finger connections closed without a reply, by reason.", metric.Each(oneshot.ReasonMaxConns, oneshot.ReasonRate), "reason"),
		errors:   r.Counter("errors_total", "Finger connections that failed (library error, read or write error)."),
	}
	m.todayServed = m.replies.WithLabelValues(string(Today))
	return m
}
