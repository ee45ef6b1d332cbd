package main

// `quotesd healthcheck` against a real `quotesd serve`, both the binary.

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestHealthcheckE2E_ReadyServeIs0StoppedServeIs1(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	args := append(offExcept("qotd", "web", "ops"), "--qotd-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0", "--state-dir", t.TempDir())
	s := startServe(t, db, []string{"qotd", "web", "ops"}, args...)
	readyz := "http://" + s.Addr("ops") + "/readyz"

	if out, errOut, code := runQuotesd(t, nil, "healthcheck", "--url", readyz); code != 0 || !strings.HasPrefix(out, "ready: "+readyz+" answered 200 OK") {
		t.Errorf("healthcheck --url %s: exit %d, stdout %q, stderr %q; want 0 and ready", readyz, code, out, errOut)
	}
	// As a container would run it: the address from the serve's own setting.
	if out, errOut, code := runQuotesd(t, []string{"QUOTESD_OPS_ADDR=" + s.Addr("ops")}, "healthcheck"); code != 0 {
		t.Errorf("healthcheck with QUOTESD_OPS_ADDR: exit %d, stdout %q, stderr %q; want 0", code, out, errOut)
	}
	// The public web port has no /readyz unless --web-ops says so.
	web := "http://" + s.Addr("web") + "/readyz"
	if _, errOut, code := runQuotesd(t, nil, "healthcheck", "--url", web); code != 1 || !strings.Contains(errOut, "answered 404 Not Found") {
		t.Errorf("healthcheck --url %s: exit %d, stderr %q; want 1 and the 404", web, code, errOut)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stopping serve: %v", err)
	}
	if _, errOut, code := runQuotesd(t, nil, "healthcheck", "--url", readyz, "--timeout", "2s"); code != 1 || !strings.Contains(errOut, "not ready: "+readyz) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("healthcheck of a stopped serve: exit %d, stderr %q; want 1 and one line", code, errOut)
	}
}
