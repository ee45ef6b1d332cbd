package web

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// longestShipped returns the longest quote of the library that ships
// with quotesd (quotes.db at the root of the repository).
func longestShipped(tb testing.TB) *quoter.Quote {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join("..", "..", "quotes.db"), sqlite.ReadOnly())
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var longest *quoter.Quote
	for off := 0; ; off += quoter.MaxLimit {
		qs, _, err := db.List(context.Background(), quoter.Filter{}, quoter.Page{Offset: off, Limit: quoter.MaxLimit})
		if err != nil {
			tb.Fatal(err)
		}
		for _, q := range qs {
			if longest == nil || utf8.RuneCountInString(q.Text) > utf8.RuneCountInString(longest.Text) {
				longest = q
			}
		}
		if len(qs) < quoter.MaxLimit {
			break
		}
	}
	if longest == nil {
		tb.Fatal("the shipped library is empty")
	}
	return longest
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCards_ColdPNGOfTheLongestShippedQuote renders the PNG card of
// the library's longest quote from nothing (layout, drawing, encoding:
// what a request for a card not in the cache waits for), at the default
// 1200×630 and at the largest width, and reports its CPU time and the
// memory it takes at most. The goal: under 20 ms of CPU and 32
// MiB of extra memory.
//
// peak-MiB is measured on one render with the collector off, so that
// every byte it allocates is still on the heap at its end: the growth of
// the heap then bounds its peak from above.
func BenchmarkCards_ColdPNGOfTheLongestShippedQuote(b *testing.B) {
	q := longestShipped(b)
	for _, width := range []int{cardDefaultWidth, cardMaxWidth} {
		b.Run(itoaWidth(width), func(b *testing.B) {
			o := cardOptions{theme: "light", width: width}
			if _, err := renderCard(q, o, cardPNG); err != nil { // the fonts parsed, once per process
				b.Fatal(err)
			}
			peak := peakMiB(func() { _, _ = renderCard(q, o, cardPNG) })
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				if _, err := renderCard(q, o, cardPNG); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(peak, "peak-MiB") // after the loop, which resets the metrics
			b.ReportMetric(float64(utf8.RuneCountInString(q.Text)), "quote-runes")
		})
	}
}

func itoaWidth(w int) string { return "width=" + strconv.Itoa(w) }

// peakMiB runs f with the collector off and returns how much the heap
// grew, in MiB.
func peakMiB(f func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
}

// The cold render meets the bounds with room to spare even under
// the race detector, which slows it several times: a regression that
// multiplies its cost shows here, not only in a benchmark run by hand.
func TestCards_ColdRenderOfTheLongestShippedQuoteIsBounded(t *testing.T) {
	q := longestShipped(t)
	o := cardOptions{theme: "dark", width: cardMaxWidth}
	if _, err := renderCard(q, o, cardPNG); err != nil {
		t.Fatal(err)
	}
	if mib := peakMiB(func() { _, _ = renderCard(q, o, cardPNG) }); mib > 32 {
		t.Errorf("a cold render of quote %d at %d wide takes %.1f MiB, over 32", q.ID, cardMaxWidth, mib)
	}
	start := processCPU()
	if _, err := renderCard(q, o, cardPNG); err != nil {
		t.Fatal(err)
	}
	if d := processCPU() - start; d > time.Second {
		t.Errorf("a cold render of quote %d took %v of CPU", q.ID, d)
	}
}
