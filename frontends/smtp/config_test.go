package smtp_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
)

func TestConfig_DefaultsAreValidAndMatchTheConstants(t *testing.T) {
	c := smtpfe.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	want := smtpfe.Config{
		LocalPart:  smtpfe.DefaultLocalPart,
		ReplyLimit: smtpfe.DefaultReplyLimit, IPReplyLimit: smtpfe.DefaultIPReplyLimit,
		IPRate: smtpfe.DefaultIPRate, IPBurst: smtpfe.DefaultIPBurst,
		MaxSize: smtpfe.DefaultMaxSize, MaxRecipients: smtpfe.DefaultMaxRecipients, MaxLineLength: smtpfe.DefaultMaxLineLength,
		ReadTimeout: smtpfe.DefaultReadTimeout, WriteTimeout: smtpfe.DefaultWriteTimeout,
		MaxConns: smtpfe.DefaultMaxConns, MaxConnsPerClient: smtpfe.DefaultMaxConnsPerClient,
		RelayTLS: smtpfe.DefaultRelayTLS, MaxAge: smtpfe.DefaultMaxAge,
		RetryMin: smtpfe.DefaultRetryMin, RetryMax: smtpfe.DefaultRetryMax,
		DeliveryConcurrency: smtpfe.DefaultDeliveryConcurrency, DeliveryTimeout: smtpfe.DefaultDeliveryTimeout,
		DKIMSelector:  smtpfe.DefaultDKIMSelector,
		MailDailyRate: smtpfe.DefaultMailDailyRate, MailBounceLimit: smtpfe.DefaultBounceLimit,
	}
	if c != want {
		t.Errorf("DefaultConfig() = %+v, want %+v", c, want)
	}
	if c.Enabled() {
		t.Errorf("the mail frontend is on by default, want it off until --smtp-domain or --smtp-addr is given")
	}
	c.Addr = "127.0.0.1:25"
	if !c.Enabled() || c.ListenAddr() != "127.0.0.1:25" {
		t.Errorf("with --smtp-addr: enabled %v, listening on %q", c.Enabled(), c.ListenAddr())
	}
	if ds := c.Addresses().Domains; len(ds) == 0 || ds[len(ds)-1] != "localhost" {
		t.Errorf("default domains %q, want this host's name and localhost", ds)
	}
	c.Addr, c.Domains = "", "example.org"
	if !c.Enabled() || c.ListenAddr() != smtpfe.DefaultAddr || !strings.HasPrefix(smtpfe.DefaultAddr, "127.0.0.1:") {
		t.Errorf("with --smtp-domain only: enabled %v, listening on %q, want loopback", c.Enabled(), c.ListenAddr())
	}
}

