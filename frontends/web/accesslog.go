package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/quotesd/quotesd/logs"
)

// accessLogHandler is the web access log's slog.Handler: the handler of the
// configured format, which it is for every record, plus the fast path of
// AccessHandler, which writes a request's line the way that handler
// would, without building and walking a slog.Record for it. That saves
// about half a microsecond of the 15 or so a request costs under load
// (BENCHMARKS.md).
//
// The fast path covers the common line: the method, path and client IP
// are plain words (printable ASCII that neither format escapes or
// quotes). Any other line, and any record but a request's, goes through
// the format's handler, so the two can only ever differ in speed; a test
// holds them to the same bytes.
type accessLogHandler struct {
	slog.Handler           // the format's handler, with the attributes so far
	w            io.Writer // where Handler writes
	format       string
	attrs        []slog.Attr // given to WithAttrs so far, for new renderings of head
	// head is the line between the time and the request's own attributes,
	// as the format's handler writes it: for JSON
	// `,"level":"INFO","msg":"request","frontend":"web"`, for text
	// ` level=INFO msg=request frontend=web`.
	head []byte
}

var _ AccessHandler = (*accessLogHandler)(nil)

// NewAccessHandler returns the access log's handler, writing lines in
// format ("json" or "text") to w, at the level lv: give a logger with it
// to Config.AccessLog.
func NewAccessHandler(w io.Writer, format string, lv slog.Leveler) (AccessHandler, error) {
	h, err := logs.Handler(w, format, lv)
	if err != nil {
		return nil, err
	}
	a := &accessLogHandler{Handler: h, w: w, format: format}
	a.head = a.render()
	return a, nil
}

// render returns head, by having the format's own handler write a request
// record without a time and taking what comes between the braces or
// before the newline.
func (h *accessLogHandler) render() []byte {
	var b bytes.Buffer
	f, _ := logs.Handler(&b, h.format, slog.LevelDebug)
	_ = f.WithAttrs(h.attrs).Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "request", 0))
	line := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if h.format == "json" { // {"level":"INFO",...}
		return append([]byte{','}, line[1:len(line)-1]...)
	}
	return append([]byte{' '}, line...)
}

func (h *accessLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	a := &accessLogHandler{
		Handler: h.Handler.WithAttrs(attrs),
		w:       h.w,
		format:  h.format,
		attrs:   append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...),
	}
	a.head = a.render()
	return a
}

// WithGroup returns the format's handler: within a group the request's
// attributes would be nested, which the fast path does not do.
func (h *accessLogHandler) WithGroup(name string) slog.Handler {
	return h.Handler.WithGroup(name)
}

// lineBufs are the buffers lines are made in.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// HandleAccess writes a's line. It writes what Handle(ctx, a.Record())
// would, and calls it for the lines it has no fast path for.
func (h *accessLogHandler) HandleAccess(ctx context.Context, a Access) error {
	if !h.Enabled(ctx, slog.LevelInfo) {
		return nil
	}
	if y := a.Time.Year(); y < 0 || y > 9999 || a.Time.IsZero() ||
		!plainWord(a.Method) || !plainWord(a.Path) || !plainWord(a.ClientIP) {
		return h.Handle(ctx, a.Record())
	}
	bp := lineBufs.Get().(*[]byte)
	b := (*bp)[:0]
	if h.format == "json" {
		b = append(b, `{"time":"`...)
		b = a.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
		b = append(b, h.head...)
		b = append(b, `,"method":"`...)
		b = append(b, a.Method...)
		b = append(b, `","path":"`...)
		b = append(b, a.Path...)
		b = append(b, `","status":`...)
		b = strconv.AppendInt(b, int64(a.Status), 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(a.Bytes), 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, int64(a.Duration), 10)
		b = append(b, `,"client_ip":"`...)
		b = append(b, a.ClientIP...)
		b = append(b, "\"}\n"...)
	} else {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, a.Time)
		b = append(b, h.head...)
		b = append(b, " method="...)
		b = append(b, a.Method...)
		b = append(b, " path="...)
		b = append(b, a.Path...)
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(a.Status), 10)
		b = append(b, " bytes="...)
		b = strconv.AppendInt(b, int64(a.Bytes), 10)
		b = append(b, " duration="...)
		b = append(b, a.Duration.String()...)
		b = append(b, " client_ip="...)
		b = append(b, a.ClientIP...)
		b = append(b, '\n')
	}
	_, err := h.w.Write(b)
	*bp = b
	lineBufs.Put(bp)
	return err
}

// plainWord reports whether s is written as it is, unquoted and
// unescaped, by both formats: a non-empty run of printable ASCII other
// than the quote, the backslash and '=' (which the text format quotes).
// HTML's <, > and & are escaped by neither.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=' {
			return false
		}
	}
	return true
}

// appendRFC3339Millis appends t as the text format writes a record's time:
// RFC 3339 with exactly three digits of fraction, truncated.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefix = len("2006-01-02T15:04:05.000")
	n := len(b)
	// RFC3339Nano drops trailing zeros; a tenth of a millisecond more
	// keeps four digits, of which the fourth is then cut.
	b = t.Truncate(time.Millisecond).Add(time.Millisecond/10).AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefix], b[n+prefix+1:]...)
}
