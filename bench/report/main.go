// Command report turns the raw results of bench/run (one tab-separated
// line per measurement) into results.json, a Markdown summary (ratios of
// quotesd to each peer with the targets checked, then every contender's
// figures) and a chart drawn by gnuplot. With -benchmarks it also writes
// the summary into BENCHMARKS.md between its bench:begin and bench:end
// markers.
//
// A raw line is: suite, contender, parameter, round, then key=value
// figures. Lines of suite "meta" describe the run (machine, load, date).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	beginMarker = "<!-- bench:begin -->"
	endMarker   = "<!-- bench:end -->"
)

// record is one measurement: one contender, one parameter (clients,
// sessions, library size), one round.
type record struct {
	Suite     string             `json:"suite"`
	Contender string             `json:"contender"`
	Param     string             `json:"param"`
	Round     int                `json:"round"`
	Values    map[string]float64 `json:"values"`
}

// stat summarises one figure over the rounds.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

func (s stat) ok() bool { return s.N > 0 }

// target is one goal of the suite, checked against the run.
type target struct {
	Name     string `json:"name"`
	Measured string `json:"measured"`
	Goal     string `json:"goal"`
	Status   string `json:"status"` // pass, FAIL or "not run"
	// CPU is, where the servers' CPU time was measured, quotesd's CPU
	// time per operation over the peer's: on a shared machine it moves
	// far less than the rates do.
	CPU string `json:"cpu,omitempty"`
}

type results struct {
	Meta    map[string]string `json:"meta"`
	Records []record          `json:"records"`
	Targets []target          `json:"targets"`
}

func main() {
	rawPath := flag.String("raw", "bench/out/raw.tsv", "raw results `file` written by bench/run")
	jsonPath := flag.String("json", "", "write results.json to `file`")
	summaryPath := flag.String("summary", "", "write the Markdown summary to `file`")
	chartPath := flag.String("chart", "", "draw the chart (SVG, with gnuplot) to `file`")
	benchmarks := flag.String("benchmarks", "", "BENCHMARKS.md `file` to write the summary into, between its markers")
	chartLink := flag.String("chart-link", "bench/chart.svg", "path of the chart as linked from BENCHMARKS.md")
	flag.Parse()

	r, err := load(*rawPath)
	if err != nil {
		log.Fatal(err)
	}
	r.Targets = targets(r)
	md := markdown(r, *chartLink)
	fmt.Print(md)
	if *jsonPath != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *summaryPath != "" {
		if err := os.WriteFile(*summaryPath, []byte(md), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *chartPath != "" {
		if err := chart(r, *chartPath); err != nil {
			log.Fatalf("chart: %v", err)
		}
	}
	if *benchmarks != "" {
		if err := splice(*benchmarks, md); err != nil {
			log.Fatal(err)
		}
	}
}

func load(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &results{Meta: map[string]string{}}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			continue
		}
		if fs[0] == "meta" {
			if len(fs) > 4 {
				r.Meta[fs[1]] = strings.TrimPrefix(fs[4], "value=")
			}
			continue
		}
		round, err := strconv.Atoi(fs[3])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: round %q: %v", path, line, fs[3], err)
		}
		rec := record{Suite: fs[0], Contender: fs[1], Param: fs[2], Round: round, Values: map[string]float64{}}
		for _, kv := range fs[4:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || v == "" {
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %v", path, line, kv, err)
			}
			rec.Values[k] = x
		}
		r.Records = append(r.Records, rec)
	}
	return r, sc.Err()
}

// values returns the figure key of every round of one contender.
func (r *results) values(suite, who, param, key string) map[int]float64 {
	out := map[int]float64{}
	for _, rec := range r.Records {
		if rec.Suite == suite && rec.Contender == who && rec.Param == param {
			if v, ok := rec.Values[key]; ok {
				out[rec.Round] = v
			}
		}
	}
	return out
}

