package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// raw writes raw results lines (fields separated by spaces here, tabs in
// the file) and loads them.
func raw(t *testing.T, lines ...string) *results {
	t.Helper()
	path := filepath.Join(t.TempDir(), "raw.tsv")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.Join(strings.Fields(l), "\t") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Targets = targets(r)
	return r
}

func findTarget(t *testing.T, r *results, prefix string) target {
	t.Helper()
	for _, tg := range r.Targets {
		if strings.HasPrefix(tg.Name, prefix) {
			return tg
		}
	}
	t.Fatalf("no target %q in %+v", prefix, r.Targets)
	return target{}
}

func TestRatio_PairsContendersRoundByRound(t *testing.T) {
	// Round 2 ran on a busy machine: both slowed down alike. A ratio of
	// medians would mix rounds; round by round it stays 0.5 and 1.0.
	r := raw(t,
		"qotd quotesd 64 1 rate=100",
		"qotd bare-go 64 1 rate=100",
		"qotd quotesd 64 2 rate=10",
		"qotd bare-go 64 2 rate=20",
		"qotd quotesd 64 3 rate=90",
		"qotd bare-go 64 3 rate=100",
	)
	got := r.ratio("qotd", "64", "quotesd", "bare-go", "rate")
	if got.N != 3 || got.Median != 0.9 || got.Min != 0.5 || got.Max != 1.0 {
		t.Errorf("ratio = %+v, want median 0.9, min 0.5, max 1.0 over 3 rounds", got)
	}
}

func TestTargets_PassAndFailOnTheMedianRatio(t *testing.T) {
	r := raw(t,
		"http quotesd-api 64 1 rate=95 cpu_us=10",
		"http bare-go-same 64 1 rate=100 cpu_us=10",
		"http twisted 64 1 rate=30 cpu_us=70",
	)
	if got := findTarget(t, r, "HTTP req/s, quotesd /api/v1/today / net/http sending the same"); got.Status != "pass" || got.Measured != "0.95x" {
		t.Errorf("vs the same response: got %+v, want pass at 0.95x", got)
	}
	got := findTarget(t, r, "HTTP req/s, quotesd /api/v1/today / Twisted")
	if got.Status != "FAIL" || got.CPU != "0.14x" {
		t.Errorf("vs Twisted: got %+v, want FAIL (3.17x < 5x) with CPU 0.14x", got)
	}
	if got := findTarget(t, r, "QOTD"); got.Status != "not run" {
		t.Errorf("QOTD without figures: status %q, want not run", got.Status)
	}
}

func TestTargets_SameResponseBaselineIsAReferenceNotATarget(t *testing.T) {
	r := raw(t,
		"http quotesd-api 64 1 rate=72 cpu_us=17",
		"http bare-go 64 1 rate=100 cpu_us=13",
		"http bare-go-same 64 1 rate=80 cpu_us=16",
	)
	got := findTarget(t, r, "HTTP req/s, net/http sending quotesd's response")
	if got.Status != "reference" || got.Goal != "—" || got.Measured != "0.80x" {
		t.Errorf("same response / bare: got %+v, want a reference row at 0.80x with no goal", got)
	}
	if got := findTarget(t, r, "HTTP req/s, quotesd /api/v1/today / net/http sending the same"); got.Measured != "0.90x" {
		t.Errorf("quotesd / same response: got %+v, want 0.90x", got)
	}
	if md := markdown(r, ""); !strings.Contains(md, "| net/http, quotesd's header fields and timeouts | 80.0 |") {
		t.Errorf("HTTP table lacks the same-response baseline:\n%s", md)
	}
}

func TestTargets_RunWithoutTheSameResponseBaselineLeavesItsGoalNotRun(t *testing.T) {
	r := raw(t,
		"http quotesd-api 64 1 rate=72",
		"http bare-go 64 1 rate=100",
	)
	if got := findTarget(t, r, "HTTP req/s, quotesd /api/v1/today / net/http sending the same"); got.Status != "not run" {
		t.Errorf("goal without its baseline: got %+v, want not run", got)
	}
	for _, tg := range targets(r) {
		if tg.Status == "reference" && strings.Contains(tg.Name, "same header fields") {
			t.Errorf("reference row %q from a run without the baseline", tg.Name)
		}
	}
	if md := markdown(r, ""); strings.Contains(md, "header fields and timeouts |") {
		t.Errorf("HTTP table names a baseline the run lacks:\n%s", md)
	}
}

func TestTargets_SMTPAgainstPostfixAndTheBareServer(t *testing.T) {
	r := raw(t,
		"smtp quotesd 100 1 rate=6000 cpu_us=150",
		"smtp postfix-mta 100 1 rate=400 cpu_us=1500",
		"smtp bare-go-smtp 100 1 rate=10000",
		"smtp smtp-sink 100 1 rate=15000",
	)
	if got := findTarget(t, r, "SMTP msg/s, quotesd (durable queue, relaying) / Postfix"); got.Status != "pass" || got.Measured != "15.00x" || got.CPU != "0.10x" {
		t.Errorf("vs Postfix: got %+v, want pass at 15.00x, CPU 0.10x", got)
	}
	if got := findTarget(t, r, "SMTP msg/s, quotesd (durable queue, relaying) / bare go-smtp"); got.Status != "FAIL" || got.Measured != "0.60x" {
		t.Errorf("vs bare go-smtp: got %+v, want FAIL at 0.60x", got)
	}
	if got := findTarget(t, r, "SMTP msg/s, quotesd (durable queue, relaying) / smtp-sink"); got.Status != "reference" || got.Measured != "0.40x" {
		t.Errorf("vs smtp-sink: got %+v, want a reference row at 0.40x", got)
	}
}

