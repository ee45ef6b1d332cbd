package qotd

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"quotesd/quoter"
)

// Config holds the settings that may change while serving (SIGHUP).
type Config struct {
	Mode  Mode // Daily (the zero value) or Random
	ASCII bool // transliterate replies to ASCII

	// MaxConns caps TCP connections being answered at once; an excess
	// connection is closed at once, without a reply. 0 means no cap.
	MaxConns int
	// ConnRate, when positive, caps TCP connections per second from one IP
	// address (burst: the rate rounded up); excess connections are closed.
	ConnRate float64

	// UDPRate caps replies per second to one source address (burst: the
	// rate rounded up); UDPGlobalRate caps replies per second overall.
	// Excess datagrams are dropped silently, and counted. 0 means 1 and 100.
	UDPRate       float64
	UDPGlobalRate float64
}

// Defaults for Config and Server fields left zero.
const (
	DefaultUDPRate       = 1
	DefaultUDPGlobalRate = 100
	DefaultWriteTimeout  = 5 * time.Second
	DefaultLinger        = time.Second
	// cacheTTL bounds how long the rendered quote of the day is reused. The
	// library may change under us (the web admin API, another process), and
	// the store itself shows such changes within about a second.
	cacheTTL = time.Second
)

// Server answers QOTD requests from one quoter. Its TCP and UDP services
// (see TCP and UDP) share the settings, the cache of today's reply and the
// metrics.
type Server struct {
	quoter   quoter.Quoter
	calendar *quoter.Calendar
	log      *slog.Logger

	// WriteTimeout bounds writing one reply; Linger bounds how long a TCP
	// connection is kept after the reply so that input the client sent is
	// read and discarded rather than answered with a reset (which can
	// destroy the reply in the client's receive buffer). Set before serving.
	WriteTimeout time.Duration
	Linger       time.Duration

	cfg     atomic.Pointer[Config]
	cfgGen  atomic.Uint64 // bumped by SetConfig, to invalidate the cache
	cacheMu sync.Mutex    // serialises refills of cache
	cache   atomic.Pointer[cachedReply]

	metrics *metrics
}

// cachedReply is the wire form of the quote of the day, reused by every
// client until the day, the config or the TTL changes.
type cachedReply struct {
	day     quoter.Date
	gen     uint64
	expires time.Time
	b       []byte
}

// NewServer returns a Server answering from q, with "today" decided by cal
// and logs on log. Its counters are registered on reg when reg is not nil.
func NewServer(q quoter.Quoter, cal *quoter.Calendar, log *slog.Logger, reg prometheus.Registerer, cfg Config) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{quoter: q, calendar: cal, log: log, metrics: newMetrics(reg)}
	s.SetConfig(cfg)
	return s
}

// SetConfig applies cfg to connections and datagrams from now on.
func (s *Server) SetConfig(cfg Config) {
	if cfg.Mode == "" {
		cfg.Mode = Daily
	}
	if cfg.UDPRate <= 0 {
		cfg.UDPRate = DefaultUDPRate
	}
	if cfg.UDPGlobalRate <= 0 {
		cfg.UDPGlobalRate = DefaultUDPGlobalRate
	}
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
	gen := s.cfgGen.Load()
	now := time.Now()
	if c := s.cache.Load(); c != nil && c.day == day && c.gen == gen && now.Before(c.expires) {
		return c.b, nil
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if c := s.cache.Load(); c != nil && c.day == day && c.gen == gen && now.Before(c.expires) {
		return c.b, nil // another connection refilled it while we waited
	}
	b, err := s.render(ctx, cfg, func(ctx context.Context, f quoter.Filter) (*quoter.Quote, error) {
		return s.quoter.Today(ctx, day, f)
	})
	if err != nil {
		return nil, err
	}
	s.cache.Store(&cachedReply{day: day, gen: gen, expires: time.Now().Add(cacheTTL), b: b})
	return b, nil
}

func (s *Server) render(ctx context.Context, cfg *Config, sel selector) ([]byte, error) {
	b, truncated, err := fitting(ctx, sel, cfg.ASCII, MaxReply)
	if err != nil {
		return nil, err
	}
	if truncated {
		s.log.Warn("no quote in the library fits the 512-byte QOTD limit; sent one cut on a word boundary", "mode", cfg.Mode)
	}
	return b, nil
}

// burst is the token bucket size for a rate: the rate rounded up, at least 1.
func burst(r float64) int {
	return int(math.Max(1, math.Ceil(r)))
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return DefaultWriteTimeout
}

func (s *Server) linger() time.Duration {
	if s.Linger > 0 {
		return s.Linger
	}
	return DefaultLinger
}

// metrics counts what the frontend did, for /metrics.
type metrics struct {
	served   *prometheus.CounterVec // by proto
	rejected *prometheus.CounterVec // by proto and reason
	errors   *prometheus.CounterVec // by proto
}

// Reasons a request got no reply, as the "reason" label of
// quotesd_qotd_rejected_total.
const (
	reasonMaxConns   = "max_conns"   // TCP: too many connections at once
	reasonRate       = "rate"        // per-source rate limit
	reasonGlobalRate = "global_rate" // UDP: overall rate limit
	reasonLoopPort   = "loop_port"   // UDP: source port of a small service (ping-pong)
	reasonBadSource  = "bad_source"  // UDP: unspecified, multicast or broadcast source
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quotesd_qotd_replies_total",
			Help: "QOTD replies sent, by protocol.",
		}, []string{"proto"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quotesd_qotd_rejected_total",
			Help: "QOTD requests dropped without a reply, by protocol and reason.",
		}, []string{"proto", "reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quotesd_qotd_errors_total",
			Help: "QOTD requests that failed (library error, write error), by protocol.",
		}, []string{"proto"}),
	}
	if reg != nil {
		reg.MustRegister(m.served, m.rejected, m.errors)
	}
	return m
}
