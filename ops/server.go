package ops

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quotesd/quotesd/reactor"
)

// limits bound a client of the operations endpoints. A scrape or a health
// check takes milliseconds; the write timeout is long only because
// net/http/pprof refuses a CPU profile or a trace (30 s by default,
// ?seconds=N) that would outlast it.
var limits = reactor.HTTPLimits{
	ReadHeader:     5 * time.Second,
	Read:           15 * time.Second,
	Write:          5 * time.Minute,
	Idle:           2 * time.Minute,
	MaxHeaderBytes: 16 << 10,
}

// drain is how long Serve lets requests in flight finish once its context
// ends. Short: nothing served here is worth delaying a shutdown for, least
// of all a profile that has seconds left to run.
const drain = 2 * time.Second

// Server serves the operations endpoints on a listener as a
// reactor.Service.
type Server struct{ *reactor.HTTPServer }

// NewServer returns a server for h on ln, which the caller has bound
// already, so that a busy address fails the start with a clear message.
// log nil means slog.Default().
func NewServer(ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	return &Server{reactor.NewHTTPServer("ops", ln, h, log, drain, limits)}
}