func TestTargets_QuickRunSaysWhyCoreAt1MIsMissing(t *testing.T) {
	r := raw(t,
		"core Today/NewDay 1k 1 ns=7000 cpu_ns=6000",
		"core Today/NewDay 100k 1 ns=9000 cpu_ns=8000",
	)
	got := findTarget(t, r, "core Today/NewDay,")
	if !strings.Contains(got.Status, "--quick") {
		t.Errorf("status %q, want it to say the 1M library is left out by --quick", got.Status)
	}
}

func TestTargets_CoreComparesCPUTimeAt1MWith1k(t *testing.T) {
	r := raw(t,
		"core Random/NoFilter 1k 1 ns=7000 cpu_ns=5000",
		"core Random/NoFilter 1M 1 ns=30000 cpu_ns=9000",
	)
	if got := findTarget(t, r, "core Random/NoFilter"); got.Status != "pass" || got.Measured != "1.80x" {
		t.Errorf("got %+v, want pass at 1.80x (CPU time, not the 4.3x of the wall clock)", got)
	}
}

func TestSplice_ReplacesOnlyBetweenTheMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	before := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nold figures\n" + endMarker + "\n\n## QOTD\nkept\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := splice(path, "new figures\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nnew figures\n" + endMarker + "\n\n## QOTD\nkept\n"
	if string(b) != want {
		t.Errorf("after splice:\n%s\nwant:\n%s", b, want)
	}
}

func TestSplice_RefusesAFileWithoutMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	os.WriteFile(path, []byte("# Benchmarks\n"), 0o644)
	if err := splice(path, "x"); err == nil || !strings.Contains(err.Error(), "markers") {
		t.Errorf("splice without markers: err = %v, want one naming the markers", err)
	}
}

func TestMarkdown_ShowsMedianAndRangeOfRounds(t *testing.T) {
	r := raw(t,
		"meta date - 0 value=2026-11-23T08:00Z",
		"qotd quotesd 8 1 rate=1000 p50_ms=0.4 p99_ms=2 cpu_us=28",
		"qotd quotesd 8 2 rate=3000 p50_ms=0.4 p99_ms=2 cpu_us=28",
		"qotd quotesd 8 3 rate=2000 p50_ms=0.4 p99_ms=2 cpu_us=28",
	)
	md := markdown(r, "bench/chart.svg")
	for _, want := range []string{"2026-11-23T08:00Z", "| 8 | quotesd | 2,000 (1,000–3,000) |", "![Throughput per contender](bench/chart.svg)"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

func TestTargets_PostgreSQLStoreAgainstSQLiteStore(t *testing.T) {
	r := raw(t,
		"qotd quotesd 64 1 rate=1000 cpu_us=20",
		"qotd quotesd-pg 64 1 rate=900 cpu_us=22",
		"http quotesd-api 64 1 rate=1000 cpu_us=10",
		"http quotesd-pg 64 1 rate=960 cpu_us=10",
	)
	if got := findTarget(t, r, "QOTD conns/s, quotesd-pg / quotesd (PostgreSQL / SQLite store), 64 clients"); got.Status != "FAIL" || got.Measured != "0.90x" || got.CPU != "1.10x" {
		t.Errorf("QOTD: got %+v, want FAIL at 0.90x (< 0.95x) with CPU 1.10x", got)
	}
	if got := findTarget(t, r, "HTTP req/s, quotesd-pg / quotesd /api/v1/today"); got.Status != "pass" || got.Measured != "0.96x" || got.CPU != "1.00x" {
		t.Errorf("HTTP: got %+v, want pass at 0.96x with CPU 1.00x", got)
	}
	md := markdown(r, "")
	for _, want := range []string{"| 64 | quotesd-pg (PostgreSQL store) | 900 |", "| quotesd-pg (PostgreSQL store) | 960 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

func TestTargets_RunWithoutPostgreSQLLeavesItsRowsNotRun(t *testing.T) {
	r := raw(t,
		"qotd quotesd 64 1 rate=1000",
		"qotd bare-go 64 1 rate=1000",
		"http quotesd-api 64 1 rate=1000",
		"http bare-go 64 1 rate=1000",
	)
	if got := findTarget(t, r, "HTTP req/s, quotesd-pg"); got.Status != "not run" {
		t.Errorf("HTTP quotesd-pg without figures: status %q, want not run", got.Status)
	}
	if md := markdown(r, ""); strings.Contains(md, "quotesd-pg (PostgreSQL store)") {
		t.Errorf("the QOTD or HTTP table has a quotesd-pg row, which the run lacks:\n%s", md)
	}
}
