package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// healthcheck runs `quotesd healthcheck` with args and returns its output
// and exit status.
func healthcheck(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return cli(t, "", append([]string{"healthcheck"}, args...)...)
}

func TestHealthcheck_ReadyIsExit0(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	out, errOut, code := healthcheck(t, "--url", srv.URL+"/readyz")
	if code != 0 || out != "ready: "+srv.URL+"/readyz answered 200 OK\n" || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and one line saying ready", code, out, errOut)
	}
}

func TestHealthcheck_AnythingElseIsExit1WithOneLineSayingWhy(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/unready", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "mail queue unavailable\nmore detail", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/readyz", http.StatusFound) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	hang := make(chan struct{})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(hang)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/readyz"
	ln.Close()

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unready", []string{"--url", srv.URL + "/unready"}, "not ready: " + srv.URL + "/unready: answered 503 Service Unavailable: mail queue unavailable"},
		{"not found", []string{"--url", srv.URL + "/nothing"}, "answered 404 Not Found"},
		{"a redirect is not followed", []string{"--url", srv.URL + "/moved"}, "answered 302 Found"},
		{"no answer in time", []string{"--url", srv.URL + "/hang", "--timeout", "200ms"}, "no answer within 200ms"},
		{"nothing listening", []string{"--url", closed}, "connection refused: is quotesd serve running"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, errOut, code := healthcheck(t, tt.args...)
			if code != 1 || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and one line containing %q", code, out, errOut, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestHealthcheck_RefusesWhatIsNotAnHTTPURL(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "ftp://127.0.0.1/readyz", "127.0.0.1:9090/readyz", "http:///readyz", "gopher://x"} {
		wantContains(t, "stderr", cliFail(t, 2, "", "healthcheck", "--url", u), "want an http:// or https:// URL")
	}
	wantContains(t, "stderr", cliFail(t, 2, "", "healthcheck", "--timeout", "0s"), "invalid --timeout")
	wantContains(t, "stderr", cliFail(t, 2, "", "healthcheck", "now"), "healthcheck takes no arguments")
}

func TestHealthcheck_DefaultURLFollowsTheOpsAddress(t *testing.T) {
	for env, want := range map[string]string{
		"":                    "http://127.0.0.1:9090/readyz",
		"127.0.0.1:9191":      "http://127.0.0.1:9191/readyz",
		":9090":               "http://127.0.0.1:9090/readyz",
		"0.0.0.0:9090":        "http://127.0.0.1:9090/readyz",
		"[::]:9090":           "http://[::1]:9090/readyz",
		"monitor.local:19090": "http://monitor.local:19090/readyz",
	} {
		lookup := func(k string) (string, bool) { return env, env != "" && k == "QUOTESD_OPS_ADDR" }
		if got, err := defaultHealthURL(lookup); err != nil || got != want {
			t.Errorf("QUOTESD_OPS_ADDR=%q: %q, %v; want %q", env, got, err, want)
		}
	}
	if _, err := defaultHealthURL(func(string) (string, bool) { return "", true }); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("an empty QUOTESD_OPS_ADDR: err %v, want one saying to pass --url", err)
	}
}
