package main

// `quotesd healthcheck`: is a running quotesd ready? For a container's
// HEALTHCHECK and for monitoring that runs a command.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/quotesd/quotesd/ops"
)

func init() {
	subcommands["healthcheck"] = &subcommand{
		summary: "ask a running quotesd whether it is ready (GET /readyz): exit 0 if it is, 1 if not",
		args:    "[--url URL] [--timeout DURATION]",
		detail: `GET the readiness endpoint of the operations listener (serve's --ops-addr) and
exit 0 on 200 OK; on anything else (another status, a redirect, no answer
within --timeout, nothing listening) print one line saying why and exit 1.
Without --url, the address is QUOTESD_OPS_ADDR's, as serve reads it (a
wildcard host becomes loopback), else http://127.0.0.1:9090/readyz. Only
http and https URLs are taken; proxies are not used, and redirects not
followed. Exit status 2 is a mistake in the command line.`,
		flags: healthcheckCommand,
	}
}

// healthcheckTimeout bounds the whole check by default: well inside the
// 30 s a container runtime waits for a health check.
const healthcheckTimeout = 5 * time.Second

// healthcheckBodyLen bounds what is read of the answer's body, whose first
// line says what is not ready.
const healthcheckBodyLen = 512

func healthcheckCommand(fs *flag.FlagSet) runFunc {
	target := fs.String("url", "", "`URL` to GET; 200 means ready (default: /readyz at QUOTESD_OPS_ADDR, else at "+ops.DefaultAddr+")")
	timeout := fs.Duration("timeout", healthcheckTimeout, "give up, not ready, after this long")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) > 0 {
			return usagef("healthcheck takes no arguments; name the endpoint with --url")
		}
		if *timeout <= 0 {
			return usagef("invalid --timeout %v: want a positive duration such as 5s", *timeout)
		}
		u := *target
		if u == "" {
			var err error
			if u, err = defaultHealthURL(os.LookupEnv); err != nil {
				return err
			}
		}
		if err := checkHealthURL(u); err != nil {
			return err
		}
		status, err := getReady(ctx, u, *timeout)
		if err != nil {
			return fmt.Errorf("not ready: %s: %w", u, err)
		}
		_, err = fmt.Fprintf(g.Stdout, "ready: %s answered %s\n", u, status)
		return err
	}
}

// defaultHealthURL is /readyz on the operations listener, at the address
// serve would bind from the environment: a wildcard host is asked on
// loopback.
func defaultHealthURL(lookup func(string) (string, bool)) (string, error) {
	addr := ops.DefaultAddr
	if v, ok := lookup("QUOTESD_OPS_ADDR"); ok {
		if v == "" {
			return "", usagef("QUOTESD_OPS_ADDR is empty, so serve has no operations listener to ask: name an endpoint with --url")
		}
		addr = v
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usagef("QUOTESD_OPS_ADDR %q is not a host:port: name an endpoint with --url", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// checkHealthURL refuses anything but an absolute http or https URL.
func checkHealthURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return usagef("invalid --url %q: want an http:// or https:// URL such as http://127.0.0.1:9090/readyz", s)
	}
	return nil
}

// getReady GETs u within timeout and returns its status if it is 200 OK,
// or an error of one line saying why not.
func getReady(ctx context.Context, u string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{
		// Asked directly: a proxy from the environment would answer for
		// a host it cannot see.
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "quotesd-healthcheck/"+build.Version)
	resp, err := client.Do(req)
	if err != nil {
		return "", dialReason(err, timeout)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, healthcheckBodyLen))
	if resp.StatusCode != http.StatusOK {
		if line := firstLine(body); line != "" {
			return "", fmt.Errorf("answered %s: %s", resp.Status, line)
		}
		return "", fmt.Errorf("answered %s", resp.Status)
	}
	return resp.Status, nil
}

// dialReason says in a few words why a request got no answer.
func dialReason(err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return fmt.Errorf("no answer within %v", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused: is quotesd serve running, with its operations listener (--ops-addr) there?")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // without the method and URL, which the caller says
	}
	return err
}

// firstLine returns the first line of b, printable and short, for a
// message of one line.
func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, line)
	if r := []rune(line); len(r) > 120 {
		line = string(r[:120]) + "..."
	}
	return strings.TrimSpace(line)
}
