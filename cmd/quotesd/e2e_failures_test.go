package main

// Failures a restart cannot fix stop quotesd: exit status 1, an ERROR
// line naming the service and the cause, and the same on stderr, rather
// than a frontend restarted in a loop while the process looks alive.

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// wantPermanentExit waits for s to exit by itself after service failed
// permanently with an error containing cause, and checks that it exited 1,
// that the log says so once, naming the service, and that the service was
// never restarted.
func wantPermanentExit(t *testing.T, s *server, service, cause string) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("quotesd still running 30s after %s failed for good", service)
	}
	var ee *exec.ExitError
	if !errors.As(s.err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit = %v, want status 1", s.err)
	}
	logs := s.Logs()
	reported := 0
	for _, line := range logs {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		switch m["msg"] {
		case "service failed, and a restart cannot fix it: stopping every service":
			if m["level"] == "ERROR" && m["service"] == service && strings.Contains(m["err"].(string), cause) {
				reported++
			}
		case "service failed":
			t.Errorf("a service was restarted: %s", line)
		}
	}
	if reported != 1 {
		t.Errorf("%d ERROR lines say %s failed for good with %q, want 1:\n%s", reported, service, cause, strings.Join(logs, "\n"))
	}
	last := ""
	if len(logs) > 0 {
		last = logs[len(logs)-1]
	}
	if want := "quotesd: " + service + " cannot be restarted: "; !strings.HasPrefix(last, want) || !strings.Contains(last, cause) {
		t.Errorf("last line on stderr %q, want %q and %q", last, want+"...", cause)
	}
}
