package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	smtpfe "quotesd/frontends/smtp"
	"quotesd/frontends/smtp/queue"
	"quotesd/reactor"
	"quotesd/settings"
)

// smtpConfig is the mail frontend's settings: the server's, the reply
// caps of its queue, and delivery's.
type smtpConfig struct {
	addr           string
	localPart      string
	domains        string
	hostname       string
	replyLimit     int
	ipReplyLimit   int
	ipRate         float64
	ipBurst        int
	maxSize        int64
	maxRecipients  int
	maxLine        int
	readTimeout    time.Duration
	writeTimeout   time.Duration
	maxConns       int
	clientConns    int
	relay          string
	directMX       bool
	relayTLS       string
	relayUser      string
	relayPassword  string
	maxAge         time.Duration
	retryMin       time.Duration
	retryMax       time.Duration
	concurrency    int
	deliverTimeout time.Duration
	dkimKey        string
	dkimSelector   string
	dkimDomain     string
	tlsCert        string
	tlsKey         string
}

func init() {
	register(frontend[smtpConfig, *smtpLive]{
		name:    "smtp",
		start:   smtpStart,
		apply:   smtpApply,
		inForce: func(l *smtpLive) smtpConfig { return *l.cfg.Load() },
	})
}

// Declare binds c's fields to the --smtp-* settings on s.
func (c *smtpConfig) Declare(s *settings.Set) {
	s.String(&c.addr, "smtp-addr", ":2525", "mail frontend: `address` to listen on for SMTP (systemd socket name: smtp); empty disables", settings.Example("127.0.0.1:25"))
	s.String(&c.localPart, "smtp-local-part", "quote", "the `local part` mail is accepted for, at each --smtp-domain; local+command@ subaddresses select commands", settings.Example("quotes"))
	s.String(&c.domains, "smtp-domain", defaultSMTPDomains(), "comma-separated `domains` mail is accepted for: this host's name (from the system, not DNS) and localhost by default", settings.Example("example.org"))
	s.String(&c.hostname, "smtp-hostname", "", "`name` in the SMTP greeting and in EHLO when delivering (default: the first --smtp-domain)", settings.Example("mail.example.org"))
	s.Int(&c.replyLimit, "smtp-reply-limit", 3, "most replies per recipient mailbox per day (UTC; a+tag@ counts as a@); 0 for no cap", settings.Live)
	s.Int(&c.ipReplyLimit, "smtp-ip-reply-limit", 50, "most replies caused by one client (an IPv4 address or an IPv6 /64) per day (UTC); 0 for no cap", settings.Live)
	s.Float(&c.ipRate, "smtp-ip-rate", 30, "most messages per minute from one client (450 past it); 0 for no limit", settings.Live)
	s.Int(&c.ipBurst, "smtp-ip-burst", 10, "messages one client may send at once before --smtp-ip-rate applies", settings.Live)
	s.Int64(&c.maxSize, "smtp-max-size", 64<<10, "largest message accepted, in `bytes` (552 past it): a request is a short mail")
	s.Int(&c.maxRecipients, "smtp-max-recipients", 10, "most recipients per message")
	s.Int(&c.maxLine, "smtp-max-line-length", 2000, "longest command or message line, in bytes")
	s.Duration(&c.readTimeout, "smtp-read-timeout", time.Minute, "how long the server waits for a client's next command or data")
	s.Duration(&c.writeTimeout, "smtp-write-timeout", time.Minute, "how long writing one reply to a client may take")
	s.Int(&c.maxConns, "smtp-max-conns", 100, "most SMTP connections at once; more get 421")
	s.Int(&c.clientConns, "smtp-max-conns-per-client", 10, "most SMTP connections at once from one client (an IPv4 address or an IPv6 /64); more get 421, so that one client cannot take every --smtp-max-conns slot")
	s.String(&c.relay, "smtp-relay", "", "deliver replies through this relay `host:port`; with neither it nor --smtp-direct-mx, replies are kept in the queue, not delivered", settings.Example("127.0.0.1:25"))
	s.Bool(&c.directMX, "smtp-direct-mx", false, "deliver replies straight to the recipients' MX hosts, looked up in the system's DNS, never at a loopback, private or other non-public address (not with --smtp-relay)")
	s.String(&c.relayTLS, "smtp-relay-tls", queue.TLSStartTLS, "TLS to the relay: none, starttls (required and verified) or tls (implicit, port 465)", settings.Example(queue.TLSImplicit))
	s.String(&c.relayUser, "smtp-relay-user", "", "AUTH PLAIN `user` at the relay; its password is the secret smtp-relay-password", settings.Example("quotesd"))
	s.Secret(&c.relayPassword, "smtp-relay-password", "the relay's AUTH PLAIN password")
	s.Duration(&c.maxAge, "smtp-max-age", 48*time.Hour, "how long a reply may wait for delivery before it is dropped")
	s.Duration(&c.retryMin, "smtp-retry-min", time.Minute, "wait before the first retry of a failed delivery; it doubles, with jitter, up to --smtp-retry-max")
	s.Duration(&c.retryMax, "smtp-retry-max", time.Hour, "longest wait between delivery attempts")
	s.Int(&c.concurrency, "smtp-delivery-concurrency", 4, "most destinations (relay or recipient domains) delivered to at once")
	s.Duration(&c.deliverTimeout, "smtp-delivery-timeout", 2*time.Minute, "bound on connecting and on each SMTP command when delivering")
	s.String(&c.dkimKey, "smtp-dkim-key", "", "PEM `file` of a private key (RSA or Ed25519) to DKIM-sign replies with; empty: no signing", settings.Example("dkim.pem"))
	s.String(&c.dkimSelector, "smtp-dkim-selector", "quotesd", "DKIM `selector`: the key's TXT record is <selector>._domainkey.<domain>", settings.Example("mail2026"))
	s.String(&c.dkimDomain, "smtp-dkim-domain", "", "DKIM signing `domain` (d=); default the domain of each reply's From address", settings.Example("example.org"))
	s.String(&c.tlsCert, "smtp-tls-cert", "", "PEM `file` of the certificate chain to offer with STARTTLS (with --smtp-tls-key); the files are read again on every SIGHUP; empty: plain SMTP only")
	s.String(&c.tlsKey, "smtp-tls-key", "", "PEM `file` of the private key of --smtp-tls-cert")
}

