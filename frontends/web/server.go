package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"quotesd/reactor"
)

// Server timeouts and limits. A quote page is small and a quote body is at
// most 64 KiB, so anything slower than this is a broken or hostile client.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 32 << 10
	// DefaultDrain is how long Serve lets requests in flight finish after
	// its context ends.
	DefaultDrain = 10 * time.Second
)

// Server serves a Handler on a listener as a reactor.Service.
type Server struct {
	ln    net.Listener
	srv   *http.Server
	drain time.Duration
	log   *slog.Logger
}

// NewServer returns a server for h (a *Handler, or something that swaps
// Handlers on reload) on ln, which the caller has bound already, so a busy
// address failed at start with a clear message. drain <= 0 means
// DefaultDrain; log nil means slog.Default().
func NewServer(ln net.Listener, h http.Handler, log *slog.Logger, drain time.Duration) *Server {
	if drain <= 0 {
		drain = DefaultDrain
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{
		ln:    ln,
		drain: drain,
		log:   log,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until ctx ends, then stops accepting and gives requests in
// flight up to the drain time to finish before closing their connections.
//
// net/http backs off and accepts again after an error that leaves the
// listener alive (reactor.KeepAccepting), so it returns only when the
// listener is dead. Then the requests in flight are drained the same way,
// and Serve returns a permanent error (see reactor.ListenerFailed): net/http
// closes the listener whenever its Serve returns, so whatever the error,
// no restart could serve on it.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(deadlineListener{reactor.KeepAccepting(s.ln)}) }()
	select {
	case err := <-errc:
		s.shutdown()
		err = reactor.ListenerFailed(s.ln.Addr(), err)
		if !reactor.IsPermanent(err) {
			err = reactor.Permanent(err)
		}
		return err
	case <-ctx.Done():
	}
	err := s.shutdown()
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// shutdown stops accepting and waits up to the drain time for the
// requests in flight, then closes every connection.
func (s *Server) shutdown() error {
	sctx, cancel := context.WithTimeout(context.Background(), s.drain)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("requests still running after the drain time; closing them", "drain", s.drain)
		err = s.srv.Close()
	}
	return err
}

// SetReadHeaderTimeout changes how long a client may take to send its
// request line and headers (5 s by default) before the connection is
// closed: the bound on slowloris clients. Call it before Serve.
func (s *Server) SetReadHeaderTimeout(d time.Duration) {
	s.srv.ReadHeaderTimeout = d
}
