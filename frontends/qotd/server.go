package qotd

import (
	"context"
	"log/slog"
	"math"
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

// cacheTTL bounds how long the rendered quote of the day is reused. The
// library may change under us (the web admin API, another process), and the
// store itself shows such changes within about a second.
const cacheTTL = time.Second

// Server answers QOTD requests from one quoter. Its TCP and UDP services
// (see TCP and UDP) share the settings, the cache of today's reply and the
// metrics.
type Server struct {
	quoter   quoter.Quoter
	calendar *quoter.Calendar
	log      *slog.Logger

	cfg     atomic.Pointer[Config]
	cfgGen  atomic.Uint64 // bumped by SetConfig, to invalidate the cache
	cacheMu sync.Mutex    // serialises refills of cache
	cache   atomic.Pointer[cachedReply]

	// The per-client rates of TCP connections and UDP replies. They live
	// as long as the Server, shared by its services; SetConfig changes
	// their rates in place, so that a reload keeps what each client spent.
	connRate, udpRate *limits.Limiter

	metrics *metrics

	lastFailLog atomic.Int64 // unix nanoseconds of the last "no quote to send"
	failsSince  atomic.Int64 // failures not logged since then
}

// cachedReply is the wire form of the quote of the day, reused by every
// client until the day, the config or the TTL changes.
type cachedReply struct {
	day     quoter.Date
	gen     uint64 // of the settings
	libGen  uint64 // of the library, when it has generations
	expires time.Time
	b       []byte
}

// NewServer returns a Server answering from q, with "today" decided by cal
// and logs on log. Its counters are registered on reg when reg is not nil.
func NewServer(q quoter.Quoter, cal *quoter.Calendar, log *slog.Logger, reg prometheus.Registerer, cfg Config) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{quoter: q, calendar: cal, log: log, metrics: newMetrics(reg),
		connRate: limits.NewLimiter(0, 1), udpRate: limits.NewLimiter(0, 1)}
	s.SetConfig(cfg)
	return s
}

// SetConfig applies cfg to connections and datagrams from now on. The
// per-client rates change in place: a client keeps what it has spent.
func (s *Server) SetConfig(cfg Config) {
	if cfg.Mode == "" {
		cfg.Mode = Daily
	}
	s.connRate.SetRate(rate.Limit(cfg.ConnRate), burst(cfg.ConnRate)) // 0: no limit
	s.udpRate.SetRate(rate.Limit(cfg.UDPRate), burst(cfg.UDPRate))
	s.cfg.Store(&cfg)
	s.cfgGen.Add(1)
}

// Config returns the settings in force.
func (s *Server) Config() Config { return *s.cfg.Load() }

// Reply returns the bytes a client gets now: the wire form of today's quote
// (or a random one) that fits MaxReply. The slice is shared: do not modify.
func (s *Server) Reply(ctx context.Context) ([]byte, error) {
	cfg := s.cfg.Load()
	if cfg.Mode == Random {
		return s.render(ctx, cfg, func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
			return s.quoter.Random(ctx, f)
		})
	}
	day := s.calendar.Today()
	gen, libGen := s.cfgGen.Load(), s.libGeneration()
	now := time.Now()
	if c := s.cache.Load(); c.fresh(day, gen, libGen, now) {
		return c.b, nil
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if c := s.cache.Load(); c.fresh(day, gen, libGen, now) {
		return c.b, nil // another connection refilled it while we waited
	}
	b, err := s.render(ctx, cfg, func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
		return s.quoter.Today(ctx, day, f)
	})
	if err != nil {
		return nil, err
	}
	s.cache.Store(&cachedReply{day: day, gen: gen, libGen: libGen, expires: time.Now().Add(cacheTTL), b: b})
	return b, nil
}

