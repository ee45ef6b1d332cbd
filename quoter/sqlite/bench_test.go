package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
	"github.com/quotesd/quotesd/quoter/storetest"
)

// Library sizes the benchmarks run at. The cost of Today and Random must
// not grow with the size: at 1M quotes they stay within 2x of 1k.
var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// The synthetic benchmark library is storetest's, the same for every store.
var (
	benchWords  = storetest.BenchWords
	benchQuotes = storetest.BenchQuotes
)

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU reports, next to ns/op (wall clock), cpu-ns/op: the CPU time
// used per operation. On a shared machine the wall clock also counts time
// spent waiting for a core; the CPU time does not, so the ratio between
// library sizes reads more reliably from it. Call as defer measureCPU(b)().
func measureCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

var benchMu sync.Mutex

// benchDB opens (read-only) a synthetic library of n quotes. Libraries are
// built once, with Import in batches, and kept in os.TempDir() keyed by
// size and schema version, so repeated benchmark runs start at once.
func benchDB(b *testing.B, n int) *sqlite.DB {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("quotesd-bench-v%d-%d.db", sqlite.SchemaVersion(), n))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".building"
		for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
			os.Remove(f)
		}
		db, err := sqlite.Open(tmp, sqlite.Create(), sqlite.WithSeed(1))
		if err != nil {
			b.Fatal(err)
		}
		const batch = 50_000
		for i := 0; i < n; i += batch {
			if _, err := db.Import(ctx, benchQuotes(i, min(n, i+batch)), nil); err != nil {
				b.Fatal(err)
			}
		}
		// Close, not Finalize: rewriting the file in rollback mode would
		// double the build's I/O, and benchmarks do not need it.
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(tmp + "-wal"); err == nil {
			b.Fatalf("%s-wal is left after closing: the library was not checkpointed", tmp)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlite.Open(path, sqlite.ReadOnly())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkToday asks for the quote of the day as a QOTD server does on
// every connection: today, with its 512-byte filter, and a new day each
// time (the cost of a miss of the memo).
func BenchmarkToday(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			db := benchDB(b, size.n)
			for _, bb := range []struct {
				name string
				f    quoter.Filter
				new  bool
			}{
				{"Memo", quoter.Filter{MaxLen: 512}, false},
				{"NewDay", quoter.Filter{}, true},
				{"NewDayMaxLen", quoter.Filter{MaxLen: 512}, true},
			} {
				b.Run(bb.name, func(b *testing.B) {
					day := day0
					b.ReportAllocs()
					defer measureCPU(b)()
					for i := 0; b.Loop(); i++ {
						if bb.new {
							day = day0.AddDays(i)
						}
						if _, err := db.Today(ctx, day, bb.f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkRandom draws random quotes on each path of Random: no filter
// (one rank lookup), a filter most quotes pass (rejection sampling) and one
// that few pass (a cached id list).
func BenchmarkRandom(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			db := benchDB(b, size.n)
			for _, bb := range []struct {
				name string
				f    quoter.Filter
			}{
				{"NoFilter", quoter.Filter{}},
				{"MaxLen512", quoter.Filter{MaxLen: 512}},
				{"RareTag", quoter.Filter{Tag: "rare"}},
			} {
				b.Run(bb.name, func(b *testing.B) {
					if _, err := db.Random(ctx, bb.f); err != nil { // count once, outside the loop
						b.Fatal(err)
					}
					b.ReportAllocs()
					defer measureCPU(b)()
					for b.Loop() {
						if _, err := db.Random(ctx, bb.f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkSearch runs two-word searches (first page of 20) over words of
// the synthetic vocabulary, as whole words and with the second as a prefix
// ("word ab*": twenty words of the vocabulary start so). Its cost follows
// the number of matches, as in any full-text index.
func BenchmarkSearch(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			db := benchDB(b, size.n)
			for _, prefix := range []bool{false, true} {
				name := "Words"
				if prefix {
					name = "Prefix"
				}
				b.Run(name, func(b *testing.B) {
					r := rand.New(rand.NewPCG(3, 4))
					b.ReportAllocs()
					defer measureCPU(b)()
					for b.Loop() {
						q := benchWords[r.IntN(len(benchWords))] + " " + benchWords[r.IntN(len(benchWords))]
						if prefix {
							q = q[:len(q)-2] + "*"
						}
						if _, _, err := db.Search(ctx, q, quoter.Page{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkImport imports b.N new quotes in one Import into an empty
// library: ns/op is the cost of one quote. Run it with a large count, e.g.
// -bench Import -benchtime 100000x, to see what a 100k import costs.
func BenchmarkImport(b *testing.B) {
	qs := benchQuotes(0, b.N)
	db := newDB(b)
	b.ReportAllocs()
	b.ResetTimer()
	defer measureCPU(b)()
	res, err := db.Import(ctx, qs, nil)
	if err != nil || res.Added != b.N {
		b.Fatalf("Import = %+v, %v", res, err)
	}
}

// BenchmarkBrowse runs the listings behind the web pages and the JSON API:
// a page of quotes in each sort order, a page deep into the library, a
// filtered page, authors and tags with their counts.
func BenchmarkBrowse(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			db := benchDB(b, size.n)
			for _, bb := range []struct {
				name string
				call func() error
			}{
				{"ListByID", func() error { _, _, err := db.List(ctx, quoter.Filter{}, quoter.Page{}); return err }},
				{"ListByAuthorDesc", func() error {
					_, _, err := db.List(ctx, quoter.Filter{}, quoter.Page{Sort: quoter.SortAuthor, Desc: true})
					return err
				}},
				{"ListDeepPage", func() error {
					_, _, err := db.List(ctx, quoter.Filter{}, quoter.Page{Offset: size.n / 2})
					return err
				}},
				{"ListByTagAndLength", func() error {
					_, _, err := db.List(ctx, quoter.Filter{Tag: "rare"}, quoter.Page{Sort: quoter.SortLength})
					return err
				}},
				{"Authors", func() error { _, _, err := db.Authors(ctx, quoter.Page{}); return err }},
				{"Tags", func() error { _, err := db.Tags(ctx); return err }},
				{"Stats", func() error { _, err := db.Stats(ctx); return err }},
			} {
				b.Run(bb.name, func(b *testing.B) {
					b.ReportAllocs()
					defer measureCPU(b)()
					for b.Loop() {
						if err := bb.call(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// BenchmarkSearchLatency times each search alone and reports, besides the
// mean, the median and the 99th percentile of the first page's latency:
// a search box is judged by its slow answers, and the mean hides them.
// On a shared machine the wall clock's tail is mostly time spent waiting
// for a core, so the same percentiles are reported for the CPU time each
// search took (cpu-p50, cpu-p99): the benchmark's goroutine is locked to
// its thread, and with a context that cannot be cancelled the driver runs
// every call on it, so that thread's clock counts the search's work.
func BenchmarkSearchLatency(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			db := benchDB(b, size.n)
			for _, kind := range storetest.BenchSearches {
				b.Run(kind.Name, func(b *testing.B) {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					r := rand.New(rand.NewPCG(5, 6))
					var wall, cpu []time.Duration
					b.ReportAllocs()
					defer measureCPU(b)()
					for b.Loop() {
						q := kind.Query(r, size.n)
						start, startCPU := time.Now(), threadCPU()
						if _, _, err := db.Search(ctx, q, quoter.Page{}); err != nil {
							b.Fatal(err)
						}
						wall, cpu = append(wall, time.Since(start)), append(cpu, threadCPU()-startCPU)
					}
					for _, m := range []struct {
						unit string
						ds   []time.Duration
					}{{"", wall}, {"cpu-", cpu}} {
						slices.Sort(m.ds)
						at := func(p float64) float64 { return float64(m.ds[int(p*float64(len(m.ds)-1))]) / 1e3 }
						b.ReportMetric(at(0.5), m.unit+"p50-µs")
						b.ReportMetric(at(0.99), m.unit+"p99-µs")
					}
				})
			}
		})
	}
}
