package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/quoter/postgres/pgtest"
	"github.com/quotesd/quotesd/quoter/storetest"
)

// Library sizes the benchmarks run at, as for the SQLite store
// (quoter/sqlite/bench_test.go): Today and Random at 1M quotes stay within
// 2x of 1k.
var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"1M", 1_000_000}}

var day0 = quoter.Date{Year: 2026, Month: 11, Day: 23}

// cpuTime returns the CPU time this process has used, user and system:
// the client's side only (the server's work shows in ns/op).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measureCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

var benchMu sync.Mutex

// benchDB opens a synthetic library of n quotes (storetest.BenchQuotes, as
// the SQLite store's benchmarks use) in a database of its own. Building a
// million quotes takes minutes, so the database, named by schema version
// and size, is kept on the test server for the next run, as the SQLite
// benchmarks keep their files; drop it (DROP DATABASE quotesd_bench_...)
// to build it again.
func benchDB(b *testing.B, n int) *postgres.DB {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	name := fmt.Sprintf("quotesd_bench_v%d_%d", postgres.SchemaVersion(), n)
	url := pgtest.DatabaseURL(b, name)
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		b.Fatal(err)
	}
	var exists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err == nil && !exists {
		building := name + "_building"
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building)
		if _, err = conn.Exec(ctx, "CREATE DATABASE "+building); err == nil {
			err = build(pgtest.DatabaseURL(b, building), n)
		}
		if err == nil {
			_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
		}
	}
	conn.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func build(url string, n int) error {
	db, err := postgres.Open(ctx, url, postgres.WithSeed(1))
	if err != nil {
		return err
	}
	defer db.Close()
	const batch = 50_000
	for i := 0; i < n; i += batch {
		if _, err := db.Import(ctx, storetest.BenchQuotes(i, min(n, i+batch)), nil); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkToday asks for the quote of the day as a QOTD server does: the
// memo of the day (what every request but the first costs: no query), and
// a new day each time (a miss of the memo: one snapshot read).
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

// BenchmarkSearchLatency times each search alone, as the SQLite store's
// benchmark of that name does, with the same queries, and reports the
// median and the 99th percentile of the first page's latency. The work is
// the server's, so only the wall clock is reported.
func BenchmarkSearchLatency(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			db := benchDB(b, size.n)
			for _, kind := range storetest.BenchSearches {
				b.Run(kind.Name, func(b *testing.B) {
					r := rand.New(rand.NewPCG(5, 6))
					var took []time.Duration
					b.ReportAllocs()
					for b.Loop() {
						q := kind.Query(r, size.n)
						start := time.Now()
						if _, _, err := db.Search(ctx, q, quoter.Page{}); err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
					}
					slices.Sort(took)
					at := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))]) / 1e3 }
					b.ReportMetric(at(0.5), "p50-µs")
					b.ReportMetric(at(0.99), "p99-µs")
				})
			}
		})
	}
}
