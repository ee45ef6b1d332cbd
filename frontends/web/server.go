package web

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quotesd/quotesd/reactor"
)

// clientLimits bound a client. A quote page is small and a quote body is at most
// 64 KiB, so anything slower than this is a broken or hostile client.
var clientLimits = reactor.HTTPLimits{
	ReadHeader:     5 * time.Second,
	Read:           15 * time.Second,
	Write:          30 * time.Second,
	Idle:           120 * time.Second,
	MaxHeaderBytes: 32 << 10,
}

// DefaultDrain is how long Serve lets requests in flight finish after its
// context ends.
const DefaultDrain = 10 * time.Second

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
	return &Server{reactor.NewHTTPServer("web", deadlineListener{ln}, h, log, drain, clientLimits)}
}

// SetReadHeaderTimeout changes how long a client may take to send its
// request line and headers (5 s by default) before the connection is
// closed: the bound on slowloris clients. Call it before Serve.
func (s *Server) SetReadHeaderTimeout(d time.Duration) {
	s.Server.ReadHeaderTimeout = d
}
