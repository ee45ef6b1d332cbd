package main

// End-to-end tests of what a built binary says it is: built in a git
// checkout of its own (a tag, a dirty tree, no version control
// information), as a release or `go install` would build it.

import (
	gobuildinfo "debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/ops/buildinfo"
)

// The binary the other e2e tests run says what its build information
// says, whichever way the checkout and GOFLAGS made it.
func TestVersionE2E_BinaryPrintsItsBuildInformation(t *testing.T) {
	bin := quotesdBinary(t)
	bi, err := gobuildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := versionLine(buildinfo.From(bi, "")) + "\n"
	for _, arg := range []string{"--version", "version"} {
		if out, stderr, code := runQuotesd(t, nil, arg); code != 0 || out != want {
			t.Errorf("quotesd %s: exit %d, %q (stderr %q); want 0, %q", arg, code, out, stderr, want)
		}
	}
}

// An operator can tell which build answers: serve's first log line and
// the operations listener's quotesd_build_info say what --version says.
func TestOpsE2E_BuildInfoOnMetricsAndInTheStartLogLine(t *testing.T) {
	bi, err := gobuildinfo.ReadFile(quotesdBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	want := buildinfo.From(bi, "")
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	args := append([]string{"--qotd-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd", "ops")...)
	s := startServe(t, db, []string{"qotd", "ops"}, args...)
	s.WaitLog(10*time.Second, "starting", map[string]string{"version": want.Version, "commit": want.Commit, "goversion": want.GoVersion})
	body := waitMetrics(t, "http://"+s.Addr("ops"),
		`quotesd_build_info{commit="`+want.Commit+`",goversion="`+want.GoVersion+`",version="`+want.Version+`"} 1`)
	if !strings.Contains(body, "# TYPE quotesd_build_info gauge\n") {
		t.Errorf("/metrics: quotesd_build_info is not a gauge")
	}
	wantLint(t, body)
}

// A release is built in a git checkout: at a tag it is that version and
// commit, never devel; -X main.version wins; a dirty tree says so; and
// without version control information the commit is unknown.
func TestVersionE2E_BuildsInAGitCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	git := e2eTool(t, "git")
	src := checkoutCopy(t, git)
	head := strings.TrimSpace(gitRun(t, git, src, "rev-parse", "HEAD"))
	platform := runtime.GOOS + "/" + runtime.GOARCH

	tagged := buildIn(t, src, "-buildvcs=true")
	wantVersion(t, tagged, "quotesd v0.1.0 (commit "+head[:12]+", "+runtime.Version()+" "+platform+")")

	// Go's VCS stamping counts untracked files: a new file makes the tree dirty.
	if err := os.WriteFile(filepath.Join(src, "uncommitted.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	release := buildIn(t, src, "-buildvcs=true", "-ldflags", "-X main.version=v0.1.1")
	wantVersion(t, release, "quotesd v0.1.1 (commit "+head[:12]+"+dirty, "+runtime.Version()+" "+platform+")")

	novcs := buildIn(t, src, "-buildvcs=false")
	wantVersion(t, novcs, "quotesd devel (commit unknown, "+runtime.Version()+" "+platform+")")
}

// checkoutCopy copies the module's source (tracked and untracked files
// that git does not ignore, as they are in the working tree) into a new
// git repository, commits it and tags the commit v0.1.0. A copy, because
// the tag must not leak into the real repository, and because Go does not
// stamp version control information in a linked worktree (golang/go#58218).
func checkoutCopy(t *testing.T, git string) string {
	t.Helper()
	root := strings.TrimSpace(gitRun(t, git, ".", "rev-parse", "--show-toplevel"))
	files := gitRun(t, git, root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	src := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, git, src, "init", "-q")
	gitRun(t, git, src, "add", "-A")
	gitRun(t, git, src, "commit", "-q", "-m", "quotesd e2e")
	gitRun(t, git, src, "tag", "v0.1.0")
	return src
}

// gitRun runs git in dir, with no user or system configuration (no
// signing, hooks or default branch hints), and returns its output.
func gitRun(t *testing.T, git, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(git, append([]string{"-c", "user.name=quotesd e2e", "-c", "user.email=e2e@quotesd.invalid"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s in %s: %v", strings.Join(args, " "), dir, err)
	}
	return string(out)
}

// buildIn builds cmd/quotesd in the module at src with flags, into a
// directory outside it (a binary inside would dirty the tree), and
// returns its path. Without -trimpath, the dependencies' compiled
// packages are those of every other build (their paths are the module
// cache's), and only quotesd's own are compiled again: -trimpath would
// rebuild everything, cgo SQLite included, on a cold cache (minutes).
func buildIn(t *testing.T, src string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quotesd")
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), "./cmd/quotesd")...)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(flags, " "), err, out)
	}
	return bin
}

// wantVersion checks what bin --version prints.
func wantVersion(t *testing.T, bin, want string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	if got := strings.TrimSuffix(string(out), "\n"); got != want {
		t.Errorf("quotesd --version = %q, want %q", got, want)
	}
}