func TestConfig_ValidateNamesTheFlagAtFault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*smtpfe.Config)
		want   string
	}{
		{"local part with an @", func(c *smtpfe.Config) { c.LocalPart = "quote@example.org" }, "--smtp-local-part"},
		{"empty local part", func(c *smtpfe.Config) { c.LocalPart = "" }, "--smtp-local-part"},
		{"no domain", func(c *smtpfe.Config) { c.Domains = " , " }, "--smtp-domain"},
		{"a domain with a space", func(c *smtpfe.Config) { c.Domains = "example.org,exa mple.org" }, "--smtp-domain"},
		{"unknown relay TLS", func(c *smtpfe.Config) { c.RelayTLS = "ssl" }, "--smtp-relay-tls"},
		{"relay and direct MX", func(c *smtpfe.Config) { c.Relay, c.DirectMX = "127.0.0.1:25", true }, "--smtp-direct-mx"},
		{"relay user without a password", func(c *smtpfe.Config) { c.Relay, c.RelayUser = "127.0.0.1:25", "quotesd" }, "QUOTESD_SMTP_RELAY_PASSWORD"},
		{"certificate without a key", func(c *smtpfe.Config) { c.TLSCert = "cert.pem" }, "--smtp-tls-key"},
		{"key without a certificate", func(c *smtpfe.Config) { c.TLSKey = "key.pem" }, "--smtp-tls-cert"},
		{"DKIM key without a selector", func(c *smtpfe.Config) { c.DKIMKey, c.DKIMSelector = "dkim.pem", "" }, "--smtp-dkim-selector"},
		{"negative reply cap", func(c *smtpfe.Config) { c.ReplyLimit = -1 }, "--smtp-reply-limit"},
		{"negative client reply cap", func(c *smtpfe.Config) { c.IPReplyLimit = -1 }, "--smtp-ip-reply-limit"},
		{"negative rate", func(c *smtpfe.Config) { c.IPRate = -0.5 }, "--smtp-ip-rate"},
		{"negative burst", func(c *smtpfe.Config) { c.IPBurst = -1 }, "--smtp-ip-burst"},
		{"a rate without a burst", func(c *smtpfe.Config) { c.IPBurst = 0 }, "--smtp-ip-burst"},
		// A mail server open to anyone needs these bounds: 0 is refused.
		{"no size limit", func(c *smtpfe.Config) { c.MaxSize = 0 }, "--smtp-max-size"},
		{"no recipient limit", func(c *smtpfe.Config) { c.MaxRecipients = 0 }, "--smtp-max-recipients"},
		{"no line limit", func(c *smtpfe.Config) { c.MaxLineLength = 0 }, "--smtp-max-line-length"},
		{"no read timeout", func(c *smtpfe.Config) { c.ReadTimeout = 0 }, "--smtp-read-timeout"},
		{"negative write timeout", func(c *smtpfe.Config) { c.WriteTimeout = -time.Second }, "--smtp-write-timeout"},
		{"no connection cap", func(c *smtpfe.Config) { c.MaxConns = 0 }, "--smtp-max-conns"},
		{"no connection cap per client", func(c *smtpfe.Config) { c.MaxConnsPerClient = 0 }, "--smtp-max-conns-per-client"},
		{"no maximum age", func(c *smtpfe.Config) { c.MaxAge = 0 }, "--smtp-max-age"},
		{"no first retry wait", func(c *smtpfe.Config) { c.RetryMin = 0 }, "--smtp-retry-min"},
		{"no longest retry wait", func(c *smtpfe.Config) { c.RetryMax = 0 }, "--smtp-retry-max"},
		{"no delivery concurrency", func(c *smtpfe.Config) { c.DeliveryConcurrency = 0 }, "--smtp-delivery-concurrency"},
		{"no delivery timeout", func(c *smtpfe.Config) { c.DeliveryTimeout = 0 }, "--smtp-delivery-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smtpfe.DefaultConfig()
			c.Addr = smtpfe.DefaultAddr
			tc.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestConfig_ZeroIsNoLimitForTheCapsAndTheRate(t *testing.T) {
	c := smtpfe.DefaultConfig()
	c.Addr = smtpfe.DefaultAddr
	c.ReplyLimit, c.IPReplyLimit, c.IPRate, c.IPBurst = 0, 0, 0, 0
	if err := c.Validate(); err != nil {
		t.Errorf("no reply caps and no message rate: %v, want valid", err)
	}
}

func TestConfig_DisabledFrontendIsValidWhateverElse(t *testing.T) {
	c := smtpfe.Config{} // every bound 0, but no address
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() of a disabled frontend = %v, want nil", err)
	}
}

func TestConfig_ConvertsToTheServerQueueAndDeliveryOptions(t *testing.T) {
	c := smtpfe.DefaultConfig()
	c.Domains = "Quotes.Example.ORG., localhost,quotes.example.org"
	c.IPRate = 6
	c.Relay, c.RelayUser, c.RelayPassword = "127.0.0.1:587", "quotesd", "s3cret"

	srv := c.ServerConfig()
	wantAddrs := smtpfe.Addresses{LocalPart: smtpfe.DefaultLocalPart, Domains: []string{"quotes.example.org", "localhost"}}
	if !reflect.DeepEqual(srv.Addresses, wantAddrs) {
		t.Errorf("ServerConfig().Addresses = %+v, want %+v", srv.Addresses, wantAddrs)
	}
	if srv.Hostname != "quotes.example.org" {
		t.Errorf("ServerConfig().Hostname = %q, want the first domain", srv.Hostname)
	}
	if srv.IPRate != rate.Limit(0.1) || srv.IPBurst != smtpfe.DefaultIPBurst {
		t.Errorf("ServerConfig() rate %v burst %d, want 0.1/s (6 a minute) burst %d", srv.IPRate, srv.IPBurst, smtpfe.DefaultIPBurst)
	}
	if srv.MaxMessageBytes != smtpfe.DefaultMaxSize || srv.MaxRecipients != smtpfe.DefaultMaxRecipients ||
		srv.MaxLineLength != smtpfe.DefaultMaxLineLength || srv.ReadTimeout != smtpfe.DefaultReadTimeout ||
		srv.WriteTimeout != smtpfe.DefaultWriteTimeout || srv.MaxConns != smtpfe.DefaultMaxConns ||
		srv.MaxClientConns != smtpfe.DefaultMaxConnsPerClient || srv.ComposeTimeout != smtpfe.DefaultComposeTimeout {
		t.Errorf("ServerConfig() = %+v, want the defaults' limits", srv)
	}

	if got, want := c.Limits(), (queue.Limits{PerRecipient: smtpfe.DefaultReplyLimit, PerIP: smtpfe.DefaultIPReplyLimit}); got != want {
		t.Errorf("Limits() = %+v, want %+v", got, want)
	}

	d := c.Delivery()
	wantRelay := queue.Relay{Addr: "127.0.0.1:587", TLS: smtpfe.DefaultRelayTLS, Username: "quotesd", Password: "s3cret"}
	if d.Relay == nil || *d.Relay != wantRelay {
		t.Errorf("Delivery().Relay = %+v, want %+v", d.Relay, wantRelay)
	}
	if d.HeloName != "quotes.example.org" || d.Concurrency != smtpfe.DefaultDeliveryConcurrency || d.MaxAge != smtpfe.DefaultMaxAge ||
		d.MinBackoff != smtpfe.DefaultRetryMin || d.MaxBackoff != smtpfe.DefaultRetryMax || d.Timeout != smtpfe.DefaultDeliveryTimeout {
		t.Errorf("Delivery() = %+v, want the defaults' delivery settings, EHLO as the first domain", d)
	}

	c.Hostname, c.Relay = "mx.example.org", ""
	if got := c.ServerConfig().Hostname; got != "mx.example.org" {
		t.Errorf("ServerConfig().Hostname = %q with --smtp-hostname mx.example.org", got)
	}
	if d := c.Delivery(); d.Relay != nil || d.HeloName != "mx.example.org" {
		t.Errorf("Delivery() without a relay = relay %+v, EHLO %q; want none, mx.example.org", d.Relay, d.HeloName)
	}
}