// Validate checks c, naming the flag at fault.
func (c *smtpConfig) Validate() error {
	if c.addr == "" {
		return nil
	}
	if c.localPart == "" || strings.ContainsAny(c.localPart, "@+ <>\"") {
		return usagef("invalid --smtp-local-part %q: want a plain local part such as quote", c.localPart)
	}
	if _, err := smtpDomains(c.domains); err != nil {
		return err
	}
	switch c.relayTLS {
	case queue.TLSNone, queue.TLSStartTLS, queue.TLSImplicit:
	default:
		return usagef("invalid --smtp-relay-tls %q: want none, starttls or tls", c.relayTLS)
	}
	if c.relay != "" && c.directMX {
		return usagef("--smtp-relay and --smtp-direct-mx both set: choose one way to deliver replies")
	}
	if c.relay != "" && c.relayUser != "" && c.relayPassword == "" {
		return usagef("--smtp-relay-user is set but no password: set QUOTESD_SMTP_RELAY_PASSWORD or --smtp-relay-password-file")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return usagef("%s", tlsPairRule)
	}
	if c.dkimKey != "" && c.dkimSelector == "" {
		return usagef("--smtp-dkim-selector is empty but --smtp-dkim-key is set")
	}
	for _, l := range []struct {
		name string
		v    float64
	}{
		{"smtp-reply-limit", float64(c.replyLimit)}, {"smtp-ip-reply-limit", float64(c.ipReplyLimit)},
		{"smtp-ip-rate", c.ipRate}, {"smtp-ip-burst", float64(c.ipBurst)},
	} {
		if l.v < 0 {
			return usagef("invalid --%s %v: want 0 (no limit) or more", l.name, l.v)
		}
	}
	for _, l := range []struct {
		name string
		v    float64
	}{
		{"smtp-max-size", float64(c.maxSize)}, {"smtp-max-recipients", float64(c.maxRecipients)}, {"smtp-max-line-length", float64(c.maxLine)},
		{"smtp-read-timeout", float64(c.readTimeout)}, {"smtp-write-timeout", float64(c.writeTimeout)}, {"smtp-max-age", float64(c.maxAge)},
		{"smtp-retry-min", float64(c.retryMin)}, {"smtp-retry-max", float64(c.retryMax)}, {"smtp-delivery-timeout", float64(c.deliverTimeout)},
		{"smtp-delivery-concurrency", float64(c.concurrency)}, {"smtp-max-conns", float64(c.maxConns)},
		{"smtp-max-conns-per-client", float64(c.clientConns)},
	} {
		// A mail server open to anyone needs these bounds: 0 is refused.
		if l.v <= 0 {
			return usagef("invalid --%s %v: want more than 0 (a public mail server needs this bound)", l.name, l.v)
		}
	}
	if c.ipRate > 0 && c.ipBurst == 0 {
		return usagef("invalid --smtp-ip-burst 0 with --smtp-ip-rate %v: want at least 1", c.ipRate)
	}
	return nil
}

