// Package packaging holds the release's packaging (nfpm.yaml, the
// packages' scripts and systemd drop-in, extras.sh) and its tests: the
// .deb installs, serves and purges cleanly, the container image builds
// and answers, and .goreleaser.yaml packages what nfpm.yaml does.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository's root, where the packaging configurations'
// relative paths start.
const root = ".."

// nfpmModule is the nfpm that builds the test's package, run through the
// Go module proxy (not a dependency of quotesd's go.mod).
const nfpmModule = "github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0"

// requireTool returns the path of a program the test needs; when it is
// missing the test is skipped, or fails when QUOTESD_E2E=require (as in
// CI), so that a missing install step cannot pass as green.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("%s is not installed, and QUOTESD_E2E=require: apt-get install %s (see .ci/run)", name, pkg)
		}
		t.Skipf("%s is not installed: apt-get install %s (set QUOTESD_E2E=require to fail instead)", name, pkg)
	}
	return p
}

// run runs a command to completion and fails the test, with its output,
// if it fails; it returns the standard output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// buildQuotesd builds cmd/quotesd and its man page and completions (as the
// release's before-hook does) into dir, and returns the binary's path and
// the extras' directory.
func buildQuotesd(t *testing.T, dir string) (bin, extras string) {
	t.Helper()
	bin = filepath.Join(dir, "quotesd")
	extras = filepath.Join(dir, "extras")
	run(t, root, []string{"CGO_ENABLED=1"}, "go", "build", "-o", bin, "./cmd/quotesd")
	run(t, root, nil, "./packaging/extras.sh", extras, bin)
	return bin, extras
}
