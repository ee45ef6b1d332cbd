package irc

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/settings"
)

func TestConfig_DefaultsAreValidAndMatchTheConstants(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	want := Config{
		TLS: DefaultTLS, Nick: DefaultNick, RealName: DefaultRealName, Prefix: DefaultPrefix,
		RejoinDelay: DefaultRejoinDelay, UserCooldown: DefaultUserCooldown, ChannelCooldown: DefaultChannelCooldown,
		CTCPInterval: DefaultCTCPInterval, SendInterval: DefaultSendInterval, SendBurst: DefaultSendBurst,
		PingInterval: DefaultPingInterval, RegainInterval: DefaultRegainInterval, RegisterWait: DefaultRegisterWait,
		BackoffMin: DefaultBackoffMin, BackoffMax: DefaultBackoffMax, HealthyAfter: DefaultHealthyAfter,
		CurationCap: DefaultCurationCap,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("DefaultConfig() = %+v, want %+v", c, want)
	}
}

func TestConfig_ValidateNamesTheFlagAtFault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no port", func(c *Config) { c.Server = "irc.test" }, "--irc-server"},
		{"bad nick", func(c *Config) { c.Nick = "1bad nick" }, "--irc-nick"},
		{"no nick", func(c *Config) { c.Nick = "" }, "--irc-nick"},
		{"user of two words", func(c *Config) { c.User = "a b" }, "--irc-user"},
		{"newline in the real name", func(c *Config) { c.RealName = "a\nQUIT" }, "--irc-realname"},
		{"no real name", func(c *Config) { c.RealName = "" }, "--irc-realname"},
		{"newline in the password", func(c *Config) { c.Password = "a\r\nQUIT" }, "--irc-password-file"},
		{"not a channel", func(c *Config) { c.Channels = []Channel{{Name: "quotes"}} }, "--irc-channels"},
		{"key of two words", func(c *Config) { c.Channels = []Channel{{Name: "#q", Key: "a b"}} }, "--irc-channels"},
		{"SASL without a password", func(c *Config) { c.SASLUser = "bot" }, "QUOTESD_IRC_SASL_PASSWORD"},
		{"SASL without TLS", func(c *Config) { c.SASLUser, c.SASLPassword, c.TLS = "bot", "pw", false }, "--irc-tls"},
		{"no prefix", func(c *Config) { c.Prefix = "" }, "--irc-prefix"},
		{"prefix with a space", func(c *Config) { c.Prefix = "! " }, "--irc-prefix"},
		{"bad daily time", func(c *Config) { c.Daily = "25:00" }, "--irc-daily"},
		{"daily time without minutes", func(c *Config) { c.Daily = "9am" }, "HH:MM"},
		{"negative rejoin delay", func(c *Config) { c.RejoinDelay = -time.Second }, "--irc-rejoin-delay"},
		{"negative user cooldown", func(c *Config) { c.UserCooldown = -time.Second }, "--irc-user-cooldown"},
		{"negative channel cooldown", func(c *Config) { c.ChannelCooldown = -time.Second }, "--irc-channel-cooldown"},
		{"negative CTCP interval", func(c *Config) { c.CTCPInterval = -time.Second }, "--irc-ctcp-interval"},
		{"negative send interval", func(c *Config) { c.SendInterval = -time.Second }, "--irc-send-interval"},
		// irc.v4 would fail every write, and the bot reconnect for ever.
		{"no send burst", func(c *Config) { c.SendBurst = 0 }, "--irc-send-burst"},
		// A dead server would never be noticed.
		{"no ping interval", func(c *Config) { c.PingInterval = 0 }, "--irc-ping-interval"},
		{"negative ping interval", func(c *Config) { c.PingInterval = -time.Second }, "--irc-ping-interval"},
		// The fields that are not settings name themselves.
		{"negative regain interval", func(c *Config) { c.RegainInterval = -1 }, "RegainInterval"},
		{"negative healthy session", func(c *Config) { c.HealthyAfter = -1 }, "HealthyAfter"},
		{"no registration bound", func(c *Config) { c.RegisterWait = 0 }, "RegisterWait"},
		{"no reconnect wait", func(c *Config) { c.BackoffMin = 0 }, "BackoffMin"},
		{"longest wait below the first", func(c *Config) { c.BackoffMax = c.BackoffMin - 1 }, "BackoffMax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	// Zero is none where that is safe: no cooldowns, pacing, CTCP limit,
	// wait before a rejoin, nick regaining by timer or healthy-session
	// bound; an empty user is the nick.
	c := DefaultConfig()
	c.Server = "irc.test:6697"
	c.UserCooldown, c.ChannelCooldown, c.CTCPInterval, c.SendInterval, c.RejoinDelay = 0, 0, 0, 0, 0
	c.RegainInterval, c.HealthyAfter = 0, 0
	if err := c.Validate(); err != nil {
		t.Errorf("a Config without limits: %v, want valid", err)
	}
}

