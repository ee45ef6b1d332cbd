package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/logs"
)

// accessPair is an access handler and, beside it, the plain handler of
// the same format, with the same attributes, each writing to a buffer.
type accessPair struct {
	fast, slow       slog.Handler
	fastOut, slowOut *bytes.Buffer
}

func newAccessPair(t *testing.T, format string, lv slog.Leveler, attrs ...slog.Attr) accessPair {
	t.Helper()
	var p accessPair
	p.fastOut, p.slowOut = new(bytes.Buffer), new(bytes.Buffer)
	ah, err := NewAccessHandler(p.fastOut, format, lv)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := logs.Handler(p.slowOut, format, lv)
	if err != nil {
		t.Fatal(err)
	}
	p.fast, p.slow = ah.WithAttrs(attrs), slow.WithAttrs(attrs)
	return p
}

// check logs a through both handlers and fails unless they wrote the
// same bytes.
func (p accessPair) check(t *testing.T, a Access) {
	t.Helper()
	p.fastOut.Reset()
	p.slowOut.Reset()
	fast, ok := p.fast.(AccessHandler)
	if !ok {
		t.Fatalf("%T is not a AccessHandler", p.fast)
	}
	if err := fast.HandleAccess(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := p.slow.Handle(context.Background(), a.Record()); err != nil {
		t.Fatal(err)
	}
	if got, want := p.fastOut.String(), p.slowOut.String(); got != want {
		t.Errorf("access line for %+v:\n got %q\nwant %q", a, got, want)
	}
}

var sampleAccess = Access{
	Time:   time.Date(2026, 11, 23, 11, 13, 37, 123456789, time.UTC),
	Method: "GET", Path: "/api/v1/today", Status: 200, Bytes: 332,
	Duration: 48123 * time.Nanosecond, ClientIP: "127.0.0.1",
}

func TestAccessHandler_WritesWhatItsFormatWould(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	vary := []func(a *Access){
		func(a *Access) {},
		func(a *Access) { a.Time = a.Time.Truncate(time.Second) },            // no fraction
		func(a *Access) { a.Time = a.Time.Truncate(time.Millisecond) },       // trailing zeros
		func(a *Access) { a.Time = a.Time.Add(999 * time.Microsecond) },      // rounding
		func(a *Access) { a.Time = a.Time.In(cet) },                          // an offset
		func(a *Access) { a.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, cet) }, // out of RFC 3339
		func(a *Access) { a.Time = time.Time{} },
		func(a *Access) { a.Method = "HEAD"; a.Status = 304; a.Bytes = 0 },
		func(a *Access) { a.Path = "/search" },
		func(a *Access) { a.Path = "/quotes/<script>&amp;" },
		func(a *Access) { a.Path = `/a"b\c` },
		func(a *Access) { a.Path = "/a=b" },
		func(a *Access) { a.Path = "/a b" },
		func(a *Access) { a.Path = "/día/ñ" },
		func(a *Access) { a.Path = "/bad\xff\xfeutf8" },
		func(a *Access) { a.Path = "/line\nbreak\ttab\x00\x7f" },
		func(a *Access) { a.Path = "/\u2028sep" },
		func(a *Access) { a.Path = "" },
		func(a *Access) { a.ClientIP = "" }, // no IP could be decided
		func(a *Access) { a.ClientIP = "2001:db8::1" },
		func(a *Access) { a.Status = 500; a.Bytes = -1; a.Duration = -time.Second },
		func(a *Access) { a.Duration = 0 },
		func(a *Access) { a.Duration = 90 * time.Minute },
	}
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			for _, attrs := range [][]slog.Attr{
				nil,
				{slog.String("frontend", "web")},
				{slog.String("frontend", "web"), slog.Int("n", 3), slog.String("odd key=", `"v"`)},
			} {
				p := newAccessPair(t, format, slog.LevelInfo, attrs...)
				for _, v := range vary {
					a := sampleAccess
					v(&a)
					p.check(t, a)
				}
			}
		})
	}
}

func TestAccessHandler_WritesWhatItsFormatWould_RandomFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("/az09-_.~%<>&'\"\\= \t\n\x00\x7fé€\u2028\U0001F600")
	word := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			if rng.IntN(4) == 0 {
				b.WriteRune(alphabet[rng.IntN(len(alphabet))])
			} else {
				b.WriteByte(byte('a' + rng.IntN(26)))
			}
		}
		return b.String()
	}
	for _, format := range []string{"json", "text"} {
		p := newAccessPair(t, format, slog.LevelInfo, slog.String("frontend", "web"))
		for range 2000 {
			p.check(t, Access{
				Time:     time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC(),
				Method:   word(),
				Path:     "/" + word(),
				Status:   100 + rng.IntN(500),
				Bytes:    rng.IntN(1 << 20),
				Duration: time.Duration(rng.Int64N(int64(10 * time.Second))),
				ClientIP: word(),
			})
		}
	}
}

func TestAccessHandler_WritesNothingBelowItsLevel(t *testing.T) {
	var out bytes.Buffer
	ah, err := NewAccessHandler(&out, "json", slog.LevelWarn)
	if err != nil {
		t.Fatal(err)
	}
	if err := ah.HandleAccess(context.Background(), sampleAccess); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("at level WARN an access line was written: %q", out.String())
	}
}

func TestAccessHandler_InAGroupIsTheFormatsHandler(t *testing.T) {
	var out bytes.Buffer
	ah, err := NewAccessHandler(&out, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ah.WithGroup("g").(AccessHandler); ok {
		t.Error("a handler within a group offers the fast path, which does not nest attributes")
	}
}

func TestAccessHandler_OtherRecordsAreTheFormatsOwn(t *testing.T) {
	p := newAccessPair(t, "text", slog.LevelInfo, slog.String("frontend", "web"))
	r := slog.NewRecord(sampleAccess.Time, slog.LevelError, "web listener failed", 0)
	r.AddAttrs(slog.String("err", "boom"))
	if err := p.fast.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if err := p.slow.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got, want := p.fastOut.String(), p.slowOut.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The fast path is taken for a common line: it builds no record, so in
// JSON it allocates nothing at all, where the format's handler would.
func TestAccessHandler_CommonLineAllocatesNothing(t *testing.T) {
	ah, err := NewAccessHandler(io.Discard, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	h := ah.WithAttrs([]slog.Attr{slog.String("frontend", "web")}).(AccessHandler)
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _ = h.HandleAccess(ctx, sampleAccess) }); n != 0 {
		t.Errorf("HandleAccess allocated %v times per line, want 0", n)
	}
}

// BenchmarkAccessLine compares an access line written through the fast
// path with the same line written by the format's handler from a record.
func BenchmarkAccessLine(b *testing.B) {
	for _, format := range []string{"json", "text"} {
		ah, err := NewAccessHandler(io.Discard, format, slog.LevelInfo)
		if err != nil {
			b.Fatal(err)
		}
		h := ah.WithAttrs([]slog.Attr{slog.String("frontend", "web")}).(AccessHandler)
		ctx := context.Background()
		b.Run(format+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = h.HandleAccess(ctx, sampleAccess)
			}
		})
		b.Run(format+"/record", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = h.Handle(ctx, sampleAccess.Record())
			}
		})
	}
}