// defaultSMTPDomains is this host's name and localhost. The name comes from
// os.Hostname, never from DNS: quotesd resolves nothing at start.
func defaultSMTPDomains() string {
	ds := []string{}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		ds = append(ds, strings.ToLower(h))
	}
	return strings.Join(append(ds, "localhost"), ",")
}

// smtpDomains parses --smtp-domain.
func smtpDomains(s string) ([]string, error) {
	var ds []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@ <>\"") {
			return nil, usagef("invalid --smtp-domain %q: want domain names separated by commas", d)
		}
		if !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return nil, usagef("--smtp-domain is empty: name at least one domain to accept mail for")
	}
	return ds, nil
}

// smtpRelay builds the relay settings, or nil for direct delivery.
func smtpRelay(c smtpConfig) *queue.Relay {
	if c.relay == "" {
		return nil
	}
	return &queue.Relay{Addr: c.relay, TLS: c.relayTLS, Username: c.relayUser, Password: c.relayPassword}
}

func smtpStart(env *serveEnv, c smtpConfig) (*smtpLive, []reactor.Service, error) {
	if c.addr == "" {
		return nil, nil, nil
	}
	domains, err := smtpDomains(c.domains)
	if err != nil {
		return nil, nil, err
	}
	hostname := c.hostname
	if hostname == "" {
		hostname = domains[0]
	}
	relay := smtpRelay(c)
	cert, err := smtpCertificate(c)
	if err != nil {
		return nil, nil, err
	}
	if cert != nil {
		logCertificate(env, cert)
	}
	composer := &smtpfe.Composer{Quoter: env.Quoter, Calendar: env.Calendar, LocalPart: c.localPart}
	if c.dkimKey != "" {
		b, err := os.ReadFile(c.dkimKey)
		if err != nil {
			return nil, nil, fmt.Errorf("reading --smtp-dkim-key: %w", err)
		}
		key, err := smtpfe.ParseDKIMKey(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--smtp-dkim-key %s: %w", c.dkimKey, err)
		}
		composer.DKIM = &smtpfe.DKIM{Signer: key, Selector: c.dkimSelector, Domain: c.dkimDomain}
	}

	q, err := queue.Open(env.StateDir, queue.WithLimits(queue.Limits{PerRecipient: c.replyLimit, PerIP: c.ipReplyLimit}))
	if err != nil {
		return nil, nil, err
	}
	ln, err := env.Listeners.Listen("smtp", c.addr)
	if err != nil {
		return nil, nil, errors.Join(err, q.Close())
	}
	cfg := smtpfe.ServerConfig{
		Addresses:       smtpfe.Addresses{LocalPart: c.localPart, Domains: domains},
		Hostname:        hostname,
		MaxMessageBytes: c.maxSize,
		MaxRecipients:   c.maxRecipients,
		MaxLineLength:   c.maxLine,
		ReadTimeout:     c.readTimeout,
		WriteTimeout:    c.writeTimeout,
		MaxConns:        c.maxConns,
		MaxClientConns:  c.clientConns,
		IPRate:          rate.Limit(c.ipRate / 60),
		IPBurst:         c.ipBurst,
		TLS:             cert,
		Log:             env.Log,
	}
	srv := smtpfe.New(ln, cfg, composer, q, env.Metrics)
	live := &smtpLive{env: env, srv: srv, q: q, cert: cert}
	live.cfg.Store(&c)
	delivery := queue.NewDelivery(q, queue.Config{
		Relay:       relay,
		DirectMX:    c.directMX,
		HeloName:    hostname,
		Concurrency: c.concurrency,
		MaxAge:      c.maxAge,
		MinBackoff:  c.retryMin,
		MaxBackoff:  c.retryMax,
		Timeout:     c.deliverTimeout,
		Log:         env.Log,
		Metrics:     queue.NewMetrics(env.Metrics),
	})
	if env.Ready != nil {
		env.Ready.Add("mail queue: cannot write its database; delivery paused (see the logs)", delivery.Ready)
	}
	how := "hold"
	switch {
	case relay != nil:
		how = "relay " + relay.Addr + " (" + relay.TLS + ")"
	case c.directMX:
		how = "mx"
	default:
		// quotesd's defaults never resolve or contact a host outside this
		// machine: without a way to deliver, replies wait in the queue.
		env.Log.Warn("smtp: no --smtp-relay and --smtp-direct-mx is off: replies are queued, not delivered")
	}
	env.Log.Info("mail frontend configured", "addresses", c.localPart+"@{"+strings.Join(domains, ",")+"}",
		"queue", q.Path(), "delivery", how, "dkim", composer.DKIM != nil, "starttls", cert != nil)
	return live, []reactor.Service{srv, delivery}, nil
}

