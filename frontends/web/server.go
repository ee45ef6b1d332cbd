package web

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quotesd/quotesd/reactor"
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
type Server struct{ *reactor.HTTPServer }

// NewServer returns a server for h (a *Handler, or something that swaps
// Handlers on reload) on ln, which the caller has bound already, so a busy
// address failed at start with a clear message. drain <= 0 means
// DefaultDrain; log nil means slog.Default(). Connections get their
// deadlines lazily (deadlineListener).
func NewServer(ln net.Listener, h http.Handler, log *slog.Logger, drain time.Duration) *Server {
	if drain <= 0 {
		drain = DefaultDrain
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{&reactor.HTTPServer{
		Name:     "web",
		Listener: deadlineListener{ln},
		Drain:    drain,
		Log:      log,
		Server: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}}
}

// SetReadHeaderTimeout changes how long a client may take to send its
// request line and headers (5 s by default) before the connection is
// closed: the bound on slowloris clients. Call it before Serve.
func (s *Server) SetReadHeaderTimeout(d time.Duration) {
	s.Server.ReadHeaderTimeout = d
}
