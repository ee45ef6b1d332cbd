// Package publish posts the quote of the day, once a day, to chat webhooks
// and push services: Slack (and Mattermost, and any Slack-compatible
// incoming webhook), Discord, ntfy, Gotify, and a generic signed JSON POST
// for people's own automations. Each post is formatted for its service,
// within its documented limits; each target gets each day's post once,
// whatever restarts happen, retried while the service is down or busy and
// given up when it refuses the post. It speaks only to the URLs it is
// configured with, and never shows their secrets.
package publish

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --publish-* settings.
const (
	DefaultAt      = "07:30"
	DefaultTimeout = 10 * time.Second
)

// Defaults of the fields that are not settings: how a failed post is
// tried again.
const (
	DefaultBackoffMin = 30 * time.Second
	DefaultBackoffMax = 30 * time.Minute
)

// Config is the publisher's configuration: the --publish-* settings
// (Declare), and what the caller provides at start.
type Config struct {
	Targets []string      // --publish, each a Spec: NAME=KIND:LOCATION[?OPTIONS]; none disables publishing
	At      string        // "HH:MM" in the calendar's zone: when the day's posts go
	BaseURL string        // the site's public URL, for links to the quote's page and card; "" gives no links
	Timeout time.Duration // each request, from dialling to the answer read

	BackoffMin time.Duration // first wait after a failed post; above 0
	BackoffMax time.Duration // longest wait; at least BackoffMin

	// StateFile, when set, keeps the last day posted per target across
	// restarts; Claims, when set, takes its place with a record several
	// replicas share.
	StateFile string
	Claims    chat.DailyClaims

	// SiteURL is the site's URL known elsewhere (the web frontend's
	// --web-base-url), for links when BaseURL is empty.
	SiteURL string

	Version string                // in the User-Agent; "" says "quotesd"
	Metrics prometheus.Registerer // quotesd_publish_*; nil registers nothing
	// TLSConfig verifies the services' certificates; nil uses the
	// system's roots. Tests give their receivers' certificate.
	TLSConfig *tls.Config
	// Dial opens the TCP connections; nil uses a net.Dialer. Tests inject
	// one: the publisher resolves names only through it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// LookupEnv and ReadFile read the targets' secrets; nil means
	// os.LookupEnv and os.ReadFile.
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
}

// Declare binds c's settings to the --publish-* settings on s and sets the
// other fields to their defaults.
func (c *Config) Declare(s *settings.Set) {
	c.BackoffMin, c.BackoffMax = DefaultBackoffMin, DefaultBackoffMax
	s.List(&c.Targets, "publish", "post the quote of the day to `NAME=KIND:URL` once a day; repeatable; KIND is slack (also Mattermost), discord, ntfy, gotify or json; "+
		"URL is an http(s) URL, @/path/to/file or env:VAR holding it (slack and discord URLs hold their token: only these two), "+
		"followed by ?tag=TAG or ?collection=NAME to choose the quote and &secret=@/path or env:VAR for gotify's token, ntfy's access token or json's HMAC key",
		settings.Example("poems=discord:@/etc/quotesd/discord-url?tag=poetry"))
	s.String(&c.At, "publish-at", DefaultAt, "post the day's quote to the --publish targets at this local `HH:MM` (--tz)", settings.Live, settings.Example("06:45"))
	s.String(&c.BaseURL, "publish-base-url", "", "public `URL` of the site, for the posts' links to the quote's page and card image; empty: --web-base-url, else no links", settings.Example("https://quotes.example.org"))
	s.Duration(&c.Timeout, "publish-timeout", DefaultTimeout, "each post's request must be answered within this `duration`")
}

// Validate checks c, naming the flag at fault.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for _, v := range c.Targets {
		sp, err := ParseSpec(v)
		if err != nil {
			return fmt.Errorf("invalid --publish: %v", err)
		}
		if seen[sp.Name] {
			return fmt.Errorf("invalid --publish: two targets named %s", sp.Name)
		}
		seen[sp.Name] = true
	}
	if _, _, err := chat.ParseClock(c.At); err != nil {
		return fmt.Errorf("invalid --publish-at %q: %v", c.At, err)
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("invalid --publish-base-url %q: want an absolute http or https URL", c.BaseURL)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("invalid --publish-timeout %v: want more than 0 (a service that never answers must not hold the posts)", c.Timeout)
	}
	if c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin {
		return fmt.Errorf("publish Config.BackoffMin %v, BackoffMax %v: want 0 < BackoffMin <= BackoffMax", c.BackoffMin, c.BackoffMax)
	}
	return nil
}

// Specs returns the targets parsed (Validate has checked them).
func (c *Config) Specs() []Spec {
	var sps []Spec
	for _, v := range c.Targets {
		if sp, err := ParseSpec(v); err == nil {
			sps = append(sps, sp)
		}
	}
	return sps
}
