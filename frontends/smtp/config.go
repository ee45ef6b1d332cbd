package smtp

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/settings"
)

// Defaults of the --smtp-* settings. The default of --smtp-domain depends
// on the host: see DefaultDomains.
const (
	// DefaultAddr is where the mail frontend listens when --smtp-domain
	// is given without --smtp-addr: loopback, as every default address of
	// quotesd is; a public port comes from a systemd socket or the flag.
	DefaultAddr         = "127.0.0.1:2525"
	DefaultLocalPart    = "quote"
	DefaultReplyLimit   = 3  // replies per recipient mailbox per day
	DefaultIPReplyLimit = 50 // replies caused by one client per day
	DefaultIPRate       = 30 // messages per client per minute
	DefaultIPBurst      = 10
	DefaultMaxSize      = 64 << 10 // bytes: a request is a short mail
	// DefaultMaxRecipients is per message (452 past it).
	DefaultMaxRecipients = 10
	// DefaultMaxLineLength is RFC 5321's limit for a text line (§4.5.3.1.6)
	// doubled, as go-smtp has it.
	DefaultMaxLineLength       = 2000
	DefaultReadTimeout         = time.Minute
	DefaultWriteTimeout        = time.Minute
	DefaultMaxConns            = 100
	DefaultMaxConnsPerClient   = 10
	DefaultRelayTLS            = queue.TLSStartTLS
	DefaultMaxAge              = 48 * time.Hour
	DefaultRetryMin            = time.Minute
	DefaultRetryMax            = time.Hour
	DefaultDeliveryConcurrency = 4
	DefaultDeliveryTimeout     = 2 * time.Minute
	DefaultDKIMSelector        = "quotesd"
)

// Config is the mail frontend's settings: the server's, the daily reply
// caps of its queue, and delivery's. Limits follow the settings package's
// rule: 0 is no limit where that is safe (the reply caps, the message
// rate); a mail server open to anyone needs its sizes, timeouts,
// connection caps and delivery bounds, so Validate refuses 0 for those.
//
// ServerConfig, Limits and Delivery turn a valid Config into the options
// of the server, the queue and delivery; reading the files it names (the
// TLS certificate, the DKIM key) is the caller's.
type Config struct {
	// Addr is where to listen; "" means DefaultAddr when Domains is set,
	// and with neither the frontend is off (see Enabled).
	Addr      string
	LocalPart string // the local part mail is accepted for at each domain
	// Domains is the comma-separated list of --smtp-domain (see
	// Addresses); "" means DefaultDomains.
	Domains string
	// Hostname is the name in the greeting and in EHLO when delivering;
	// "" means the first of Domains.
	Hostname string

	// The queue's daily caps (UTC days): replies per recipient mailbox,
	// and replies caused by one client (an IPv4 address or an IPv6 /64).
	ReplyLimit   int
	IPReplyLimit int
	// IPRate caps the messages of one client per minute (450 past it),
	// after a burst of IPBurst.
	IPRate  float64
	IPBurst int

	MaxSize                   int64 // bytes per message (552 past it)
	MaxRecipients             int   // per message
	MaxLineLength             int   // bytes per command or message line
	ReadTimeout, WriteTimeout time.Duration
	MaxConns                  int // connections at once (421 past it)
	MaxConnsPerClient         int // connections at once from one client

	// Delivery: through Relay, or with DirectMX to the recipients' MX
	// hosts; with neither, replies are held in the queue.
	Relay         string // host:port
	DirectMX      bool
	RelayTLS      string // queue.TLSNone, queue.TLSStartTLS or queue.TLSImplicit
	RelayUser     string // AUTH PLAIN at the relay, with RelayPassword
	RelayPassword string
	MaxAge        time.Duration // how long a reply may wait for delivery
	// RetryMin is the wait before the first retry; it doubles, with
	// jitter, up to RetryMax.
	RetryMin, RetryMax  time.Duration
	DeliveryConcurrency int           // destinations delivered to at once
	DeliveryTimeout     time.Duration // connecting and each SMTP command

	DKIMKey      string // PEM file of the signing key; "" for no signing
	DKIMSelector string
	DKIMDomain   string // d=; "" for the domain of each reply's From
	// TLSCert and TLSKey are the PEM files of the STARTTLS certificate:
	// both or neither.
	TLSCert, TLSKey string

	// MailDaily is the time of day (HH:MM, in --tz) of the subscribers'
	// daily mail; "" turns subscriptions off (see Subscriptions).
	MailDaily string
	// MailDailyRate paces the daily mail: messages per minute to each
	// destination domain; 0 for no pacing.
	MailDailyRate float64
	// MailBaseURL is the web site's public URL, for the links in the
	// subscriptions' mail; required with MailDaily, as one-click
	// unsubscribe (RFC 8058) needs an https URI.
	MailBaseURL string
	// MailBounceLimit is how many hard bounces end a subscription.
	MailBounceLimit int
}

