package web

import (
	"context"
	"log/slog"
	"time"
)

// Access is what the access log says of one request.
type Access struct {
	Time     time.Time // when the response was done
	Method   string
	Path     string
	Status   int
	Bytes    int // body bytes written
	Duration time.Duration
	ClientIP string
}

// Record is the access log record of a: message "request" at INFO, with
// the attributes method, path, status, bytes, duration and client_ip.
func (a Access) Record() slog.Record {
	r := slog.NewRecord(a.Time, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("method", a.Method),
		slog.String("path", a.Path),
		slog.Int("status", a.Status),
		slog.Int("bytes", a.Bytes),
		slog.Duration("duration", a.Duration),
		slog.String("client_ip", a.ClientIP),
	)
	return r
}

// An AccessHandler is a slog.Handler that can also write an access record
// straight from its fields. HandleAccess(ctx, a) must write what
// Handle(ctx, a.Record()) would: the same bytes, only cheaper to make. At
// tens of thousands of requests a second, building and walking a
// slog.Record costs a noticeable part of a request (BENCHMARKS.md); a
// handler that knows its own format can skip that. When Config.AccessLog's
// handler is one, the access log goes through HandleAccess.
type AccessHandler interface {
	slog.Handler
	HandleAccess(context.Context, Access) error
}