func summarise(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

func (r *results) stat(suite, who, param, key string) stat {
	var xs []float64
	for _, v := range r.values(suite, who, param, key) {
		xs = append(xs, v)
	}
	return summarise(xs)
}

// ratio is a/b round by round (the contenders of a round ran one after
// the other, under the same conditions), summarised over the rounds.
func (r *results) ratio(suite, param, a, b, key string) stat {
	va, vb := r.values(suite, a, param, key), r.values(suite, b, param, key)
	var xs []float64
	for round, x := range va {
		if y, ok := vb[round]; ok && y != 0 {
			xs = append(xs, x/y)
		}
	}
	return summarise(xs)
}

// params lists the parameters of a suite in the order first seen.
func (r *results) params(suite string) []string {
	var ps []string
	for _, rec := range r.Records {
		if rec.Suite == suite && !slices.Contains(ps, rec.Param) {
			ps = append(ps, rec.Param)
		}
	}
	return ps
}

func (r *results) has(suite string) bool { return len(r.params(suite)) > 0 }

// ran tells whether a contender has figures in a suite.
func (r *results) ran(suite, who string) bool {
	return slices.ContainsFunc(r.Records, func(rec record) bool { return rec.Suite == suite && rec.Contender == who })
}

func ratioText(s stat) string {
	if !s.ok() {
		return "—"
	}
	if s.N == 1 {
		return fmt.Sprintf("%.2fx", s.Median)
	}
	return fmt.Sprintf("%.2fx (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

func check(name, goal string, s stat, ok func(float64) bool, measured string) target {
	t := target{Name: name, Goal: goal, Measured: measured, Status: "not run"}
	if s.ok() {
		t.Status = "FAIL"
		if ok(s.Median) {
			t.Status = "pass"
		}
	}
	if t.Measured == "" {
		t.Measured = ratioText(s)
	}
	return t
}

func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }

// reference is a row of the targets table that has no goal of its own but
// tells what a goal's peer allows.
func reference(name string, s stat) target {
	return target{Name: name, Goal: "—", Measured: ratioText(s), Status: "reference"}
}

func targets(r *results) []target {
	var ts []target
	withCPU := func(t target, suite, param, a, b string) target {
		if s := r.ratio(suite, param, a, b, "cpu_us"); s.ok() {
			t.CPU = ratioText(s)
		}
		return t
	}
	for _, c := range []string{"8", "64", "256"} {
		ts = append(ts,
			withCPU(check("QOTD conns/s, quotesd / bare Go, "+c+" clients", "≥ 0.95x", r.ratio("qotd", c, "quotesd", "bare-go", "rate"), atLeast(0.95), ""), "qotd", c, "quotesd", "bare-go"),
			withCPU(check("QOTD conns/s, quotesd / Twisted, "+c+" clients", "≥ 1.5x", r.ratio("qotd", c, "quotesd", "twisted", "rate"), atLeast(1.5), ""), "qotd", c, "quotesd", "twisted"))
	}
	// The PostgreSQL store against the SQLite one, the same binary and
	// library: both answer from memory, so the store should not show.
	for _, c := range []string{"8", "64", "256"} {
		ts = append(ts, withCPU(check("QOTD conns/s, quotesd-pg / quotesd (PostgreSQL / SQLite store), "+c+" clients", "≥ 0.95x",
			r.ratio("qotd", c, "quotesd-pg", "quotesd", "rate"), atLeast(0.95), ""), "qotd", c, "quotesd-pg", "quotesd"))
	}
	// Finger is QOTD with the client's query line first, through the same
	// acceptor: it should cost about what QOTD does.
	if r.ran("qotd", "quotesd-finger") {
		for _, c := range []string{"8", "64", "256"} {
			ts = append(ts, withCPU(check("Finger conns/s, quotesd Finger / quotesd QOTD, "+c+" clients", "≥ 0.95x",
				r.ratio("qotd", c, "quotesd-finger", "quotesd", "rate"), atLeast(0.95), ""), "qotd", c, "quotesd-finger", "quotesd"))
		}
	}
	// What the query line costs whoever serves it: the bare server reading
	// a line first, against itself answering at once; and quotesd's Finger
	// against that bare Finger.
	if r.ran("qotd", "bare-go-finger") {
		for _, c := range []string{"8", "64", "256"} {
			if s := r.ratio("qotd", c, "bare-go-finger", "bare-go", "rate"); s.ok() {
				ts = append(ts, withCPU(reference("Finger conns/s, bare Go Finger / bare Go QOTD (the query line alone), "+c+" clients", s), "qotd", c, "bare-go-finger", "bare-go"))
			}
			if s := r.ratio("qotd", c, "quotesd-finger", "bare-go-finger", "rate"); s.ok() {
				ts = append(ts, withCPU(reference("Finger conns/s, quotesd Finger / bare Go Finger, "+c+" clients", s), "qotd", c, "quotesd-finger", "bare-go-finger"))
			}
		}
	}
	ts = append(ts, withCPU(check("HTTP req/s, quotesd-pg / quotesd /api/v1/today (PostgreSQL / SQLite store)", "≥ 0.95x",
		r.ratio("http", "64", "quotesd-pg", "quotesd-api", "rate"), atLeast(0.95), ""), "http", "64", "quotesd-pg", "quotesd-api"))
	// HTTP, second round: against net/http sending the very same response
	// behind the same timeouts (the fair reference); the first round's goal
	// against a handler sending one header field stays as a reference row.
	ts = append(ts,
		withCPU(check("HTTP req/s, quotesd /api/v1/today / net/http sending the same response", "≥ 0.95x",
			r.ratio("http", "64", "quotesd-api", "bare-go-same", "rate"), atLeast(0.95), ""), "http", "64", "quotesd-api", "bare-go-same"),
		withCPU(check("HTTP req/s, quotesd / (HTML) / net/http sending the same response", "≥ 0.95x",
			r.ratio("http", "64", "quotesd-page", "bare-go-same-page", "rate"), atLeast(0.95), ""), "http", "64", "quotesd-page", "bare-go-same-page"),
		withCPU(check("HTTP req/s, quotesd 304 (conditional GET) / net/http answering the same 304", "≥ 0.95x",
			r.ratio("http", "64", "quotesd-304", "bare-go-304", "rate"), atLeast(0.95), ""), "http", "64", "quotesd-304", "bare-go-304"),
		withCPU(check("HTTP req/s, quotesd /api/v1/today / Twisted web", "≥ 5x", r.ratio("http", "64", "quotesd-api", "twisted", "rate"), atLeast(5), ""), "http", "64", "quotesd-api", "twisted"))
	if s := r.ratio("http", "64", "quotesd-api", "bare-go", "rate"); s.ok() {
		ts = append(ts, withCPU(reference("HTTP req/s, quotesd /api/v1/today / bare net/http (one header field; first round's goal, ≥ 0.9x)", s), "http", "64", "quotesd-api", "bare-go"))
	}
	if s := r.ratio("http", "64", "bare-go-same", "bare-go", "rate"); s.ok() {
		ts = append(ts, withCPU(reference("HTTP req/s, net/http sending quotesd's response (same header fields and timeouts) / bare net/http", s), "http", "64", "bare-go-same", "bare-go"))
	}
	smtp := r.params("smtp")
	if len(smtp) == 0 {
		smtp = []string{"20", "100"}
	}
	for _, s := range smtp {
		// The peer a mail operator would pick instead: Postfix, a real MTA
		// with its durable queue, relaying each message as quotesd relays
		// each reply.
		ts = append(ts, withCPU(check("SMTP msg/s, quotesd (durable queue, relaying) / Postfix (durable queue, relaying), "+s+" sessions", "≥ 10x",
			r.ratio("smtp", s, "quotesd", "postfix-mta", "rate"), atLeast(10), ""), "smtp", s, "quotesd", "postfix-mta"))
		// The limit: a server on the same library that parses each message
		// to its end and discards it.
		ts = append(ts, check("SMTP msg/s, quotesd (durable queue, relaying) / bare go-smtp (parses, discards), "+s+" sessions", "≥ 0.7x",
			r.ratio("smtp", s, "quotesd", "bare-go-smtp", "rate"), atLeast(0.7), ""))
		if q := r.ratio("smtp", s, "quotesd", "smtp-sink", "rate"); q.ok() {
			ts = append(ts, reference("SMTP msg/s, quotesd (durable queue, relaying) / smtp-sink (first round's goal, ≥ 0.5x), "+s+" sessions", q))
		}
		if b := r.ratio("smtp", s, "bare-go-smtp", "smtp-sink", "rate"); b.ok() {
			ts = append(ts, reference("SMTP msg/s, bare go-smtp (discards, stores nothing) / smtp-sink, "+s+" sessions", b))
		}
	}
	idle := r.stat("memory", "quotesd", "idle", "rss_kb")
	idleText := ""
	if idle.ok() {
		idleText = fmt.Sprintf("%.1f MiB", idle.Median/1024)
	}
	ts = append(ts, check("Memory: quotesd's RSS idle, shipped library", "≤ 16 MiB", stat{Median: idle.Median / 1024, Min: idle.Min / 1024, Max: idle.Max / 1024, N: idle.N},
		func(v float64) bool { return v <= 16 }, idleText))
	irc := r.stat("irc", "quotesd", "-", "p99_ms")
	ircText := ""
	if irc.ok() {
		ircText = fmt.Sprintf("%.1f ms (rounds %.1f–%.1f)", irc.Median, irc.Min, irc.Max)
	}
	ts = append(ts, check("IRC !quote round trip p99", "< 50 ms", irc, func(v float64) bool { return v < 50 }, ircText))
	for _, op := range []string{"Today/NewDay", "Today/NewDayMaxLen", "Random/NoFilter", "Random/MaxLen512", "Random/RareTag"} {
		a, b := r.coreCost(op, "1M"), r.coreCost(op, "1k")
		s := stat{}
		if a.ok() && b.ok() {
			s = stat{Median: a.Median / b.Median, Min: a.Median / b.Median, Max: a.Median / b.Median, N: 1}
		}
		t := check("core "+op+", 1M / 1k (CPU per call)", "≤ 2x", s, func(v float64) bool { return v <= 2 }, "")
		if !s.ok() && b.ok() {
			t.Status = "not run (--quick: no 1M library)"
		}
		ts = append(ts, t)
	}
	return ts
}

// coreCost is the CPU time per call of a core benchmark (wall clock when
// the benchmark does not report CPU time).
func (r *results) coreCost(op, size string) stat {
	if s := r.stat("core", op, size, "cpu_ns"); s.ok() {
		return s
	}
	return r.stat("core", op, size, "ns")
}

var names = map[string]string{
	"quotesd":            "quotesd",
	"quotesd-api":        "quotesd `/api/v1/today`",
	"quotesd-page":       "quotesd `/` (HTML)",
	"quotesd-pg":         "quotesd-pg (PostgreSQL store)",
	"quotesd-finger":     "quotesd Finger (query line, then today's quote)",
	"bare-go-finger":     "bare Go Finger (reads the query line, then the same reply)",
	"bare-go":            "bare Go",
	"twisted":            "Twisted",
	"nginx":              "nginx `return 200`",
	"smtp-sink":          "smtp-sink (discards)",
	"postfix-mta":        "Postfix (durable queue, relaying)",
	"bare-go-smtp":       "bare go-smtp (discards)",
	"quotesd-relay-down": "quotesd, relay down (queueing only)",
	"bare-echo":          "bare echo bot (no quotesd)",
	"bare-go-qotd":       "bare Go QOTD",
	"bare-go-http":       "bare net/http",
	"bare-go-same":       "net/http, quotesd's header fields and timeouts",
	"bare-go-same-page":  "net/http, quotesd's `/` (header fields, body, timeouts)",
	"quotesd-304":        "quotesd `/api/v1/today`, 304 (If-None-Match)",
	"bare-go-304":        "net/http, quotesd's 304 (header fields, timeouts)",
}

// chartLabels name the HTTP contenders under the chart's bars.
var chartLabels = map[string]string{
	"quotesd-api":       "quotesd\nAPI",
	"quotesd-page":      "quotesd\npage",
	"quotesd-pg":        "quotesd\nPostgreSQL",
	"bare-go":           "bare\nnet/http",
	"bare-go-same":      "same\nresponse",
	"bare-go-same-page": "same\npage",
	"quotesd-304":       "quotesd\n304",
	"bare-go-304":       "same\n304",
	"nginx":             "nginx",
	"twisted":           "Twisted\nweb",
}

func num(x float64) string {
	switch {
	case x >= 100:
		s := strconv.FormatFloat(math.Round(x), 'f', 0, 64)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

// pgNote says what quotesd-pg is, under the tables it appears in.
const pgNote = " quotesd-pg is the same binary serving the same library copied by `quotesd migrate` into a PostgreSQL database on the same machine; its CPU is quotesd's own, not the PostgreSQL server's."

// httpContenders are the HTTP suite's servers in table order; runs from
// before the same-response baseline or the PostgreSQL store existed lack
// them.
func httpContenders(r *results) []string {
	who := []string{"quotesd-api", "quotesd-pg", "quotesd-page", "quotesd-304", "bare-go", "bare-go-same", "bare-go-same-page", "bare-go-304", "nginx", "twisted"}
	return slices.DeleteFunc(who, func(w string) bool {
		switch w {
		case "bare-go-same", "quotesd-pg", "bare-go-same-page", "quotesd-304", "bare-go-304":
			return !r.ran("http", w)
		}
		return false
	})
}

// qotdContenders are the QOTD suite's servers in table order; runs from
// before the PostgreSQL store or the Finger frontend existed lack them.
func qotdContenders(r *results) []string {
	who := []string{"quotesd", "quotesd-pg", "quotesd-finger", "bare-go", "bare-go-finger", "twisted"}
	return slices.DeleteFunc(who, func(w string) bool {
		return (w == "quotesd-pg" || w == "quotesd-finger" || w == "bare-go-finger") && !r.ran("qotd", w)
	})
}

func spread(s stat) string {
	if !s.ok() {
		return "—"
	}
	if s.N == 1 {
		return num(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median), num(s.Min), num(s.Max))
}

func ms(s stat) string {
	if !s.ok() {
		return "—"
	}
	return num(s.Median) + " ms"
}

func markdown(r *results, chartLink string) string {
	var b strings.Builder
	m := r.Meta
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	mode := "full-length rounds"
	if m["mode"] == "quick" {
		mode = "quick run (`--quick`: fewer, shorter rounds; core at 1k and 100k only)"
	}
	p("Measured %s by `bench/run` (%s, suites: %s), on %s CPUs (%s), %s GiB, Linux %s, %s.\n",
		m["date"], mode, m["suites"], m["cpus"], m["cpu_model"], m["mem_gib"], m["kernel"], m["go"])
	p("Load average (1, 5, 15 min) %s at the start, %s at the end: the machine was shared, so rates move from round to round; each figure is the median of the rounds, with the range (min–max) in brackets, and ratios are taken round by round (the contenders of a round ran one right after the other).", m["load_start"], m["load_end"])
	if s := m["seconds"]; s != "" {
		p(" The run took %s s.", s)
	}
	p("\n\n")
	if chartLink != "" {
		p("![Throughput per contender](%s)\n\n", chartLink)
	}
	p("### Targets\n\n| target | goal | measured: median (range over rounds) | | server CPU per operation, quotesd / peer |\n|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		cpu := t.CPU
		if cpu == "" {
			cpu = "—"
		}
		p("| %s | %s | %s | %s | %s |\n", t.Name, t.Goal, t.Measured, t.Status, cpu)
	}
	p("\nThe targets are on rates, as the issue states them; the last column compares the CPU time each server spent per connection or request (lower is better for quotesd), the steadier figure on a shared machine.\n\n")

	if r.has("qotd") {
		p("### QOTD over TCP (%s rounds; reply of %s bytes from each server)\n\n", m["rounds"], m["qotd_reply_bytes"])
		p("Clients connect, read to EOF and close, as fast as they can. CPU is the server's user+system time per connection (from /proc).")
		if r.ran("qotd", "quotesd-pg") {
			p(pgNote)
		}
		p("\n\n")
		p("| clients | server | conns/s | p50 | p99 | server CPU µs/conn | rate vs bare Go |\n|---:|---|---:|---:|---:|---:|---:|\n")
		for _, c := range r.params("qotd") {
			for _, who := range qotdContenders(r) {
				p("| %s | %s | %s | %s | %s | %s | %s |\n", c, names[who], spread(r.stat("qotd", who, c, "rate")),
					ms(r.stat("qotd", who, c, "p50_ms")), ms(r.stat("qotd", who, c, "p99_ms")),
					num(r.stat("qotd", who, c, "cpu_us").Median), ratioText(r.ratio("qotd", c, who, "bare-go", "rate")))
			}
		}
		p("\n")
	}
	if r.has("http") {
		p("### HTTP (wrk, 1 thread, 64 keep-alive connections, %s rounds; body of %s bytes)\n\n", m["rounds"], m["http_body_bytes"])
		p("quotesd runs as shipped (access log on, metrics, security headers) but for the per-IP rate limit, off because wrk is one client. The bare net/http handler writes the body with a Content-Type.")
		if slices.Contains(httpContenders(r), "bare-go-same") {
			p(" The same handler with quotesd's header fields and timeouts sends the very response quotesd sends (every header field of it, behind the same http.Server timeouts), with no code of quotesd's.")
		}
		if slices.Contains(httpContenders(r), "quotesd-pg") {
			p(pgNote)
		}
		p("\n\n")
		p("| server | req/s | p50 | p99 | server CPU µs/req | rate vs bare net/http | vs nginx |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, who := range httpContenders(r) {
			p("| %s | %s | %s | %s | %s | %s | %s |\n", names[who], spread(r.stat("http", who, "64", "rate")),
				ms(r.stat("http", who, "64", "p50_ms")), ms(r.stat("http", who, "64", "p99_ms")),
				num(r.stat("http", who, "64", "cpu_us").Median), ratioText(r.ratio("http", "64", who, "bare-go", "rate")),
				ratioText(r.ratio("http", "64", who, "nginx", "rate")))
		}
		p("\n")
	}
	if r.has("smtp") {
		p("### SMTP (postfix %s smtp-source, many messages per connection)\n\n", m["postfix"])
		p("quotesd commits every message to its durable queue (WAL, synchronous=FULL, group commit) before its 250, and relays every reply to a second smtp-sink on the same machine. Postfix is the mail server an operator would run instead: a throwaway instance with its defaults (cleanup fsyncs each message into its queue before the 250), relaying every message to an smtp-sink the same way. bare go-smtp is a server on the library quotesd's mail frontend uses that reads every message to its end and discards it, as smtp-sink does: what Go and go-smtp cost by themselves.\n\n")
		p("| sessions | server | msg/s accepted | replies delivered/s | vs smtp-sink |\n|---:|---|---:|---:|---:|\n")
		for _, s := range r.params("smtp") {
			for _, who := range []string{"quotesd", "quotesd-relay-down", "postfix-mta", "bare-go-smtp", "smtp-sink"} {
				if !r.stat("smtp", who, s, "rate").ok() {
					continue // bare go-smtp: not in runs from before it was measured
				}
				del := "—"
				if d := r.stat("smtp", who, s, "delivered"); d.ok() {
					del = spread(d)
				}
				p("| %s | %s | %s | %s | %s |\n", s, names[who], spread(r.stat("smtp", who, s, "rate")), del, ratioText(r.ratio("smtp", s, who, "smtp-sink", "rate")))
			}
		}
		p("\n")
	}
	if r.has("irc") {
		p("### IRC (`!quote` round trip through ngircd %s, one request a second from 8 users in turn, pacing and cooldowns off)\n\n", m["ngircd"])
		p("| bot | p50 | p99 | worst p99 of a round | max |\n|---|---:|---:|---:|---:|\n")
		for _, who := range []string{"quotesd", "bare-echo"} {
			p("| %s | %s | %s | %s | %s |\n", names[who], ms(r.stat("irc", who, "-", "p50_ms")), ms(r.stat("irc", who, "-", "p99_ms")),
				num(r.stat("irc", who, "-", "p99_ms").Max)+" ms", num(r.stat("irc", who, "-", "max_ms").Max)+" ms")
		}
		p("\n")
	}
	if r.has("core") {
		p("### Core (`go test -bench` in quoter/sqlite; CPU time per call, median of rounds)\n\n")
		sizes := r.params("core")
		p("| operation |")
		for _, s := range sizes {
			p(" %s |", s)
		}
		p(" allocs/call | largest / 1k |\n|---|")
		for range sizes {
			p("---:|")
		}
		p("---:|---:|\n")
		var ops []string
		for _, rec := range r.Records {
			if rec.Suite == "core" && !slices.Contains(ops, rec.Contender) {
				ops = append(ops, rec.Contender)
			}
		}
		for _, op := range ops {
			p("| %s |", op)
			for _, s := range sizes {
				p(" %s |", duration(r.coreCost(op, s)))
			}
			last, first := r.coreCost(op, sizes[len(sizes)-1]), r.coreCost(op, sizes[0])
			grow := "—"
			if last.ok() && first.ok() && first.Median > 0 {
				grow = fmt.Sprintf("%.2fx", last.Median/first.Median)
			}
			p(" %s | %s |\n", num(r.stat("core", op, sizes[0], "allocs").Median), grow)
		}
		p("\n")
	}
	if r.has("memory") {
		p("### Memory (resident set, VmRSS)\n\n")
		p("| server | idle | holding 10,000 idle QOTD connections | holding 10,000 idle keep-alive HTTP connections |\n|---|---:|---:|---:|\n")
		for _, who := range []string{"quotesd", "bare-go-qotd", "bare-go-http"} {
			idle := r.stat("memory", who, "idle", "rss_kb")
			cell := func(param string) string {
				s := r.stat("memory", who, param, "rss_kb")
				if !s.ok() {
					return "—"
				}
				if param == "idle" || !idle.ok() {
					return fmt.Sprintf("%.1f MiB", s.Median/1024)
				}
				n := r.stat("memory", who, param, "conns").Median
				return fmt.Sprintf("%.1f MiB (%+.1f KiB per connection)", s.Median/1024, (s.Median-idle.Median)/max(n, 1))
			}
			p("| %s | %s | %s | %s |\n", names[who], cell("idle"), cell("qotd-10000"), cell("http-10000"))
		}
		p("\n")
	}
	return b.String()
}

func duration(s stat) string {
	if !s.ok() {
		return "—"
	}
	ns := s.Median
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

// splice replaces what lies between the markers in path with md.
func splice(path, md string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %s … %s markers to write the summary between", path, beginMarker, endMarker)
	}
	out := s[:i+len(beginMarker)] + "\n" + md + s[j:]
	return os.WriteFile(path, []byte(out), 0o644)
}

// chart draws, with gnuplot, QOTD connections/s against concurrent
// clients per server, and HTTP requests/s per server, medians with the
// range of the rounds as error bars.
func chart(r *results, path string) error {
	dir, err := os.MkdirTemp("", "quotesd-chart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var script strings.Builder
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	m := r.Meta
	fmt.Fprintf(&script, "set terminal svg size 1500,480 dynamic enhanced font 'sans,12' background rgb 'white'\nset output %q\n", abs)
	fmt.Fprintf(&script, "set multiplot layout 1,3 title %q\n", fmt.Sprintf("quotesd and its peers, %s, %s CPUs, load average %s at start (medians; bars: min-max of rounds)", m["date"], m["cpus"], m["load_start"]))
	plots := 0
	if r.has("qotd") {
		var d strings.Builder
		for _, c := range r.params("qotd") {
			fmt.Fprintf(&d, "%s", c)
			for _, who := range []string{"quotesd", "bare-go", "twisted"} {
				s := r.stat("qotd", who, c, "rate")
				fmt.Fprintf(&d, " %g %g %g", s.Median, s.Min, s.Max)
			}
			d.WriteString("\n")
		}
		if err := os.WriteFile(filepath.Join(dir, "qotd.dat"), []byte(d.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&script, `set title "QOTD over TCP: connections per second"
set xlabel "concurrent clients"
set ylabel "connections/s"
set logscale x 2
set xrange [5:400]
set xtics (8, 64, 256)
set yrange [0:*]
set grid ytics
set key below
plot '%[1]s' using 1:2:3:4 with yerrorlines lw 2 pt 7 title 'quotesd', \
     '%[1]s' using 1:5:6:7 with yerrorlines lw 2 pt 5 title 'bare Go', \
     '%[1]s' using 1:8:9:10 with yerrorlines lw 2 pt 9 title 'Twisted'
unset logscale x
unset xrange
`, filepath.Join(dir, "qotd.dat"))
		plots++
	}
	if r.has("http") {
		var d strings.Builder
		contenders := httpContenders(r)
		for _, who := range contenders {
			s := r.stat("http", who, "64", "rate")
			fmt.Fprintf(&d, "%q %g %g %g\n", chartLabels[who], s.Median, s.Min, s.Max)
		}
		if err := os.WriteFile(filepath.Join(dir, "http.dat"), []byte(d.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&script, `set title "HTTP, 64 keep-alive connections: requests per second"
set xlabel ""
set ylabel "requests/s"
set yrange [0:*]
set xrange [-0.6:%[2]d.6]
set style fill solid 0.5
set boxwidth 0.6
set xtics norotate noenhanced
set bmargin 4
set grid ytics
plot '%[1]s' using 0:2:xtic(1) with boxes lc rgb '#4477aa' notitle, \
     '%[1]s' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0 notitle
`, filepath.Join(dir, "http.dat"), len(contenders)-1)
		plots++
	}
	if r.has("qotd") || r.has("http") {
		// The servers' CPU time per operation: what the rates would be
		// on a quiet machine with the client elsewhere.
		var d strings.Builder
		for _, c := range []struct{ suite, param, who, label string }{
			{"qotd", "64", "quotesd", "QOTD\nquotesd"}, {"qotd", "64", "bare-go", "QOTD\nbare Go"}, {"qotd", "64", "twisted", "QOTD\nTwisted"},
			{"http", "64", "quotesd-api", "HTTP\nquotesd"}, {"http", "64", "bare-go", "HTTP\nbare Go"},
			{"http", "64", "nginx", "HTTP\nnginx"}, {"http", "64", "twisted", "HTTP\nTwisted"},
		} {
			if s := r.stat(c.suite, c.who, c.param, "cpu_us"); s.ok() {
				fmt.Fprintf(&d, "%q %g %g %g\n", c.label, s.Median, s.Min, s.Max)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "cpu.dat"), []byte(d.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&script, `set title "Server CPU time per connection / request (64 clients)"
set xlabel ""
set ylabel "µs of CPU (user+system)"
set yrange [0:*]
set autoscale x
set xrange [-0.6:*]
set style fill solid 0.5
set boxwidth 0.6
set xtics norotate noenhanced
set bmargin 4
set grid ytics
plot '%[1]s' using 0:2:xtic(1) with boxes lc rgb '#aa7744' notitle, \
     '%[1]s' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0 notitle
`, filepath.Join(dir, "cpu.dat"))
		plots++
	}
	if plots == 0 {
		return nil
	}
	script.WriteString("unset multiplot\n")
	gp := filepath.Join(dir, "chart.gp")
	if err := os.WriteFile(gp, []byte(script.String()), 0o644); err != nil {
		return err
	}
	out, err := exec.Command("gnuplot", gp).CombinedOutput()
	if err != nil {
		return fmt.Errorf("gnuplot: %v\n%s", err, out)
	}
	return nil
}