// DefaultMailDailyRate is the default pace of the daily mail per
// destination domain: a message a second, well below what the large
// providers take from a sender with a good reputation.
const DefaultMailDailyRate = 60

// DefaultConfig returns the settings of a `quotesd serve` given no
// --smtp-* flag: the frontend is off.
func DefaultConfig() Config {
	var c Config
	c.Declare(settings.New("smtp"))
	return c
}

// DefaultDomains is the default of --smtp-domain: this host's name and
// localhost. The name comes from os.Hostname, never from DNS: quotesd
// resolves nothing at start.
func DefaultDomains() string {
	ds := []string{}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		ds = append(ds, strings.ToLower(h))
	}
	return strings.Join(append(ds, "localhost"), ",")
}

// Declare binds c's fields to the --smtp-* settings on s.
func (c *Config) Declare(s *settings.Set) {
	s.String(&c.Addr, "smtp-addr", "", "mail frontend: `address` to listen on for SMTP (systemd socket name: smtp); empty: "+DefaultAddr+" if --smtp-domain is set, else the mail frontend is off", settings.Example("127.0.0.1:25"))
	s.String(&c.LocalPart, "smtp-local-part", DefaultLocalPart, "the `local part` mail is accepted for, at each --smtp-domain; local+command@ subaddresses select commands", settings.Example("quotes"))
	s.String(&c.Domains, "smtp-domain", "", "comma-separated `domains` mail is accepted for; setting it (or --smtp-addr) turns the mail frontend on; empty: this host's name (from the system, not DNS) and localhost", settings.Example("example.org"))
	s.String(&c.Hostname, "smtp-hostname", "", "`name` in the SMTP greeting and in EHLO when delivering (default: the first --smtp-domain)", settings.Example("mail.example.org"))
	s.Int(&c.ReplyLimit, "smtp-reply-limit", DefaultReplyLimit, "most replies per recipient mailbox per day (UTC; a+tag@ counts as a@); 0 for no cap", settings.Live)
	s.Int(&c.IPReplyLimit, "smtp-ip-reply-limit", DefaultIPReplyLimit, "most replies caused by one client (an IPv4 address or an IPv6 /64) per day (UTC); 0 for no cap", settings.Live)
	s.Float(&c.IPRate, "smtp-ip-rate", DefaultIPRate, "most messages per minute from one client (450 past it); 0 for no limit", settings.Live)
	s.Int(&c.IPBurst, "smtp-ip-burst", DefaultIPBurst, "messages one client may send at once before --smtp-ip-rate applies", settings.Live)
	s.Int64(&c.MaxSize, "smtp-max-size", DefaultMaxSize, "largest message accepted, in `bytes` (552 past it): a request is a short mail")
	s.Int(&c.MaxRecipients, "smtp-max-recipients", DefaultMaxRecipients, "most recipients per message")
	s.Int(&c.MaxLineLength, "smtp-max-line-length", DefaultMaxLineLength, "longest command or message line, in bytes")
	s.Duration(&c.ReadTimeout, "smtp-read-timeout", DefaultReadTimeout, "how long the server waits for a client's next command or data")
	s.Duration(&c.WriteTimeout, "smtp-write-timeout", DefaultWriteTimeout, "how long writing one reply to a client may take")
	s.Int(&c.MaxConns, "smtp-max-conns", DefaultMaxConns, "most SMTP connections at once; more get 421")
	s.Int(&c.MaxConnsPerClient, "smtp-max-conns-per-client", DefaultMaxConnsPerClient, "most SMTP connections at once from one client (an IPv4 address or an IPv6 /64); more get 421, so that one client cannot take every --smtp-max-conns slot")
	s.String(&c.Relay, "smtp-relay", "", "deliver replies through this relay `host:port`; with neither it nor --smtp-direct-mx, replies are kept in the queue, not delivered", settings.Example("127.0.0.1:25"))
	s.Bool(&c.DirectMX, "smtp-direct-mx", false, "deliver replies straight to the recipients' MX hosts, looked up in the system's DNS, never at a loopback, private or other non-public address (not with --smtp-relay)")
	s.String(&c.RelayTLS, "smtp-relay-tls", DefaultRelayTLS, "TLS to the relay: none, starttls (required and verified) or tls (implicit, port 465)", settings.Example(queue.TLSImplicit))
	s.String(&c.RelayUser, "smtp-relay-user", "", "AUTH PLAIN `user` at the relay; its password is the secret smtp-relay-password", settings.Example("quotesd"))
	s.Secret(&c.RelayPassword, "smtp-relay-password", "the relay's AUTH PLAIN password")
	s.Duration(&c.MaxAge, "smtp-max-age", DefaultMaxAge, "how long a reply may wait for delivery before it is dropped")
	s.Duration(&c.RetryMin, "smtp-retry-min", DefaultRetryMin, "wait before the first retry of a failed delivery; it doubles, with jitter, up to --smtp-retry-max")
	s.Duration(&c.RetryMax, "smtp-retry-max", DefaultRetryMax, "longest wait between delivery attempts")
	s.Int(&c.DeliveryConcurrency, "smtp-delivery-concurrency", DefaultDeliveryConcurrency, "most destinations (relay or recipient domains) delivered to at once")
	s.Duration(&c.DeliveryTimeout, "smtp-delivery-timeout", DefaultDeliveryTimeout, "bound on connecting and on each SMTP command when delivering")
	s.String(&c.DKIMKey, "smtp-dkim-key", "", "PEM `file` of a private key (RSA or Ed25519) to DKIM-sign replies with; empty: no signing", settings.Example("dkim.pem"))
	s.String(&c.DKIMSelector, "smtp-dkim-selector", DefaultDKIMSelector, "DKIM `selector`: the key's TXT record is <selector>._domainkey.<domain>", settings.Example("mail2026"))
	s.String(&c.DKIMDomain, "smtp-dkim-domain", "", "DKIM signing `domain` (d=); default the domain of each reply's From address", settings.Example("example.org"))
	s.String(&c.TLSCert, "smtp-tls-cert", "", "PEM `file` of the certificate chain to offer with STARTTLS (with --smtp-tls-key); the files are read again on every SIGHUP; empty: plain SMTP only")
	s.String(&c.TLSKey, "smtp-tls-key", "", "PEM `file` of the private key of --smtp-tls-cert")
	s.String(&c.MailDaily, "mail-daily", "", "time of day (`HH:MM`, in --tz) when confirmed mail subscribers get the day's quote; setting it turns on mail subscriptions (subject \"subscribe\" to the mail address); empty: off", settings.Example("07:00"))
	s.Float(&c.MailDailyRate, "mail-daily-rate", DefaultMailDailyRate, "pace of the daily mail: most messages per minute to each destination domain; 0 for no pacing")
	s.String(&c.MailBaseURL, "mail-base-url", "", "public `URL` of the web site, for the confirm and unsubscribe links (one-click unsubscribe, RFC 8058, wants https) and the quote card links of the subscriptions' mail; empty: --web-base-url, one of which --mail-daily needs", settings.Example("https://quotes.example.org"))
	s.Int(&c.MailBounceLimit, "mail-bounce-limit", DefaultBounceLimit, "hard bounces (5.x.x delivery status notifications) of a subscriber's daily mail, each within a week of the one before, that end its subscription")
}

