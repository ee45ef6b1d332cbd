package logs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// OnJournal reports whether w is the stream systemd connected to the
// journal: JOURNAL_STREAM holds the device and inode numbers of the
// service's stdout and stderr when they go to journald (systemd.exec(5)),
// and w must be that very file, not one the output was redirected to.
func OnJournal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	want := os.Getenv("JOURNAL_STREAM")
	if want == "" {
		return false
	}
	id, ok := fileID(f)
	return ok && id == want
}

// JournalHandler is Handler for a stream journald reads: each record
// starts with its sd-daemon(3) priority prefix, "<3>" for ERROR, "<4>" for
// WARN, "<6>" for INFO and "<7>" for DEBUG, which journald strips and
// keeps as the entry's PRIORITY (SyslogLevelPrefix=, on by default). That
// is done for JSON too: the message journald stores is the JSON alone, so
// what reads `journalctl -o cat` or MESSAGE still gets one JSON object a
// line, and `journalctl -p warning` finds the warnings.
func JournalHandler(w io.Writer, format string, lv slog.Leveler) (slog.Handler, error) {
	pw := &prefixWriter{w: w}
	h, err := Handler(pw, format, lv)
	if err != nil {
		return nil, err
	}
	return priorityHandler{h: h, mu: new(sync.Mutex), pw: pw}, nil
}

// priority returns the sd-daemon(3) prefix for records of level l.
func priority(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "<3>"
	case l >= slog.LevelWarn:
		return "<4>"
	case l >= slog.LevelInfo:
		return "<6>"
	}
	return "<7>"
}

// priorityHandler sets the prefix of pw to the level of each record its
// handler writes. slog's handlers write a record in one Write call; mu,
// shared by every handler derived with WithAttrs or WithGroup, keeps the
// prefix and the record together.
type priorityHandler struct {
	h  slog.Handler
	mu *sync.Mutex
	pw *prefixWriter
}

func (p priorityHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return p.h.Enabled(ctx, l)
}

func (p priorityHandler) Handle(ctx context.Context, r slog.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pw.prefix = priority(r.Level)
	return p.h.Handle(ctx, r)
}

func (p priorityHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return priorityHandler{h: p.h.WithAttrs(as), mu: p.mu, pw: p.pw}
}

func (p priorityHandler) WithGroup(name string) slog.Handler {
	return priorityHandler{h: p.h.WithGroup(name), mu: p.mu, pw: p.pw}
}

// prefixWriter writes prefix and each record in one Write, so that a
// line reaches the journal whole.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(append(p.buf[:0], p.prefix...), b...)
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

// fileIDString formats a device and an inode as JOURNAL_STREAM does.
func fileIDString(dev, ino uint64) string { return fmt.Sprintf("%d:%d", dev, ino) }
