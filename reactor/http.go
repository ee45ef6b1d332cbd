package reactor

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// HTTPServer runs an http.Server on a listener the caller has bound
// already (so that a busy address failed the start with a clear message),
// as a Service: the one way every HTTP listener of quotesd (the web
// frontend, the operations endpoints) starts, fails and drains.
type HTTPServer struct {
	Name     string // the service's name in the supervisor's logs
	Server   *http.Server
	Listener net.Listener
	// Drain is how long Serve lets requests in flight finish once its
	// context ends (or its listener dies) before closing their
	// connections.
	Drain time.Duration
	Log   *slog.Logger // nil means slog.Default()
}

// HTTPLimits bound what one client may take of an HTTP server: how long
// it may take to send a request and to read the answer, how long an idle
// connection stays, and how large the request's header may be.
type HTTPLimits struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
}

// NewHTTPServer returns the service serving h on ln, within limits, its
// errors logged on log (nil: slog.Default()) at WARN.
func NewHTTPServer(name string, ln net.Listener, h http.Handler, log *slog.Logger, drain time.Duration, limits HTTPLimits) *HTTPServer {
	if log == nil {
		log = slog.Default()
	}
	return &HTTPServer{Name: name, Listener: ln, Drain: drain, Log: log, Server: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: limits.ReadHeader,
		ReadTimeout:       limits.Read,
		WriteTimeout:      limits.Write,
		IdleTimeout:       limits.Idle,
		MaxHeaderBytes:    limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
}

// String names the service in the supervisor's logs.
func (s *HTTPServer) String() string { return s.Name }

// Addr is the address the server listens on.
func (s *HTTPServer) Addr() net.Addr { return s.Listener.Addr() }

// Serve serves until ctx ends, then stops accepting and drains.
//
// net/http backs off and accepts again after an error that leaves the
// listener alive (KeepAccepting), so its Serve returns only when the
// listener is dead. Then the requests in flight are drained the same way,
// and Serve returns a permanent error (see ListenerFailed): net/http closes
// the listener whenever its Serve returns, so whatever the error, no
// restart could serve on it.
func (s *HTTPServer) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Server.Serve(KeepAccepting(s.Listener)) }()
	select {
	case err := <-errc:
		s.shutdown()
		err = ListenerFailed(s.Listener.Addr(), err)
		if !IsPermanent(err) {
			err = Permanent(err)
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

// shutdown stops accepting and waits up to Drain for the requests in
// flight, then closes every connection.
func (s *HTTPServer) shutdown() error {
	sctx, cancel := context.WithTimeout(context.Background(), s.Drain)
	defer cancel()
	err := s.Server.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("requests still running after the drain time; closing them", "listener", s.Name, "drain", s.Drain)
		err = s.Server.Close()
	}
	return err
}
