package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"

	"quotesd/frontends/web"
	"quotesd/limits"
	"quotesd/reactor"
)

// webFlags are the --web-* flags (see the contract at the top of serve.go).
// The admin token itself is never a flag, so it does not show in ps(1):
// it comes from --web-admin-token-file or the environment variable
// QUOTESD_WEB_ADMIN_TOKEN.
var webFlags struct {
	addr           string
	adminTokenFile string
	trustedProxies string
	rate           int
	baseURL        string
	accessLog      bool
}

// webTokenEnv is read directly, not through a flag.
const webTokenEnv = "QUOTESD_WEB_ADMIN_TOKEN"

func init() {
	components = append(components, component{
		name:   "web",
		flags:  webRegister,
		start:  webStart,
		reload: webReload,
		writes: func() bool {
			return webFlags.addr != "" && (webFlags.adminTokenFile != "" || os.Getenv(webTokenEnv) != "")
		},
	})
}

func webRegister(fs *flag.FlagSet) {
	f := &webFlags
	fs.StringVar(&f.addr, "web-addr", ":8080", "HTTP: `address` to listen on (systemd socket name: web); empty disables")
	fs.StringVar(&f.adminTokenFile, "web-admin-token-file", "", "`file` holding the admin API's bearer token (or set "+webTokenEnv+"); without a token the admin API does not exist (live)")
	fs.StringVar(&f.trustedProxies, "web-trusted-proxies", "", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For is believed, e.g. 127.0.0.1/32,::1/128; empty: the TCP peer is the client (live)")
	fs.IntVar(&f.rate, "web-rate", 300, "most requests per minute from one client IP (IPv6: one /64); 0 for no limit (live)")
	fs.BoolVar(&f.accessLog, "web-access-log", true, "log one line per request (method, path, status, bytes, duration, client IP) at INFO (live)")
	fs.StringVar(&f.baseURL, "web-base-url", "", "public `URL` of the site, e.g. https://quotes.example.org, for the Atom feed's links and ids; empty: from each request (live)")
}

// webToken returns the admin token: the first line of the token file, or
// the environment variable; "" when neither is set.
func webToken() (string, error) {
	f := &webFlags
	if f.adminTokenFile != "" {
		b, err := os.ReadFile(f.adminTokenFile)
		if err != nil {
			return "", fmt.Errorf("reading --web-admin-token-file: %w", err)
		}
		tok, _, _ := strings.Cut(string(b), "\n")
		tok = strings.TrimSpace(tok)
		if tok == "" {
			return "", fmt.Errorf("--web-admin-token-file %s is empty: put the token on its first line", f.adminTokenFile)
		}
		return tok, nil
	}
	return strings.TrimSpace(os.Getenv(webTokenEnv)), nil
}

// webConfig turns the flags into the frontend's settings.
func webConfig(env *serveEnv) (web.Config, error) {
	f := &webFlags
	cfg := web.Config{
		Quoter:      env.Quoter,
		Calendar:    env.Calendar,
		Log:         env.Log,
		AccessLog:   env.AccessLog,
		Metrics:     env.Metrics,
		RateLimit:   f.rate,
		BaseURL:     f.baseURL,
		NoAccessLog: !f.accessLog,
	}
	if env.Ready != nil {
		cfg.Ready = env.Ready.Err
	}
	if f.rate < 0 {
		return cfg, fmt.Errorf("invalid --web-rate %d: want 0 (no limit) or more", f.rate)
	}
	for _, s := range strings.Split(f.trustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen()) // a bare address is a /32 or /128
			} else {
				return cfg, fmt.Errorf("invalid --web-trusted-proxies entry %q: want a CIDR such as 10.0.0.0/8", s)
			}
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}
	tok, err := webToken()
	if err != nil {
		return cfg, err
	}
	if tok != "" && !env.Writable {
		// Only at reload: start's writes() made the library writable
		// whenever a token was configured then.
		return cfg, errors.New("an admin token is now configured but the library was opened read-only at start: restart quotesd to enable the admin API")
	}
	cfg.AdminToken = tok
	return cfg, nil
}

// webLive serves through the handler of the current settings; reload swaps
// in a new one, and requests in flight finish on the old. Every handler
// counts requests on the one limiter, made at start, so that a reload
// keeps what each client has spent.
type webLive struct {
	h       atomic.Pointer[web.Handler]
	limiter *limits.Limiter
}

func (l *webLive) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.Load().ServeHTTP(w, r) }

func webStart(env *serveEnv) ([]reactor.Service, error) {
	if webFlags.addr == "" {
		return nil, nil
	}
	cfg, err := webConfig(env)
	if err != nil {
		return nil, err
	}
	live := &webLive{limiter: limits.NewLimiter(0, 1)}
	cfg.Limiter = live.limiter
	h, err := web.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := env.Listeners.Listen("web", webFlags.addr)
	if err != nil {
		return nil, err
	}
	live.h.Store(h)
	env.Data = live
	env.Log.Info("web settings", "admin_api", cfg.AdminToken != "", "rate_per_minute", cfg.RateLimit, "trusted_proxies", len(cfg.TrustedProxies), "access_log", !cfg.NoAccessLog)
	return []reactor.Service{web.NewServer(ln, live, env.Log, web.DefaultDrain)}, nil
}

func webReload(env *serveEnv) error {
	live, ok := env.Data.(*webLive)
	if !ok {
		return nil // disabled at start
	}
	cfg, err := webConfig(env)
	if err != nil {
		return err
	}
	cfg.Limiter = live.limiter
	h, err := web.New(cfg)
	if err != nil {
		return err
	}
	live.h.Store(h)
	env.Log.Info("settings applied", "admin_api", cfg.AdminToken != "", "rate_per_minute", cfg.RateLimit, "trusted_proxies", len(cfg.TrustedProxies))
	return nil
}
