package smtptest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A full state disk is the fault the mail queue must survive without
// sending a reply twice; the queue's tests and the binary's share these.

// SmallFS mounts a tmpfs of size bytes at a new directory and unmounts it
// when the test ends: a disk that really fills. Mounting needs root (as in
// CI); where it is refused the test is skipped, or fails when
// QUOTESD_E2E=require.
func SmallFS(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("mounting a tmpfs at %s: %v: %s (QUOTESD_E2E=require)", dir, err, out)
		}
		t.Skipf("cannot mount a tmpfs (%v: %s); set QUOTESD_E2E=require to fail instead", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// FillFS writes a file in dir until the filesystem is full and returns its
// path: removing it frees the space.
func FillFS(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC in the end", dir, err)
			}
			return path
		}
	}
}
