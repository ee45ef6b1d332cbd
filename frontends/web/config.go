package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --web-* settings.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultRateLimit = 300 // requests per client per minute
)

// Declare binds the settings among c's fields to the --web-* settings on
// s; the others (the quoter, loggers, registry) are the caller's.
func (c *Config) Declare(s *settings.Set) {
	s.String(&c.Addr, "web-addr", DefaultAddr, "HTTP: `address` to listen on (systemd socket name: web); empty disables; the default, on loopback, reaches this machine only", settings.Example("127.0.0.1:80"))
	s.Secret(&c.AdminToken, "web-admin-token", "the admin API's bearer token; without a token the admin API does not exist", settings.Live)
	s.Var((*Prefixes)(&c.TrustedProxies), "web-trusted-proxies", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For is believed, e.g. 127.0.0.1/32,::1/128; empty: the TCP peer is the client", settings.Live, settings.Example("127.0.0.1/32"))
	s.Int(&c.RateLimit, "web-rate", DefaultRateLimit, "most requests per minute from one client (an IPv4 address or an IPv6 /64); 0 for no limit", settings.Live)
	s.Bool(&c.RateShared, "web-rate-shared", false, "count --web-rate across every replica sharing the PostgreSQL database (--db postgres://...), synced every 250 ms; off: each replica limits alone")
	s.Inverse(&c.NoAccessLog, "web-access-log", true, "log one line per request (method, path, status, bytes, duration, client IP) at INFO", settings.Live)
	s.Bool(&c.Ops, "web-ops", false, "also serve /livez and /readyz on the web port, for a load balancer that checks only the port it balances; /metrics is on --ops-addr only", settings.Live)
	s.Bool(&c.Admin, "web-admin", false, "serve /admin, where curators sign in with the password set by 'quotesd admin passwd' to review submissions, edit, pin and import quotes and manage collections", settings.Live)
	s.Bool(&c.Submissions, "web-submissions", false, "serve the public 'Submit a quote' form and a 'Suggest a correction' form on every quote; what they send waits for a curator's approval", settings.Live)
	s.Bool(&c.Subscribe, "web-subscribe", false, "serve /subscribe, a form to subscribe an address to the daily quote by mail (with --mail-daily on the mail frontend): rate-limited, with a honeypot, sending the same single confirmation request a day as a subscribe by mail", settings.Live)
	s.Var((*Names)(&c.Collections), "web-collections", "comma-separated private `collections` the web serves to requests that name them (?collection=); public collections are always served, other private ones never", settings.Live, settings.Example("club-quotes"))
	s.String(&c.BaseURL, "web-base-url", "", "public `URL` of the site, e.g. https://quotes.example.org, for the Atom feed's links and ids, robots.txt's sitemap and the pages' link previews (og:url, og:image, canonical, oEmbed); empty: from each request (a warning at start when the web port is not on loopback)", settings.Live, settings.Example("https://quotes.example.org"))
}

// Validate checks the settings among c's fields, naming the flag at fault.
func (c *Config) Validate() error {
	if c.RateLimit < 0 {
		return fmt.Errorf("invalid --web-rate %d: want 0 (no limit) or more", c.RateLimit)
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("invalid --web-base-url %q: want an absolute http or https URL", c.BaseURL)
	}
	return nil
}

// Names is a list of collection names, as --web-collections takes them:
// comma-separated, each lower-case letters, digits and inner hyphens.
type Names []string

func (ns Names) String() string { return strings.Join(ns, ",") }

// Set parses a comma-separated list of collection names.
func (ns *Names) Set(v string) error {
	var out Names
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !validCollection(s) {
			return fmt.Errorf("%q is not a collection name: lower-case letters, digits and inner hyphens, at most %d", s, quoter.MaxCollectionLen)
		}
		out = append(out, s)
	}
	*ns = out
	return nil
}

// validCollection reports whether s is a well-formed collection name (see
// quoter.MaxCollectionLen): it can then be shown and put in a URL as it is.
func validCollection(s string) bool { return quoter.ValidCollection(s) == nil }

// Prefixes is a list of networks, as --web-trusted-proxies takes them: a
// comma-separated list of CIDRs or bare addresses (a /32 or /128).
type Prefixes []netip.Prefix

func (ps Prefixes) String() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Set parses a comma-separated list of CIDRs.
func (ps *Prefixes) Set(v string) error {
	var out Prefixes
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", s)
			}
			p = netip.PrefixFrom(a, a.BitLen()) // a bare address is a /32 or /128
		}
		out = append(out, p.Masked())
	}
	*ps = out
	return nil
}

// WarnUnsetBaseURL logs, once at start, a warning when the web frontend
// listens on addr (the bound listener's), which is not a loopback address,
// with no BaseURL: the feed's ids and links and robots.txt's Sitemap then
// follow each request's Host header, so a feed reader that came by
// another name sees other ids. A Unix socket is behind a proxy: no warning.
func (c *Config) WarnUnsetBaseURL(log *slog.Logger, addr net.Addr) {
	if c.BaseURL != "" || !public(addr) {
		return
	}
	log.Warn("--web-base-url is not set and the web frontend listens on a non-loopback address: "+
		"the Atom feed's ids and links follow each request's Host header; set it to the site's public URL",
		"frontend", "web", "addr", addr.String())
}

// WarnAdminInClear logs, once at start, a warning when /admin is served
// (Admin) on addr, a TCP address other than loopback, with nothing saying
// that a TLS proxy is in front (no TrustedProxies, no https BaseURL):
// curators' passwords and session cookies would then cross the network
// in clear.
func (c *Config) WarnAdminInClear(log *slog.Logger, addr net.Addr) {
	if !c.Admin || !public(addr) || len(c.TrustedProxies) > 0 || strings.HasPrefix(c.BaseURL, "https://") {
		return
	}
	log.Warn("--web-admin is on and the web frontend listens on a non-loopback address with no TLS proxy in front "+
		"(neither --web-trusted-proxies nor an https --web-base-url): curators' passwords and sessions cross the network in clear; "+
		"serve /admin through a TLS proxy",
		"frontend", "web", "addr", addr.String())
}

// public reports whether addr is a TCP address other than loopback.
func public(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && !ta.IP.IsLoopback()
}