// tlsPairRule is why one of --smtp-tls-cert and --smtp-tls-key is refused
// without the other, at start and on reload.
const tlsPairRule = "--smtp-tls-cert and --smtp-tls-key go together: set both to offer STARTTLS, or neither"

// smtpCertificate reads the STARTTLS certificate named by --smtp-tls-cert
// and --smtp-tls-key, or returns nil when neither is set.
func smtpCertificate(c smtpConfig) (*smtpfe.Certificate, error) {
	if c.tlsCert == "" {
		return nil, nil
	}
	cert, err := smtpfe.LoadCertificate(c.tlsCert, c.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--smtp-tls-cert/--smtp-tls-key: %w", err)
	}
	return cert, nil
}

// logCertificate says which certificate STARTTLS now offers, and warns when
// it has expired: senders that check certificates would then fall back to
// plain text or refuse to deliver.
func logCertificate(env *serveEnv, cert *smtpfe.Certificate) {
	file, _ := cert.Files()
	names := strings.Join(cert.Names(), ",")
	exp := cert.NotAfter()
	if time.Now().After(exp) {
		env.Log.Warn("smtp TLS certificate has expired", "cert", file, "names", names, "not_after", exp)
		return
	}
	env.Log.Info("smtp TLS certificate loaded", "cert", file, "names", names, "not_after", exp)
}

// smtpLive is what a reload changes in the running frontend.
type smtpLive struct {
	env  *serveEnv
	srv  *smtpfe.Server
	q    *queue.Queue
	cert *smtpfe.Certificate // nil: no STARTTLS
	cfg  atomic.Pointer[smtpConfig]
}

// smtpApply applies the settings that can change live: the per-client
// message rate and burst and the daily reply caps. Whatever SIGHUP
// changes, the STARTTLS certificate is read again from its files (renewed
// certificates); the file names themselves, and turning STARTTLS on or
// off, need a restart.
func smtpApply(live *smtpLive, c smtpConfig) error {
	live.srv.SetIPRate(rate.Limit(c.ipRate/60), c.ipBurst)
	live.q.SetLimits(queue.Limits{PerRecipient: c.replyLimit, PerIP: c.ipReplyLimit})
	live.cfg.Store(&c)
	if live.cert != nil {
		if err := live.cert.Reload(c.tlsCert, c.tlsKey); err != nil {
			file, _ := live.cert.Files()
			live.env.Log.Error("reload: keeping the current TLS certificate", "cert", file, "err", err)
			return nil
		}
		logCertificate(live.env, live.cert)
	}
	return nil
}
