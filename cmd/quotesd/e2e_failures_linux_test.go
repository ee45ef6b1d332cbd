package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// stopListening takes ln's socket out of the listening state. The socket
// is shared with the quotesd it was passed to (socket activation), so this
// kills quotesd's listener as an outside hand would: on Linux, shutdown(2)
// on a listening socket ends listening, and every accept(2) on it then
// fails with EINVAL.
func stopListening(t *testing.T, ln *net.TCPListener) {
	t.Helper()
	rc, err := ln.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_RD) })
	if serr != nil {
		t.Fatalf("shutdown(2) on the listener: %v", serr)
	}
}

// A frontend whose listener dies can never serve again: quotesd stops with
// status 1, naming the frontend's service and the dead listener, instead
// of restarting the frontend in a loop on a socket that cannot accept.
func TestServe_DeadListenerStopsQuotesdWithStatus1(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	for _, tt := range []struct {
		listener, service string
		args              []string
		also              string // another component kept on: the ops listener alone is nothing to serve
	}{
		{"qotd", "qotd-tcp", []string{"--qotd-addr", "127.0.0.1:0"}, ""},
		{"web", "web", []string{"--web-addr", "127.0.0.1:0"}, ""},
		{"smtp", "smtp", []string{"--smtp-addr", "127.0.0.1:0", "--smtp-domain", "localhost"}, ""},
		{"ops", "ops", []string{"--ops-addr", "127.0.0.1:0", "--qotd-addr", "127.0.0.1:0"}, "qotd"},
	} {
		t.Run(tt.listener, func(t *testing.T) {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			f, err := ln.File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// LISTEN_PID must be quotesd's own: the shell sets its pid and
			// execs quotesd, which keeps it (as in TestServe_SystemdSocketActivation).
			args := append([]string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`, quotesdBinary(t),
				"--db", db, "serve", "--log-format", "json", "--log-level", "debug", "--state-dir", t.TempDir()},
				offExcept(tt.listener, tt.also)...)
			cmd := exec.Command("/bin/sh", append(args, tt.args...)...)
			cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES="+tt.listener)
			cmd.ExtraFiles = []*os.File{f} // descriptor 3
			s := startProcess(t, cmd, []string{tt.listener})
			s.WaitLog(30*time.Second, "ready", nil)
			stopListening(t, ln)
			wantPermanentExit(t, s, tt.service, "listener "+ln.Addr().String()+" died: accept")
		})
	}
}
