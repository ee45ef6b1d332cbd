package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"quotesd/reactor"
)

// Server timeouts. A scrape or a health check takes milliseconds; the
// write timeout is long only because net/http/pprof refuses a CPU profile
// or a trace (30 s by default, ?seconds=N) that would outlast it.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	// drain is how long Serve lets requests in flight finish once its
	// context ends. Short: nothing served here is worth delaying a
	// shutdown for, least of all a profile that has seconds left to run.
	drain = 2 * time.Second
)

// Server serves the operations endpoints on a listener as a
// reactor.Service.
type Server struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

// NewServer returns a server for h on ln, which the caller has bound
// already, so that a busy address fails the start with a clear message.
// log nil means slog.Default().
func NewServer(ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{ln: ln, log: log, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
}

// String names the service in the supervisor's logs.
func (s *Server) String() string { return "ops" }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until ctx ends, then stops accepting and gives requests in
// flight a moment to finish before closing their connections. A listener
// that fails cannot serve again, so that failure is permanent: restarting
// would only fail the same way.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return reactor.Permanent(fmt.Errorf("ops: serving on %s: %w", s.ln.Addr(), err))
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("operations requests still running at shutdown; closing them", "drain", drain)
		err = s.srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
