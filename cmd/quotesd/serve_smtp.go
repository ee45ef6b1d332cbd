package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	smtpfe "quotesd/frontends/smtp"
	"quotesd/frontends/smtp/queue"
	"quotesd/reactor"
)

// smtpFlags are the --smtp-* flags (see the contract at the top of serve.go).
var smtpFlags struct {
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
	relayPassFile  string
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

// smtpPasswordEnv holds the relay password, so that it appears neither on
// command lines (ps) nor in the settings file.
const smtpPasswordEnv = "QUOTESD_SMTP_RELAY_PASSWORD"

func init() {
	components = append(components, component{
		name:   "smtp",
		flags:  smtpRegister,
		start:  smtpStart,
		reload: smtpReload,
	})
}

func smtpRegister(fs *flag.FlagSet) {
	f := &smtpFlags
	fs.StringVar(&f.addr, "smtp-addr", ":2525", "mail frontend: `address` to listen on for SMTP (systemd socket name: smtp); empty disables")
	fs.StringVar(&f.localPart, "smtp-local-part", "quote", "the `local part` mail is accepted for, at each --smtp-domain; local+command@ subaddresses select commands")
	fs.StringVar(&f.domains, "smtp-domain", defaultSMTPDomains(), "comma-separated `domains` mail is accepted for: this host's name (from the system, not DNS) and localhost by default")
	fs.StringVar(&f.hostname, "smtp-hostname", "", "`name` in the SMTP greeting and in EHLO when delivering (default: the first --smtp-domain)")
	fs.IntVar(&f.replyLimit, "smtp-reply-limit", 3, "most replies per recipient mailbox per day (UTC; a+tag@ counts as a@); 0 for no cap (live)")
	fs.IntVar(&f.ipReplyLimit, "smtp-ip-reply-limit", 50, "most replies caused by one client IP per day (UTC); 0 for no cap (live)")
	fs.Float64Var(&f.ipRate, "smtp-ip-rate", 30, "most messages per minute from one client IP (450 past it); 0 for no limit (live)")
	fs.IntVar(&f.ipBurst, "smtp-ip-burst", 10, "messages one client IP may send at once before --smtp-ip-rate applies (live)")
	fs.Int64Var(&f.maxSize, "smtp-max-size", 64<<10, "largest message accepted, in `bytes` (552 past it): a request is a short mail")
	fs.IntVar(&f.maxRecipients, "smtp-max-recipients", 10, "most recipients per message")
	fs.IntVar(&f.maxLine, "smtp-max-line-length", 2000, "longest command or message line, in bytes")
	fs.DurationVar(&f.readTimeout, "smtp-read-timeout", time.Minute, "how long the server waits for a client's next command or data")
	fs.DurationVar(&f.writeTimeout, "smtp-write-timeout", time.Minute, "how long writing one reply to a client may take")
	fs.IntVar(&f.maxConns, "smtp-max-conns", 100, "most SMTP connections at once; more get 421")
	fs.IntVar(&f.clientConns, "smtp-max-conns-per-client", 10, "most SMTP connections at once from one client (an IPv4 address or an IPv6 /64); more get 421, so that one client cannot take every --smtp-max-conns slot")
	fs.StringVar(&f.relay, "smtp-relay", "", "deliver replies through this relay `host:port`; with neither it nor --smtp-direct-mx, replies are kept in the queue, not delivered")
	fs.BoolVar(&f.directMX, "smtp-direct-mx", false, "deliver replies straight to the recipients' MX hosts, looked up in the system's DNS, never at a loopback, private or other non-public address (not with --smtp-relay)")
	fs.StringVar(&f.relayTLS, "smtp-relay-tls", queue.TLSStartTLS, "TLS to the relay: none, starttls (required and verified) or tls (implicit, port 465)")
	fs.StringVar(&f.relayUser, "smtp-relay-user", "", "AUTH PLAIN `user` at the relay; the password comes from "+smtpPasswordEnv+" or --smtp-relay-password-file")
	fs.StringVar(&f.relayPassFile, "smtp-relay-password-file", "", "`file` holding the relay password (trailing newline ignored)")
	fs.DurationVar(&f.maxAge, "smtp-max-age", 48*time.Hour, "how long a reply may wait for delivery before it is dropped")
	fs.DurationVar(&f.retryMin, "smtp-retry-min", time.Minute, "wait before the first retry of a failed delivery; it doubles, with jitter, up to --smtp-retry-max")
	fs.DurationVar(&f.retryMax, "smtp-retry-max", time.Hour, "longest wait between delivery attempts")
	fs.IntVar(&f.concurrency, "smtp-delivery-concurrency", 4, "most destinations (relay or recipient domains) delivered to at once")
	fs.DurationVar(&f.deliverTimeout, "smtp-delivery-timeout", 2*time.Minute, "bound on connecting and on each SMTP command when delivering")
	fs.StringVar(&f.dkimKey, "smtp-dkim-key", "", "PEM `file` of a private key (RSA or Ed25519) to DKIM-sign replies with; empty: no signing")
	fs.StringVar(&f.dkimSelector, "smtp-dkim-selector", "quotesd", "DKIM `selector`: the key's TXT record is <selector>._domainkey.<domain>")
	fs.StringVar(&f.dkimDomain, "smtp-dkim-domain", "", "DKIM signing `domain` (d=); default the domain of each reply's From address")
	fs.StringVar(&f.tlsCert, "smtp-tls-cert", "", "PEM `file` of the certificate chain to offer with STARTTLS (with --smtp-tls-key); re-read on SIGHUP; empty: plain SMTP only")
	fs.StringVar(&f.tlsKey, "smtp-tls-key", "", "PEM `file` of the private key of --smtp-tls-cert; re-read on SIGHUP")
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
func smtpRelay() (*queue.Relay, error) {
	f := &smtpFlags
	if f.relay == "" {
		return nil, nil
	}
	switch f.relayTLS {
	case queue.TLSNone, queue.TLSStartTLS, queue.TLSImplicit:
	default:
		return nil, usagef("invalid --smtp-relay-tls %q: want none, starttls or tls", f.relayTLS)
	}
	r := &queue.Relay{Addr: f.relay, TLS: f.relayTLS, Username: f.relayUser}
	if f.relayUser != "" {
		r.Password = os.Getenv(smtpPasswordEnv)
		if f.relayPassFile != "" {
			b, err := os.ReadFile(f.relayPassFile)
			if err != nil {
				return nil, fmt.Errorf("reading --smtp-relay-password-file: %w", err)
			}
			r.Password = strings.TrimRight(string(b), "\r\n")
		}
		if r.Password == "" {
			return nil, usagef("--smtp-relay-user is set but no password: set %s or --smtp-relay-password-file", smtpPasswordEnv)
		}
	}
	return r, nil
}

func smtpStart(env *serveEnv) ([]reactor.Service, error) {
	f := &smtpFlags
	if f.addr == "" {
		return nil, nil
	}
	if f.localPart == "" || strings.ContainsAny(f.localPart, "@+ <>\"") {
		return nil, usagef("invalid --smtp-local-part %q: want a plain local part such as quote", f.localPart)
	}
	domains, err := smtpDomains(f.domains)
	if err != nil {
		return nil, err
	}
	hostname := f.hostname
	if hostname == "" {
		hostname = domains[0]
	}
	relay, err := smtpRelay()
	if err != nil {
		return nil, err
	}
	if relay != nil && f.directMX {
		return nil, usagef("--smtp-relay and --smtp-direct-mx both set: choose one way to deliver replies")
	}
	cert, err := smtpCertificate()
	if err != nil {
		return nil, err
	}
	if cert != nil {
		logCertificate(env, cert)
	}
	composer := &smtpfe.Composer{Quoter: env.Quoter, Calendar: env.Calendar, LocalPart: f.localPart}
	if f.dkimKey != "" {
		b, err := os.ReadFile(f.dkimKey)
		if err != nil {
			return nil, fmt.Errorf("reading --smtp-dkim-key: %w", err)
		}
		key, err := smtpfe.ParseDKIMKey(b)
		if err != nil {
			return nil, fmt.Errorf("--smtp-dkim-key %s: %w", f.dkimKey, err)
		}
		if f.dkimSelector == "" {
			return nil, usagef("--smtp-dkim-selector is empty but --smtp-dkim-key is set")
		}
		composer.DKIM = &smtpfe.DKIM{Signer: key, Selector: f.dkimSelector, Domain: f.dkimDomain}
	}

	q, err := queue.Open(env.StateDir, queue.WithLimits(queue.Limits{PerRecipient: f.replyLimit, PerIP: f.ipReplyLimit}))
	if err != nil {
		return nil, err
	}
	ln, err := env.Listeners.Listen("smtp", f.addr)
	if err != nil {
		return nil, errors.Join(err, q.Close())
	}
	cfg := smtpfe.Config{
		Addresses:       smtpfe.Addresses{LocalPart: f.localPart, Domains: domains},
		Hostname:        hostname,
		MaxMessageBytes: f.maxSize,
		MaxRecipients:   f.maxRecipients,
		MaxLineLength:   f.maxLine,
		ReadTimeout:     f.readTimeout,
		WriteTimeout:    f.writeTimeout,
		MaxConns:        f.maxConns,
		MaxClientConns:  f.clientConns,
		IPRate:          rate.Limit(f.ipRate / 60),
		IPBurst:         f.ipBurst,
		TLS:             cert,
		Log:             env.Log,
	}
	srv := smtpfe.New(ln, cfg, composer, q, env.Metrics)
	env.Data = &smtpLive{srv: srv, q: q, cert: cert}
	delivery := queue.NewDelivery(q, queue.Config{
		Relay:       relay,
		DirectMX:    f.directMX,
		HeloName:    hostname,
		Concurrency: f.concurrency,
		MaxAge:      f.maxAge,
		MinBackoff:  f.retryMin,
		MaxBackoff:  f.retryMax,
		Timeout:     f.deliverTimeout,
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
	case f.directMX:
		how = "mx"
	default:
		// quotesd's defaults never resolve or contact a host outside this
		// machine: without a way to deliver, replies wait in the queue.
		env.Log.Warn("smtp: no --smtp-relay and --smtp-direct-mx is off: replies are queued, not delivered")
	}
	env.Log.Info("mail frontend configured", "addresses", f.localPart+"@{"+strings.Join(domains, ",")+"}",
		"queue", q.Path(), "delivery", how, "dkim", composer.DKIM != nil, "starttls", cert != nil)
	return []reactor.Service{srv, delivery}, nil
}

// tlsPairRule is why one of --smtp-tls-cert and --smtp-tls-key is refused
// without the other, at start and on reload.
const tlsPairRule = "--smtp-tls-cert and --smtp-tls-key go together: set both to offer STARTTLS, or neither"

// smtpCertificate reads the STARTTLS certificate named by --smtp-tls-cert
// and --smtp-tls-key, or returns nil when neither is set.
func smtpCertificate() (*smtpfe.Certificate, error) {
	f := &smtpFlags
	if f.tlsCert == "" && f.tlsKey == "" {
		return nil, nil
	}
	if f.tlsCert == "" || f.tlsKey == "" {
		return nil, usagef("%s", tlsPairRule)
	}
	cert, err := smtpfe.LoadCertificate(f.tlsCert, f.tlsKey)
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

// smtpLive is what reload changes in the running frontend.
type smtpLive struct {
	srv  *smtpfe.Server
	q    *queue.Queue
	cert *smtpfe.Certificate // nil: no STARTTLS
}

// smtpReload applies the settings that can change live: the per-IP message
// rate and burst, the daily reply caps, and the STARTTLS certificate, read
// again from its files (renewed certificates). The others (sizes, timeouts,
// names, delivery, turning STARTTLS on or off) take effect at the next
// start.
func smtpReload(env *serveEnv) error {
	live, ok := env.Data.(*smtpLive)
	if !ok {
		return nil // disabled at start
	}
	f := &smtpFlags
	live.srv.SetIPRate(rate.Limit(f.ipRate/60), f.ipBurst)
	live.q.SetLimits(queue.Limits{PerRecipient: f.replyLimit, PerIP: f.ipReplyLimit})
	env.Log.Info("settings applied", "ip_rate_per_minute", f.ipRate, "ip_burst", f.ipBurst,
		"reply_limit", f.replyLimit, "ip_reply_limit", f.ipReplyLimit)
	smtpReloadCertificate(env, live.cert)
	return nil
}

// smtpReloadCertificate reads the STARTTLS certificate again. Whatever goes
// wrong, the certificate in use stays, and the log says why.
func smtpReloadCertificate(env *serveEnv, cert *smtpfe.Certificate) {
	f := &smtpFlags
	switch {
	case cert == nil && (f.tlsCert != "" || f.tlsKey != ""):
		env.Log.Warn("reload: STARTTLS is turned on only at a restart", "setting", "smtp-tls-cert")
	case cert == nil:
	case f.tlsCert == "" && f.tlsKey == "":
		env.Log.Warn("reload: STARTTLS is turned off only at a restart; keeping the current certificate", "setting", "smtp-tls-cert")
	case f.tlsCert == "" || f.tlsKey == "":
		env.Log.Error("reload: keeping the current TLS certificate", "err", tlsPairRule)
	default:
		if err := cert.Reload(f.tlsCert, f.tlsKey); err != nil {
			file, _ := cert.Files()
			env.Log.Error("reload: keeping the current TLS certificate", "cert", file, "err", err)
			return
		}
		logCertificate(env, cert)
	}
}
