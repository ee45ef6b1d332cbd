package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/reactor"
)

func init() {
	register(frontend[smtpfe.Config, *smtpLive]{
		name:    "smtp",
		start:   smtpStart,
		apply:   smtpApply,
		inForce: func(l *smtpLive) smtpfe.Config { return *l.cfg.Load() },
	})
}

func smtpStart(env *serveEnv, c smtpfe.Config) (*smtpLive, []reactor.Service, error) {
	if !c.Enabled() {
		if set := smtpSetWhileOff(c); len(set) > 0 {
			// Mail was on by default (:2525) in 0.1.0: an upgraded
			// installation that configured delivery but no domain
			// would otherwise lose its mail frontend without a word.
			env.Log.Warn("the mail frontend is off: "+strings.Join(set, ", ")+" set, but neither --smtp-domain nor --smtp-addr", "set", strings.Join(set, ","))
		}
		return nil, nil, nil
	}
	cert, err := smtpCertificate(c)
	if err != nil {
		return nil, nil, err
	}
	if cert != nil {
		logCertificate(env, cert)
	}
	composer := &smtpfe.Composer{Quoter: env.Library, Collections: env.Library.Collections, Calendar: env.Calendar, LocalPart: c.LocalPart}
	if c.DKIMKey != "" {
		b, err := os.ReadFile(c.DKIMKey)
		if err != nil {
			return nil, nil, fmt.Errorf("reading --smtp-dkim-key: %w", err)
		}
		key, err := smtpfe.ParseDKIMKey(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--smtp-dkim-key %s: %w", c.DKIMKey, err)
		}
		composer.DKIM = &smtpfe.DKIM{Signer: key, Selector: c.DKIMSelector, Domain: c.DKIMDomain}
	}

	q, err := openMailQueue(env, queue.WithLimits(c.Limits()))
	if err != nil {
		return nil, nil, err
	}
	ln, err := env.Listeners.Listen("smtp", c.ListenAddr())
	if err != nil {
		return nil, nil, errors.Join(err, q.Close())
	}
	cfg := c.ServerConfig()
	cfg.TLS, cfg.Log = cert, env.Log
	srv := smtpfe.New(ln, cfg, composer, q, env.Metrics)
	live := &smtpLive{env: env, srv: srv, q: q, cert: cert}
	live.cfg.Store(&c)
	dcfg := c.Delivery()
	dcfg.Log, dcfg.Metrics = env.Log, queue.NewMetrics(env.Metrics)
	delivery := queue.NewDelivery(q, dcfg)
	if env.Ready != nil {
		env.Ready.Add("mail queue: cannot write its database; delivery paused (see the logs)", delivery.Ready)
	}
	how := "hold"
	switch {
	case dcfg.Relay != nil:
		how = "relay " + dcfg.Relay.Addr + " (" + dcfg.Relay.TLS + ")"
	case dcfg.DirectMX:
		how = "mx"
	default:
		// quotesd's defaults never resolve or contact a host outside this
		// machine: without a way to deliver, replies wait in the queue.
		env.Log.Warn("smtp: no --smtp-relay and --smtp-direct-mx is off: replies are queued, not delivered")
	}
	env.Log.Info("mail frontend configured", "addresses", c.LocalPart+"@{"+strings.Join(cfg.Addresses.Domains, ",")+"}",
		"queue", q.Path(), "delivery", how, "dkim", composer.DKIM != nil, "starttls", cert != nil)
	services := []reactor.Service{srv, delivery}
	if c.Subscriptions() {
		daily, err := smtpSubscriptions(env, c, srv, composer, q)
		if err != nil {
			return nil, nil, errors.Join(err, q.Close())
		}
		services = append(services, daily)
	}
	return live, services, nil
}

// smtpSubscriptions turns on the mail subscriptions (--mail-daily): the
// server handles their commands and bounces, the daily mail runs as a
// service of its own, and the web frontend, started after this one,
// serves their links.
func smtpSubscriptions(env *serveEnv, c smtpfe.Config, srv *smtpfe.Server, composer *smtpfe.Composer, q *queue.Queue) (*smtpfe.Daily, error) {
	hour, minute, err := c.DailyTime()
	if err != nil {
		return nil, err
	}
	base := c.MailBaseURL
	if base == "" {
		base = env.SiteURL
	}
	if base == "" {
		return nil, fmt.Errorf("--mail-daily is set but neither --mail-base-url nor --web-base-url is: the mail's confirm and unsubscribe links need the web site's public URL")
	}
	sub := &smtpfe.Subscriptions{Store: q, Composer: composer, Addresses: c.Addresses(),
		BaseURL: strings.TrimRight(base, "/"), BounceLimit: c.MailBounceLimit, Log: env.Log}
	srv.SetSubscriptions(sub)
	if env.Between != nil {
		env.Between.Subscribers, env.Between.Requester = q, sub
	}
	env.Log.Info("mail subscriptions on", "daily", c.MailDaily, "zone", env.Calendar.Zone().String(),
		"rate_per_domain_per_minute", c.MailDailyRate, "base_url", sub.BaseURL)
	return &smtpfe.Daily{Subs: sub, Hour: hour, Minute: minute, Rate: c.MailDailyRate}, nil
}

// openMailQueue opens the mail queue: in the PostgreSQL database that
// --db names, shared by every replica that names it too, or else in an
// SQLite file of the state directory, this process's own.
func openMailQueue(env *serveEnv, opts ...queue.Option) (*queue.Queue, error) {
	if postgres.IsURL(env.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return queue.OpenPostgres(ctx, env.DB, opts...)
	}
	return queue.Open(env.StateDir, opts...)
}

// smtpCertificate reads the STARTTLS certificate named by --smtp-tls-cert
// and --smtp-tls-key, or returns nil when neither is set.
func smtpCertificate(c smtpfe.Config) (*smtpfe.Certificate, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := smtpfe.LoadCertificate(c.TLSCert, c.TLSKey)
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

// smtpSetWhileOff returns the flags of mail delivery and signing that c
// sets, for a warning when the frontend is off.
func smtpSetWhileOff(c smtpfe.Config) []string {
	var set []string
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"--smtp-relay", c.Relay != ""}, {"--smtp-direct-mx", c.DirectMX}, {"--smtp-hostname", c.Hostname != ""},
		{"--smtp-dkim-key", c.DKIMKey != ""}, {"--smtp-tls-cert", c.TLSCert != ""},
	} {
		if f.on {
			set = append(set, f.name)
		}
	}
	return set
}

// smtpLive is what a reload changes in the running frontend.
type smtpLive struct {
	env  *serveEnv
	srv  *smtpfe.Server
	q    *queue.Queue
	cert *smtpfe.Certificate // nil: no STARTTLS
	cfg  atomic.Pointer[smtpfe.Config]
}

// smtpApply applies the settings that can change live: the per-client
// message rate and burst and the daily reply caps. Whatever SIGHUP
// changes, the STARTTLS certificate is read again from its files (renewed
// certificates); the file names themselves, and turning STARTTLS on or
// off, need a restart.
func smtpApply(live *smtpLive, c smtpfe.Config) error {
	live.srv.SetIPRate(c.MessageRate(), c.IPBurst)
	live.q.SetLimits(c.Limits())
	live.cfg.Store(&c)
	if live.cert != nil {
		if err := live.cert.Reload(c.TLSCert, c.TLSKey); err != nil {
			file, _ := live.cert.Files()
			live.env.Log.Error("reload: keeping the current TLS certificate", "cert", file, "err", err)
			return nil
		}
		logCertificate(live.env, live.cert)
	}
	return nil
}
