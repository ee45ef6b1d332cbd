package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/logs/logstest"
)

// The watchdog pings after each check that passes, none while the check
// fails, and none while a check hangs: systemd then restarts quotesd.
func TestWatchdog_PingsOnlyWhileTheCheckPasses(t *testing.T) {
	var buf logstest.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var pings atomic.Int32
	var state atomic.Int32 // 0 healthy, 1 failing, 2 hanging
	release := make(chan struct{})
	check := func(ctx context.Context) error {
		switch state.Load() {
		case 1:
			return errors.New("library: disk I/O error")
		case 2:
			<-release
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		watchdog(ctx, log, 5*time.Millisecond, check, func() error { pings.Add(1); return nil })
		close(done)
	}()
	defer func() { cancel(); <-done }()

	waitPings := func(what string) {
		t.Helper()
		from := pings.Load()
		deadline := time.Now().Add(5 * time.Second)
		for pings.Load() < from+3 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d pings in 5s, want them every 5ms", what, pings.Load()-from)
			}
			time.Sleep(time.Millisecond)
		}
	}
	noPings := func(what string) {
		t.Helper()
		time.Sleep(20 * time.Millisecond) // a check in flight may still ping
		from := pings.Load()
		time.Sleep(100 * time.Millisecond)
		if got := pings.Load() - from; got != 0 {
			t.Fatalf("%s: %d pings in 100ms, want none", what, got)
		}
	}
	waitPings("healthy")
	state.Store(1)
	noPings("check failing")
	if n := strings.Count(buf.String(), "health check failed"); n != 1 {
		t.Errorf("the failure is logged %d times, want once:\n%s", n, buf.String())
	}
	state.Store(0)
	waitPings("healthy again")
	state.Store(2)
	noPings("check hanging")
	state.Store(0)
	close(release)
	waitPings("after the check returned")
}

// Under systemd with WatchdogSec=, serve pings WATCHDOG=1 on the notify
// socket, about twice per WATCHDOG_USEC.
func TestServe_PingsTheSystemdWatchdog(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	sock := filepath.Join(t.TempDir(), "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cmd := exec.Command(quotesdBinary(t), append([]string{"--db", db, "serve", "--log-format", "json",
		"--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...)...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	s := startProcess(t, cmd, []string{"qotd"})
	s.WaitLog(10*time.Second, "systemd watchdog on", map[string]string{"timeout": "400ms"})
	got := map[string]int{}
	deadline := time.Now().Add(10 * time.Second)
	for got["WATCHDOG=1"] < 3 {
		nc.SetReadDeadline(deadline)
		buf := make([]byte, 256)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("notifications so far %v: %v; want WATCHDOG=1 every 200ms", got, err)
		}
		got[string(buf[:n])]++
	}
	if got["READY=1"] != 1 {
		t.Errorf("notifications %v, want READY=1 once before the pings", got)
	}
}

// With stderr the stream JOURNAL_STREAM names, as under systemd, every
// line of serve's log starts with its priority for journald; the JSON
// after it is whole.
func TestServe_LogLinesCarryJournalPrioritiesOnTheJournal(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	fi, err := stderr.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no device and inode numbers on this system")
	}
	// --smtp-domain without a relay logs a WARN at start.
	cmd := exec.Command(quotesdBinary(t), append([]string{"--db", db, "serve", "--log-format", "json",
		"--qotd-addr", "127.0.0.1:0", "--smtp-domain", "localhost", "--smtp-addr", "127.0.0.1:0",
		"--state-dir", t.TempDir()}, offExcept("qotd", "smtp")...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(stderr.Name())
		if strings.Contains(string(b), `"msg":"ready"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after 30s:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
	b, _ := os.ReadFile(stderr.Name())
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if len(line) < 3 || line[0] != '<' || line[2] != '>' {
			t.Errorf("line without a priority prefix: %q", line)
			continue
		}
		var rec struct{ Level string }
		if err := json.Unmarshal([]byte(line[3:]), &rec); err != nil {
			t.Errorf("after its prefix, %q is not JSON: %v", line, err)
			continue
		}
		want := map[string]string{"INFO": "<6>", "WARN": "<4>", "ERROR": "<3>", "DEBUG": "<7>"}[rec.Level]
		if line[:3] != want {
			t.Errorf("%s line prefixed %s, want %s: %q", rec.Level, line[:3], want, line)
		}
		seen[line[:3]] = true
	}
	if !seen["<6>"] || !seen["<4>"] {
		t.Errorf("prefixes seen %v, want <6> and <4> (the WARN of mail without delivery)", seen)
	}
}
