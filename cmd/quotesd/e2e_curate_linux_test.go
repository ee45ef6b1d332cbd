package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/passwd"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// ttyLog collects what a program writes to a terminal.
type ttyLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *ttyLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *ttyLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until the terminal has shown want after position from,
// and returns the position after it.
func (l *ttyLog) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s := l.String(); len(s) >= from {
			if i := strings.Index(s[from:], want); i >= 0 {
				return from + i + len(want)
			}
		}
	}
	t.Fatalf("the terminal never showed %q; it shows %q", want, l.String())
	return 0
}

// adminPasswdOnATTY runs the real binary's admin passwd on a terminal and
// types the two answers at its prompts; it returns what the terminal
// showed, stdout and the command's error.
func adminPasswdOnATTY(t *testing.T, db, first, second string) (tty, stdout string, err error) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(quotesdBinary(t), "--db", db, "admin", "passwd")
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, slave
	var log ttyLog
	copied := make(chan struct{})
	go func() { io.Copy(&log, master); close(copied) }()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	at := log.waitFor(t, 0, "New password for admin: ")
	master.WriteString(first + "\n")
	log.waitFor(t, at, "Again: ")
	master.WriteString(second + "\n")
	err = cmd.Wait()
	slave.Close()
	master.Close()
	<-copied
	return log.String(), out.String(), err
}

// On a terminal, admin passwd asks twice and echoes neither answer; the
// library then holds an argon2id hash that verifies the password.
func TestE2E_CLI_AdminPasswdOnATerminalDoesNotEcho(t *testing.T) {
	db := filepath.Join(t.TempDir(), "quotes.db")
	quotesdOK(t, nil, "--db", db, "init", "--empty")
	const pw = "correct horse battery"
	tty, out, err := adminPasswdOnATTY(t, db, pw, pw)
	if err != nil {
		t.Fatalf("admin passwd: %v (terminal: %q)", err, tty)
	}
	if strings.Contains(tty, "horse") {
		t.Errorf("the terminal echoed the password: %q", tty)
	}
	wantContains(t, "stdout", out, "set the password of admin")
	lib, err := sqlite.Open(db, sqlite.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	h, err := lib.PasswordHash(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := passwd.Verify(h, pw); !ok || err != nil {
		t.Errorf("Verify(the password typed) = %v, %v (hash %q)", ok, err, h)
	}

	// Two different answers change nothing.
	tty, _, err = adminPasswdOnATTY(t, db, "first password", "second password")
	if err == nil || !strings.Contains(tty, "the two passwords differ") {
		t.Errorf("mismatched passwords: %v, terminal %q; want a failure saying they differ", err, tty)
	}
	if h2, _ := lib.PasswordHash(context.Background(), "admin"); h2 != h {
		t.Error("a refused change replaced the hash")
	}
}
