package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// A large import shows a progress line when stderr is a terminal, and
// nothing but its result when stderr is a pipe.
func TestE2E_CLI_ImportShowsProgressOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	for i := 0; i < 3_000; i++ {
		fmt.Fprintf(&sb, "Quote number %d.\n\t-- Author %d\n%%\n", i, i%100)
	}
	file := writeFile(t, dir, "big.txt", sb.String())

	db := filepath.Join(dir, "tty.db")
	quotesdOK(t, nil, "--db", db, "init", "--empty")
	master, slave := openPTY(t)
	if !isTerminal(slave) {
		t.Fatalf("isTerminal(pty) = false")
	}
	cmd := exec.Command(quotesdBinary(t), "--db", db, "import", file)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, slave
	var tty bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&tty, master); close(copied) }()
	if err := cmd.Run(); err != nil {
		t.Fatalf("import on a terminal: %v", err)
	}
	slave.Close()
	master.Close() // ends the copy on Linux, where reading a closed pty fails
	<-copied
	if !strings.Contains(tty.String(), "quotes") || !strings.Contains(tty.String(), "\r\x1b[K") {
		t.Errorf("terminal got %q, want a progress line", tty.String())
	}
	if !strings.Contains(out.String(), "imported 3000 quotes") {
		t.Errorf("stdout = %q", out.String())
	}

	db = filepath.Join(dir, "pipe.db")
	quotesdOK(t, nil, "--db", db, "init", "--empty")
	if _, errOut, code := runQuotesd(t, nil, "--db", db, "import", file); code != 0 || errOut != "" {
		t.Errorf("import to a pipe: exit %d, stderr %q, want 0 and nothing", code, errOut)
	}
}