// --irc-channels takes any list, prints it back as it takes it, and leaves
// the checking to Validate, so that its error names the flag.
func TestConfig_ChannelsSetting(t *testing.T) {
	var c Config
	s := settings.New("irc")
	c.Declare(s)
	if err := s.Set("irc-channels", " #quotes, #club  key ,,&local", settings.FromFlag, ""); err != nil {
		t.Fatal(err)
	}
	want := []Channel{{Name: "#quotes"}, {Name: "#club", Key: "key"}, {Name: "&local"}}
	if !reflect.DeepEqual(c.Channels, want) {
		t.Errorf("Channels = %+v, want %+v", c.Channels, want)
	}
	if got := s.Lookup("irc-channels").Value(); got != "#quotes,#club key,&local" {
		t.Errorf("the setting's value = %q, want #quotes,#club key,&local", got)
	}
	if err := s.Set("irc-channels", "quotes", settings.FromFlag, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--irc-channels") {
		t.Errorf("Validate() with channel 'quotes' = %v, want an error naming --irc-channels", err)
	}
}

// The live settings are those the bot takes while running, no more and no
// fewer: SetLive applies each of them and ignores every other. The list is
// the declarations, not a hand list.
func TestBot_SetLiveTakesExactlyTheLiveSettings(t *testing.T) {
	var start Config
	startSet := settings.New("irc")
	start.Declare(startSet)
	start.Server, start.Daily = "irc.test:6697", "06:00"
	b, err := New(start, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, st := range startSet.Settings() {
		if st.Live {
			live = append(live, st.Name)
		}
		if st.Secret || strings.HasSuffix(st.Name, "-file") {
			continue // secrets are restart-only; their files are not fields
		}
		t.Run(st.Name, func(t *testing.T) {
			var next Config
			s := settings.New("irc")
			next.Declare(s)
			next.Server, next.Daily, next.SASLPassword = start.Server, start.Daily, "pw"
			before := inForce(b, st.Name)
			value := changed(st)
			if err := s.Set(st.Name, value, settings.FromFlag, ""); err != nil {
				t.Fatal(err)
			}
			if err := b.SetLive(next); err != nil {
				t.Fatalf("SetLive with --%s %s: %v", st.Name, value, err)
			}
			defer b.SetLive(start)
			got := inForce(b, st.Name)
			switch {
			case st.Live && got != s.Lookup(st.Name).Value():
				t.Errorf("live --%s: in force %q after SetLive, want the new %q", st.Name, got, value)
			case !st.Live && got != before:
				t.Errorf("restart-only --%s: in force %q after SetLive, want %q as at start", st.Name, got, before)
			}
		})
	}
	// Today's: a change here is a change of the documented behaviour.
	if want := []string{"irc-prefix", "irc-daily", "irc-user-cooldown", "irc-channel-cooldown", "irc-ctcp-interval", "irc-curators", "irc-ops-curate", "irc-curation-cap"}; !reflect.DeepEqual(live, want) {
		t.Errorf("live settings %q, want %q", live, want)
	}
}

// inForce returns the value of the setting name in b's configuration in
// force.
func inForce(b *Bot, name string) string {
	var c Config
	s := settings.New("irc")
	c.Declare(s)
	c = b.Config()
	return s.Lookup(name).Value()
}

// changed returns a valid value of st other than its default.
func changed(st *settings.Setting) string {
	if st.Example != "" {
		return st.Example
	}
	switch st.Kind() {
	case "bool":
		b, _ := strconv.ParseBool(st.Value())
		return strconv.FormatBool(!b)
	case "int":
		n, _ := strconv.Atoi(st.Value())
		return strconv.Itoa(n + 1)
	case "duration":
		d, _ := time.ParseDuration(st.Value())
		return (d + time.Second).String()
	}
	panic("no changed value for --" + st.Name + ": declare it with settings.Example")
}
