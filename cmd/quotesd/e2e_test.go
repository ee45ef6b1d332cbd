package main

// The end-to-end harness: build the real quotesd binary once, run it as a
// child process on loopback, and learn where it listens from its own logs.
// Frontend e2e tests (e2e_*_test.go) use these helpers.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// quotesdBinary builds cmd/quotesd once per test run (with -race when the
// tests themselves run with it) and returns the binary's path.
func quotesdBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "quotesd-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "quotesd")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = &buildFailure{err, out}
		}
	})
	if buildErr != nil {
		t.Fatalf("building quotesd: %v", buildErr)
	}
	return binPath
}

type buildFailure struct {
	err error
	out []byte
}

func (b *buildFailure) Error() string { return b.err.Error() + "\n" + string(b.out) }

// e2eTool returns the path of an outside program an e2e test talks to
// (ngircd, swaks, chromium, ...). When it is missing the test is skipped,
// or fails when QUOTESD_E2E=require (as in CI), so that a missing install
// step cannot pass as green.
func e2eTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("%s is not installed, and QUOTESD_E2E=require: install it (see .ci/run)", name)
		}
		t.Skipf("%s is not installed (set QUOTESD_E2E=require to fail instead)", name)
	}
	return p
}

// runQuotesd runs the binary to completion and returns stdout, stderr and
// the exit status.
func runQuotesd(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(quotesdBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running quotesd %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// tempLibrary returns the path of a fresh copy of the shipped library in a
// temporary directory, made by `quotesd init`.
func tempLibrary(t testing.TB) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "quotes.db")
	if _, stderr, code := runQuotesd(t, nil, "--db", db, "init"); code != 0 {
		t.Fatalf("quotesd init: exit %d: %s", code, stderr)
	}
	return db
}

// server is a running `quotesd serve` child process.
type server struct {
	t     testing.TB
	cmd   *exec.Cmd
	mu    sync.Mutex
	addrs map[string]string // listener name -> address, from "listening" log lines
	logs  []string
	lines chan map[string]any
	done  chan struct{}
	err   error // exit error, once done is closed
}

// startServe starts `quotesd --db DB serve --log-format json ARGS...` and
// waits until every listener named in wait has logged "listening". Every
// frontend the args do not configure should be disabled by the caller
// (e.g. --web-addr ""), so tests do not fight over default ports.
func startServe(t testing.TB, db string, wait []string, args ...string) *server {
	t.Helper()
	all := append([]string{"--db", db, "serve", "--log-format", "json", "--log-level", "debug"}, args...)
	cmd := exec.Command(quotesdBinary(t), all...)
	cmd.Env = os.Environ()
	return startProcess(t, cmd, wait)
}

// startProcess starts cmd (a quotesd serve) and waits for its listeners.
func startProcess(t testing.TB, cmd *exec.Cmd, wait []string) *server {
	t.Helper()
	s := &server{t: t, cmd: cmd, addrs: map[string]string{}, lines: make(chan map[string]any, 1024), done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting quotesd serve: %v", err)
	}
	go s.readLogs(stderr)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("quotesd serve logs:\n%s", strings.Join(s.logs, "\n"))
			s.mu.Unlock()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for _, name := range wait {
		for s.Addr(name) == "" {
			select {
			case <-s.done:
				t.Fatalf("quotesd serve exited before %s was listening: %v\n%s", name, s.err, strings.Join(s.logs, "\n"))
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("quotesd serve: %s not listening after 60s\n%s", name, strings.Join(s.logs, "\n"))
			}
		}
	}
	return s
}

func (s *server) readLogs(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		s.mu.Lock()
		s.logs = append(s.logs, line)
		if m != nil && m["msg"] == "listening" {
			if name, ok := m["listener"].(string); ok {
				s.addrs[name], _ = m["addr"].(string)
			}
		}
		s.mu.Unlock()
		if m != nil {
			select {
			case s.lines <- m:
			default: // nobody is waiting for lines; the log keeps them
			}
		}
	}
	s.err = s.cmd.Wait()
	close(s.done)
}

// Addr returns the address the named listener is bound to ("" until it is).
func (s *server) Addr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

// WaitLog waits up to d for a log line whose msg is msg and whose other
// attributes include attrs, and returns it.
func (s *server) WaitLog(d time.Duration, msg string, attrs map[string]string) map[string]any {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-s.lines:
			if m["msg"] != msg {
				continue
			}
			ok := true
			for k, v := range attrs {
				if got, _ := m[k].(string); got != v {
					ok = false
				}
			}
			if ok {
				return m
			}
		case <-timeout:
			s.t.Fatalf("no log line %q %v within %v", msg, attrs, d)
			return nil
		}
	}
}

// Logs returns every log line so far.
func (s *server) Logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logs...)
}

// Signal sends sig to the process.
func (s *server) Signal(sig syscall.Signal) {
	_ = s.cmd.Process.Signal(sig)
}

// Stop sends SIGTERM and waits up to 30s for the exit, then kills.
// It returns the process's exit error (nil for status 0).
func (s *server) Stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return s.err
}

// Wait waits up to d for the process to exit by itself (after a signal the
// test sent) and returns its exit error; unlike Stop it sends nothing, so
// it never turns a graceful shutdown into a second-signal exit.
func (s *server) Wait(d time.Duration) error {
	s.t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(d):
		s.t.Fatalf("quotesd serve still running %v after it was told to stop", d)
		return nil
	}
}

// Kill ends the process with SIGKILL, as a crash would.
func (s *server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}