// Subscriptions reports whether mail subscriptions are on.
func (c *Config) Subscriptions() bool { return c.MailDaily != "" }

// DailyTime returns the hour and minute of MailDaily.
func (c *Config) DailyTime() (hour, minute int, err error) {
	h, m, ok := strings.Cut(c.MailDaily, ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hour > 23 || minute > 59 || hour < 0 || minute < 0 {
		return 0, 0, fmt.Errorf("invalid --mail-daily %q: want HH:MM, 24-hour clock", c.MailDaily)
	}
	return hour, minute, nil
}

// Enabled reports whether serve runs the mail frontend: only when told
// where to listen or which domains to accept mail for. A mail server that
// starts unasked is one more port open to the network, and its replies go
// to addresses anyone can forge.
func (c *Config) Enabled() bool { return c.Addr != "" || c.Domains != "" }

// ListenAddr returns the address to listen on: Addr, or DefaultAddr.
func (c *Config) ListenAddr() string {
	if c.Addr == "" {
		return DefaultAddr
	}
	return c.Addr
}

// domains returns Domains, or DefaultDomains.
func (c *Config) domains() string {
	if c.Domains == "" {
		return DefaultDomains()
	}
	return c.Domains
}

// Validate checks c, naming the flag at fault. A disabled frontend (see
// Enabled) is valid whatever its other settings.
func (c *Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if c.LocalPart == "" || strings.ContainsAny(c.LocalPart, "@+ <>\"") {
		return fmt.Errorf("invalid --smtp-local-part %q: want a plain local part such as quote", c.LocalPart)
	}
	if _, err := parseDomains(c.domains()); err != nil {
		return err
	}
	switch c.RelayTLS {
	case queue.TLSNone, queue.TLSStartTLS, queue.TLSImplicit:
	default:
		return fmt.Errorf("invalid --smtp-relay-tls %q: want none, starttls or tls", c.RelayTLS)
	}
	if c.Relay != "" && c.DirectMX {
		return fmt.Errorf("--smtp-relay and --smtp-direct-mx both set: choose one way to deliver replies")
	}
	if c.Relay != "" && c.RelayUser != "" && c.RelayPassword == "" {
		return fmt.Errorf("--smtp-relay-user is set but no password: set %s or --smtp-relay-password-file", settings.EnvName("smtp-relay-password"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--smtp-tls-cert and --smtp-tls-key go together: set both to offer STARTTLS, or neither")
	}
	if c.DKIMKey != "" && c.DKIMSelector == "" {
		return fmt.Errorf("--smtp-dkim-selector is empty but --smtp-dkim-key is set")
	}
	for _, l := range []struct {
		name string
		v    float64
	}{
		{"smtp-reply-limit", float64(c.ReplyLimit)}, {"smtp-ip-reply-limit", float64(c.IPReplyLimit)},
		{"smtp-ip-rate", c.IPRate}, {"smtp-ip-burst", float64(c.IPBurst)},
	} {
		if l.v < 0 {
			return fmt.Errorf("invalid --%s %v: want 0 (no limit) or more", l.name, l.v)
		}
	}
	for _, l := range []struct {
		name string
		v    float64
	}{
		{"smtp-max-size", float64(c.MaxSize)}, {"smtp-max-recipients", float64(c.MaxRecipients)}, {"smtp-max-line-length", float64(c.MaxLineLength)},
		{"smtp-read-timeout", float64(c.ReadTimeout)}, {"smtp-write-timeout", float64(c.WriteTimeout)}, {"smtp-max-age", float64(c.MaxAge)},
		{"smtp-retry-min", float64(c.RetryMin)}, {"smtp-retry-max", float64(c.RetryMax)}, {"smtp-delivery-timeout", float64(c.DeliveryTimeout)},
		{"smtp-delivery-concurrency", float64(c.DeliveryConcurrency)}, {"smtp-max-conns", float64(c.MaxConns)},
		{"smtp-max-conns-per-client", float64(c.MaxConnsPerClient)},
	} {
		// A mail server open to anyone needs these bounds: 0 is refused.
		if l.v <= 0 {
			return fmt.Errorf("invalid --%s %v: want more than 0 (a public mail server needs this bound)", l.name, l.v)
		}
	}
	if c.Subscriptions() {
		if _, _, err := c.DailyTime(); err != nil {
			return err
		}
		if c.MailBaseURL != "" && !strings.HasPrefix(c.MailBaseURL, "https://") && !strings.HasPrefix(c.MailBaseURL, "http://") {
			return fmt.Errorf("invalid --mail-base-url %q: want the web site's absolute URL (https for one-click unsubscribe), for the links of the mail", c.MailBaseURL)
		}
		if c.MailDailyRate < 0 || c.MailBounceLimit < 1 {
			return fmt.Errorf("invalid --mail-daily-rate %v or --mail-bounce-limit %d: want 0 or more, and 1 or more", c.MailDailyRate, c.MailBounceLimit)
		}
	}
	if c.IPRate > 0 && c.IPBurst == 0 {
		return fmt.Errorf("invalid --smtp-ip-burst 0 with --smtp-ip-rate %v: want at least 1", c.IPRate)
	}
	return nil
}

// parseDomains parses --smtp-domain: lower case, without a final dot,
// each once. On error it returns the domains before the one at fault.
func parseDomains(s string) ([]string, error) {
	var ds []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@ <>\"") {
			return ds, fmt.Errorf("invalid --smtp-domain %q: want domain names separated by commas", d)
		}
		if !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("--smtp-domain is empty: name at least one domain to accept mail for")
	}
	return ds, nil
}

// The conversions below are of a valid Config (Validate returned nil); a
// domain Validate would refuse is left out of Addresses.

// Addresses returns the mailboxes c accepts mail for.
func (c *Config) Addresses() Addresses {
	ds, _ := parseDomains(c.domains())
	return Addresses{LocalPart: c.LocalPart, Domains: ds}
}

// hostname returns the name in the greeting and in EHLO: Hostname, or
// else the first of Domains.
func (c *Config) hostname() string {
	if c.Hostname != "" {
		return c.Hostname
	}
	if ds := c.Addresses().Domains; len(ds) > 0 {
		return ds[0]
	}
	return ""
}

// MessageRate returns IPRate, which is per minute, as a rate.Limit.
func (c *Config) MessageRate() rate.Limit { return rate.Limit(c.IPRate / 60) }

// ServerConfig returns the options of the server c describes, with
// ComposeTimeout at DefaultComposeTimeout; TLS, Log and Now are the
// caller's to set.
func (c *Config) ServerConfig() ServerConfig {
	return ServerConfig{
		Addresses:       c.Addresses(),
		Hostname:        c.hostname(),
		MaxMessageBytes: c.MaxSize,
		MaxRecipients:   c.MaxRecipients,
		MaxLineLength:   c.MaxLineLength,
		ReadTimeout:     c.ReadTimeout,
		WriteTimeout:    c.WriteTimeout,
		MaxConns:        c.MaxConns,
		MaxClientConns:  c.MaxConnsPerClient,
		IPRate:          c.MessageRate(),
		IPBurst:         c.IPBurst,
		ComposeTimeout:  DefaultComposeTimeout,
	}
}

// Limits returns the queue's daily reply caps.
func (c *Config) Limits() queue.Limits {
	return queue.Limits{PerRecipient: c.ReplyLimit, PerIP: c.IPReplyLimit}
}

// Delivery returns the settings of delivery; Log and Metrics are the
// caller's to set.
func (c *Config) Delivery() queue.Config {
	var relay *queue.Relay
	if c.Relay != "" {
		relay = &queue.Relay{Addr: c.Relay, TLS: c.RelayTLS, Username: c.RelayUser, Password: c.RelayPassword}
	}
	return queue.Config{
		Relay:       relay,
		DirectMX:    c.DirectMX,
		HeloName:    c.hostname(),
		Concurrency: c.DeliveryConcurrency,
		MaxAge:      c.MaxAge,
		MinBackoff:  c.RetryMin,
		MaxBackoff:  c.RetryMax,
		Timeout:     c.DeliveryTimeout,
	}
}
