// Command coldstart measures the first answer of a socket-activated
// quotesd: systemd-socket-activate binds the port and waits; the client
// connects, which makes it exec quotesd with the socket, and the time from
// the connect to the end of the reply (EOF) is the wait of the first
// client of a service started on demand. After that answer it reads the
// process's CPU time (utime+stime: less disturbed by other load on the
// machine than the wall clock) and its resident memory, then again after
// -settle (idle), and stops it.
//
// Several binaries given with -bin (comma-separated) are run in
// alternating rounds so that a change in the machine's load falls on all
// of them alike. Each line of output is one start: bin, proto, round,
// wall ms, cpu ms, and the VmRSS, RssAnon and RssFile in KiB after the
// first answer and after -settle; a summary with medians and p90s follows.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bins := flag.String("bin", "quotesd", "quotesd `binaries` to compare, comma-separated")
	db := flag.String("db", "quotes.db", "library `file`")
	proto := flag.String("proto", "qotd", "qotd or http")
	path := flag.String("path", "/", "HTTP path of the first request")
	accept := flag.String("accept", "text/html", "HTTP Accept of the first request (a browser's first visit by default)")
	encoding := flag.String("encoding", "gzip, deflate, br, zstd", "HTTP Accept-Encoding of the first request")
	n := flag.Int("n", 20, "rounds (each starts every binary once)")
	settle := flag.Duration("settle", 2*time.Second, "wait after the first answer before reading the idle RSS")
	flag.Parse()
	if *proto != "qotd" && *proto != "http" {
		log.Fatalf("-proto %q: want qotd or http", *proto)
	}
	state, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(state)

	names := strings.Split(*bins, ",")
	results := map[string][]sample{}
	fmt.Println("bin\tproto\tround\twall_ms\tcpu_ms\trss_kb\tanon_kb\tfile_kb\tidle_rss_kb\tidle_anon_kb\tidle_file_kb")
	for round := range *n {
		for _, bin := range names {
			s, err := once(bin, *db, *proto, request(*path, *accept, *encoding), state, *settle)
			if err != nil {
				log.Fatalf("%s round %d: %v", bin, round, err)
			}
			results[bin] = append(results[bin], s)
			fmt.Printf("%s\t%s\t%d\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d\n", filepath.Base(bin), *proto, round,
				s.wall.Seconds()*1000, s.cpu.Seconds()*1000, s.first.rss, s.first.anon, s.first.file,
				s.idle.rss, s.idle.anon, s.idle.file)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("# load: %s", load)
	for _, bin := range names {
		r := results[bin]
		wall := field(r, func(s sample) float64 { return s.wall.Seconds() * 1000 })
		cpu := field(r, func(s sample) float64 { return s.cpu.Seconds() * 1000 })
		rss := field(r, func(s sample) float64 { return float64(s.first.rss) })
		idle := field(r, func(s sample) float64 { return float64(s.idle.rss) })
		file := field(r, func(s sample) float64 { return float64(s.idle.file) })
		anon := field(r, func(s sample) float64 { return float64(s.idle.anon) })
		fmt.Printf("# %s %s n=%d: wall ms median %.1f p90 %.1f min %.1f; cpu ms median %.1f p90 %.1f min %.1f; rss after first answer median %.0f KiB; idle rss median %.0f KiB (file %.0f, anon %.0f)\n",
			filepath.Base(bin), *proto, len(r), pct(wall, 50), pct(wall, 90), wall[0], pct(cpu, 50), pct(cpu, 90), cpu[0],
			pct(rss, 50), pct(idle, 50), pct(file, 50), pct(anon, 50))
	}
}

type memory struct{ rss, anon, file int }

type sample struct {
	wall        time.Duration
	cpu         time.Duration
	first, idle memory
}

// once starts bin under systemd-socket-activate on a free port of
// loopback, makes the first request and measures it.
func once(bin, db, proto, req, state string, settle time.Duration) (sample, error) {
	addr, err := freePort()
	if err != nil {
		return sample{}, err
	}
	// Only the frontend measured: every other one and the operations
	// listener are off; the measured one's address is the inherited
	// socket's. systemd-socket-activate gives the program no environment
	// but the LISTEN_* variables and those of -E.
	args := []string{"-l", addr, "--fdname=" + map[string]string{"qotd": "qotd", "http": "web"}[proto]}
	for _, v := range []string{"QOTD_ADDR", "QOTD_UDP_ADDR", "WEB_ADDR", "SMTP_ADDR", "FINGER_ADDR",
		"IRC_SERVER", "XMPP_SERVER", "OPS_ADDR", "PUBLISH"} {
		args = append(args, "-E", "QUOTESD_"+v+"=")
	}
	args = append(args, bin, "--db", db, "serve", map[string]string{"qotd": "--qotd-addr", "http": "--web-addr"}[proto], addr,
		"--log-level", "warn", "--state-dir", state)
	cmd := exec.Command("systemd-socket-activate", args...)
	// quotesd (systemd-socket-activate execs it) ends with this program.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return sample{}, err
	}
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	// systemd-socket-activate says "Listening on ..." once bound; any
	// connection before would be refused, any probe after would start it.
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "Listening on") {
			break
		}
	}
	go io.Copy(io.Discard, stderr)

	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return sample{}, err
	}
	defer c.Close()
	if proto == "http" {
		io.WriteString(c, req)
	}
	reply, err := io.ReadAll(c)
	wall := time.Since(start)
	if err != nil {
		return sample{}, err
	}
	if len(reply) == 0 || proto == "http" && !strings.HasPrefix(string(reply), "HTTP/1.1 200 ") {
		return sample{}, fmt.Errorf("unexpected reply %.80q", reply)
	}
	pid := cmd.Process.Pid // the same process once exec'd
	s := sample{wall: wall}
	if s.cpu, err = cpuTime(pid); err != nil {
		return sample{}, err
	}
	if s.first, err = readMemory(pid); err != nil {
		return sample{}, err
	}
	time.Sleep(settle)
	if s.idle, err = readMemory(pid); err != nil {
		return sample{}, err
	}
	return s, nil
}

// request is the first HTTP request, made before the server starts.
func request(path, accept, encoding string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: quotesd\r\nConnection: close\r\n", path)
	if accept != "" {
		fmt.Fprintf(&b, "Accept: %s\r\n", accept)
	}
	if encoding != "" {
		fmt.Fprintf(&b, "Accept-Encoding: %s\r\n", encoding)
	}
	b.WriteString("\r\n")
	return b.String()
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cpuTime is the CPU time the process's threads have run, in
// nanoseconds (the first field of each /proc/PID/task/TID/schedstat; the
// utime and stime of /proc/PID/stat count 10 ms ticks).
func cpuTime(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread has ended
		}
		ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("schedstat of thread %s: %v", t.Name(), err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			m.rss = kb
		case "RssAnon":
			m.anon = kb
		case "RssFile":
			m.file = kb
		}
	}
	return m, nil
}

func field(r []sample, f func(sample) float64) []float64 {
	v := make([]float64, len(r))
	for i, s := range r {
		v[i] = f(s)
	}
	slices.Sort(v)
	return v
}

// pct is the p-th percentile of sorted v, nearest rank.
func pct(v []float64, p int) float64 {
	if len(v) == 0 {
		return 0
	}
	i := (p*len(v)+99)/100 - 1
	return v[max(i, 0)]
}
