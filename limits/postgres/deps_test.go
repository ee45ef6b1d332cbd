package postgres_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The shared limiter serves the web frontend but, like package limits,
// knows no frontend: it takes clients and gives answers.
func TestShared_DependsOnNoFrontend(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/quotesd/quotesd/frontends/") || strings.HasPrefix(pkg, "github.com/quotesd/quotesd/cmd/") {
			t.Errorf("limits/postgres depends on %s", pkg)
		}
	}
}