// cachedReply returns the reply Reply would, when that is the rendered
// quote of the day already in the cache; otherwise nil. It never calls the
// library, so it cannot block: the TCP acceptor answers inline with it.
func (s *Server) cachedReply() []byte {
	cfg := s.cfg.Load()
	if cfg.Mode == Random {
		return nil
	}
	if c := s.cache.Load(); c.fresh(s.calendar.Today(), s.cfgGen.Load(), s.libGeneration(), time.Now()) {
		return c.b
	}
	return nil
}

// fresh reports whether c (which may be nil) is the reply for day under the
// settings generation gen and library generation libGen at now.
func (c *cachedReply) fresh(day quoter.Date, gen, libGen uint64, now time.Time) bool {
	return c != nil && c.day == day && c.gen == gen && c.libGen == libGen && now.Before(c.expires)
}

// libGeneration is the generation of the quoter when it counts them (as
// reactor.Library does, once per reopened library), else 0.
func (s *Server) libGeneration() uint64 {
	if g, ok := s.quoter.(interface{ Generation() uint64 }); ok {
		return g.Generation()
	}
	return 0
}

func (s *Server) render(ctx context.Context, cfg *Config, sel oneshot.Selector) ([]byte, error) {
	b, truncated, err := fitting(ctx, sel, cfg.ASCII, MaxReply)
	if err != nil {
		return nil, err
	}
	if truncated {
		s.log.Warn("no quote in the library fits the 512-byte QOTD limit; sent one cut on a word boundary", "mode", cfg.Mode)
	}
	return b, nil
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

// burst is the token bucket size for a rate: the rate rounded up, at least 1.
func burst(r float64) int {
	return int(math.Max(1, math.Ceil(r)))
}

// writeTimeout bounds writing one reply; 0: no bound.
func (s *Server) writeTimeout() time.Duration { return s.cfg.Load().WriteTimeout }

// metrics counts what the frontend did, for /metrics.
type metrics struct {
	served   *prometheus.CounterVec // by proto
	rejected *prometheus.CounterVec // by proto and reason
	errors   *prometheus.CounterVec // by proto

	tcpServed, tcpErrors prometheus.Counter // resolved once: the hot path
}

// Reasons a request got no reply, as the "reason" label of
// quotesd_qotd_rejected_total.
const (
	reasonMaxConns   = oneshot.ReasonMaxConns // TCP: too many connections at once
	reasonRate       = oneshot.ReasonRate     // per-source rate limit
	reasonGlobalRate = "global_rate"          // UDP: overall rate limit
	reasonLoopPort   = "loop_port"            // UDP: source port of a small service (ping-pong)
	reasonBadSource  = "bad_source"           // UDP: unspecified, multicast or broadcast source
)

// The protocols, as the "proto" label, and the reasons each can give.
var (
	protos     = []string{"tcp", "udp"}
	tcpReasons = []string{reasonMaxConns, reasonRate}
	udpReasons = []string{reasonRate, reasonGlobalRate, reasonLoopPort, reasonBadSource}
)

// newMetrics registers the counters with every series they can have, at
// zero: UDP's too, whether or not it is on (no UDP reply is a true zero).
func newMetrics(reg prometheus.Registerer) *metrics {
	r := metric.For(reg, "qotd")
	rejections := append(metric.Cross([]string{"tcp"}, tcpReasons), metric.Cross([]string{"udp"}, udpReasons)...)
	m := &metrics{
		served:   r.CounterVecKnown("replies_total", "QOTD replies sent, by protocol.", metric.Each(protos...), "proto"),
		rejected: r.CounterVecKnown("rejected_total", "QOTD requests dropped without a reply, by protocol and reason.", rejections, "proto", "reason"),
		errors:   r.CounterVecKnown("errors_total", "QOTD requests that failed (library error, write error), by protocol.", metric.Each(protos...), "proto"),
	}
	m.tcpServed = m.served.WithLabelValues("tcp")
	m.tcpErrors = m.errors.WithLabelValues("tcp")
	return m
}
