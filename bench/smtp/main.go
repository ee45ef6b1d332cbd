// Command smtp measures the mail frontend against postfix's smtp-source
// load generator, side by side with postfix's smtp-sink (a server that
// accepts and discards everything: the ceiling of what smtp-source can
// push through one machine). It reports messages accepted per second by
// each, and replies delivered per second by quotesd to a second smtp-sink
// acting as its relay, with the durable queue on (WAL, synchronous=FULL,
// one fsync per group commit). With -bare it also measures a do-nothing
// server on go-smtp (bench/smtp/bare), the library quotesd's mail frontend
// is built on: what Go and go-smtp alone make of the same load. With -mta
// it also measures Postfix itself as a mail server (postfix.go): the peer a
// mail operator would run instead, with its durable queue, relaying every
// message to an smtp-sink as quotesd relays its replies.
//
// Run it through run.sh, which takes smtp-source and smtp-sink from
// Debian's postfix package (installed when run as root, for -mta;
// otherwise extracted).
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

func main() {
	postfix := flag.String("postfix", "", "`dir` where the postfix package is extracted (holds usr/sbin/smtp-source)")
	quotesd := flag.String("quotesd", "", "quotesd `binary`")
	bare := flag.String("bare", "", "the do-nothing go-smtp server's `binary` (bench/smtp/bare), to measure as well")
	msgs := flag.Int("m", 20000, "messages per run")
	runs := flag.Int("runs", 5, "runs of each server, alternating (the machine may be shared: compare medians)")
	sessions := flag.Int("s", 20, "parallel SMTP sessions")
	reuse := flag.Bool("d", true, "send many messages per connection (smtp-source -d)")
	logPath := flag.String("log", "", "write quotesd's log to `file` (default: discarded with the temporary directory)")
	stateDir := flag.String("state", "", "`dir` for quotesd's queue (default: a new temporary directory on the same disk as /tmp)")
	mta := flag.String("mta", "", "measure Postfix as a mail server too: the `dir` of its commands (/usr/sbin, with postfix installed); empty: not measured")
	flag.Parse()
	if *postfix == "" || *quotesd == "" {
		log.Fatal("usage: smtp -postfix DIR -quotesd BINARY [-m N] [-s N]")
	}
	tmp, err := os.MkdirTemp("", "quotesd-bench-smtp-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if *stateDir == "" {
		*stateDir = filepath.Join(tmp, "state")
	}
	if *logPath == "" {
		*logPath = filepath.Join(tmp, "quotesd.log")
	}
	b := &bench{postfix: *postfix, quotesd: *quotesd, bare: *bare, tmp: tmp, msgs: *msgs, sessions: *sessions, reuse: *reuse, logPath: *logPath, mta: *mta}

	// A library for quotesd: the test sample.
	b.lib = filepath.Join(tmp, "quotes.db")
	db, err := sqlite.Open(b.lib, sqlite.Create())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Import(context.Background(), quotertest.Sample(), nil); err != nil {
		log.Fatal(err)
	}
	db.Close()

	mode := "a new connection per message"
	if b.reuse {
		mode = "many messages per connection (-d)"
	}
	fmt.Printf("smtp-source: %d messages per run, %d sessions, %s; %d CPUs; runs alternate\n\n", b.msgs, b.sessions, mode, runtime.NumCPU())
	fmt.Println("| run | smtp-sink msg/s | quotesd accepted msg/s (delivering) | replies delivered/s | ratio | quotesd accepted msg/s (relay down) | ratio | CPU µs/msg accept | CPU µs/msg deliver | bare go-smtp msg/s | ratio | Postfix accepted msg/s | Postfix relayed msg/s | CPU µs/msg Postfix | quotesd / Postfix |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var sinks, accepts, delivers, ratios, queues, qratios, cpuAccs, cpuDels, bares, bratios, mtaAccs, mtaRels, mtaCPUs, mtaRatios []float64
	for i := 1; i <= *runs; i++ {
		// The ceiling: smtp-source straight into smtp-sink.
		ceiling := freeAddr()
		stop := b.sink(ceiling)
		sinkRate := b.source(ceiling)
		stop()
		// The same do-nothing work on go-smtp, when asked for.
		bareRate := math.NaN()
		if b.bare != "" {
			addr := freeAddr()
			stopBare := b.start(exec.Command(b.bare, "-addr", addr), addr)
			bareRate = b.source(addr)
			stopBare()
		}
		// Postfix as the mail server, when asked for.
		mtaRun := result{accepted: math.NaN(), delivered: math.NaN(), cpu: -1}
		if b.mta != "" {
			mtaRun = b.postfixRun()
		}
		up := b.quotesdRun(filepath.Join(*stateDir, fmt.Sprintf("run%d", i)), true)
		down := b.quotesdRun(filepath.Join(*stateDir, fmt.Sprintf("run%d-down", i)), false)
		// Server CPU per message, the steadier figure on a shared machine:
		// receiving and queueing alone (relay down), and what delivering
		// adds (all CPU of the run with the relay up, less that).
		cpuAcc := down.cpu.Seconds() * 1e6 / float64(b.msgs)
		cpuDel := up.cpu.Seconds()*1e6/float64(b.msgs) - cpuAcc
		acc, del, q := up.accepted, up.delivered, down.accepted
		mtaCPU := math.NaN()
		if mtaRun.cpu >= 0 {
			mtaCPU = mtaRun.cpu.Seconds() * 1e6 / float64(b.msgs)
		}
		fmt.Printf("| %d | %.0f | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.0f | %s | %s | %s | %s | %s | %s |\n", i, sinkRate, acc, del, acc/sinkRate, q, q/sinkRate, cpuAcc, cpuDel, orDash("%.0f", bareRate), orDash("%.2f", bareRate/sinkRate),
			orDash("%.0f", mtaRun.accepted), orDash("%.0f", mtaRun.delivered), orDash("%.0f", mtaCPU), orDash("%.1f", acc/mtaRun.accepted))
		sinks, accepts, delivers, ratios = append(sinks, sinkRate), append(accepts, acc), append(delivers, del), append(ratios, acc/sinkRate)
		queues, qratios = append(queues, q), append(qratios, q/sinkRate)
		cpuAccs, cpuDels = append(cpuAccs, cpuAcc), append(cpuDels, cpuDel)
		bares, bratios = append(bares, bareRate), append(bratios, bareRate/sinkRate)
		mtaAccs, mtaRels, mtaCPUs = append(mtaAccs, mtaRun.accepted), append(mtaRels, mtaRun.delivered), append(mtaCPUs, mtaCPU)
		mtaRatios = append(mtaRatios, acc/mtaRun.accepted)
	}
	fmt.Printf("| median | %.0f | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.0f | %s | %s | %s | %s | %s | %s |\n", median(sinks), median(accepts), median(delivers), median(ratios), median(queues), median(qratios), median(cpuAccs), median(cpuDels), orDash("%.0f", median(bares)), orDash("%.2f", median(bratios)),
		orDash("%.0f", median(mtaAccs)), orDash("%.0f", median(mtaRels)), orDash("%.0f", median(mtaCPUs)), orDash("%.1f", median(mtaRatios)))
}

// orDash formats x, or a dash for a figure not measured (NaN).
func orDash(format string, x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf(format, x)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// result is what one run of quotesd measured.
type result struct {
	accepted  float64       // messages accepted per second
	delivered float64       // replies delivered per second
	cpu       time.Duration // quotesd's CPU time (user and system) from the first message on
}

// quotesdRun starts quotesd with a fresh queue in stateDir, relaying to a
// fresh smtp-sink, runs smtp-source against it and returns messages
// accepted per second and replies delivered per second (from the first
// message sent until the relay had them all), and the CPU time quotesd
// spent over that span. With relayUp false nothing listens at the relay
// address and retries are an hour apart: that measures receiving and
// durable queueing alone.
func (b *bench) quotesdRun(stateDir string, relayUp bool) (r result) {
	relay := freeAddr()
	if relayUp {
		stop := b.sink(relay)
		defer stop()
	}
	addr := freeAddr()
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(b.quotesd, "--db", b.lib, "serve", "--log-level", "warn", "--state-dir", stateDir,
		"--smtp-addr", addr, "--smtp-domain", "localhost", "--smtp-relay", relay, "--smtp-relay-tls", "none",
		"--smtp-reply-limit", "0", "--smtp-ip-reply-limit", "0", "--smtp-ip-rate", "0",
		"--smtp-max-conns", "1000", "--smtp-retry-min", "1h")
	// Turn off every other frontend and the operations listener, whichever
	// this binary has; unknown variables are ignored. Every session comes
	// from 127.0.0.1: the per-client connection cap is lifted as
	// --smtp-max-conns is, through the environment so that a binary
	// without that setting runs too.
	cmd.Env = append(os.Environ(), "QUOTESD_QOTD_ADDR=", "QUOTESD_QOTD_UDP_ADDR=", "QUOTESD_WEB_ADDR=", "QUOTESD_FINGER_ADDR=", "QUOTESD_IRC_ADDR=", "QUOTESD_IRC_SERVER=",
		"QUOTESD_OPS_ADDR=", "QUOTESD_SMTP_MAX_CONNS_PER_CLIENT=1000")
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	waitListening(addr)
	cpu0 := cpuTime(cmd.Process.Pid)
	start := time.Now()
	r.accepted = b.source(addr)
	if relayUp {
		n, last := waitDelivered(filepath.Join(stateDir, queue.FileName), b.msgs, 5*time.Minute)
		if n < b.msgs {
			log.Printf("only %d of %d replies delivered", n, b.msgs)
		}
		r.delivered = float64(n) / last.Sub(start).Seconds()
	}
	r.cpu = cpuTime(cmd.Process.Pid) - cpu0
	return r
}

// cpuTime returns the user and system CPU time process pid has used so
// far, from /proc/PID/stat (Linux), or 0 when that cannot be read.
func cpuTime(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// statFields returns the fields of /proc/PID/stat after the command name,
// which is in parentheses and may hold spaces: state is the first (field
// 3 of the file), utime the 12th (14); nil when it cannot be read.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
}

// clockTicks is the unit of utime and stime (USER_HZ), 100 on Linux.
const clockTicks = 100

type bench struct {
	postfix  string
	quotesd  string
	bare     string
	lib      string
	logPath  string
	tmp      string
	msgs     int
	sessions int
	reuse    bool
	mta      string // where postfix's commands are; "": Postfix not measured
}

func (b *bench) tool(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(b.postfix, "usr/sbin", name), args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(b.postfix, "usr/lib/postfix"))
	return cmd
}

// sink starts smtp-sink on addr and returns a function that stops it.
func (b *bench) sink(addr string) func() {
	args := []string{addr, "1024"}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...) // it refuses to run as root
	}
	return b.start(b.tool("smtp-sink", args...), addr)
}

// start starts the server cmd, waits until it listens on addr and returns
// a function that stops it.
func (b *bench) start(cmd *exec.Cmd, addr string) func() {
	if err := cmd.Start(); err != nil {
		log.Fatalf("%s: %v", cmd.Path, err)
	}
	waitListening(addr)
	return func() { cmd.Process.Kill(); cmd.Wait() }
}

// source runs smtp-source against addr and returns messages per second.
func (b *bench) source(addr string) float64 {
	args := []string{"-s", strconv.Itoa(b.sessions), "-m", strconv.Itoa(b.msgs),
		"-f", "bench@example.org", "-t", "quote@localhost", "-M", "client.test", "-S", "today"}
	if b.reuse {
		args = append([]string{"-d"}, args...)
	}
	cmd := b.tool("smtp-source", append(args, addr)...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("smtp-source against %s: %v\n%s", addr, err, out)
	}
	return float64(b.msgs) / time.Since(start).Seconds()
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(addr string) {
	for i := 0; i < 500; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Fatalf("nothing listens on %s", addr)
}

// waitDelivered polls the queue until n replies are sent (or timeout) and
// returns how many were, and when the count last grew.
func waitDelivered(path string, n int, timeout time.Duration) (int, time.Time) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(timeout)
	sent, last := 0, time.Now()
	for time.Now().Before(deadline) {
		var s int
		if err := db.QueryRow(`SELECT COUNT(*) FROM messages WHERE state = 'sent'`).Scan(&s); err != nil && !strings.Contains(err.Error(), "no such table") {
			log.Fatal(err)
		}
		if s > sent {
			sent, last = s, time.Now()
		}
		if sent >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return sent, last
}
