package xmpp

import (
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/settings"
)

func TestParseRooms(t *testing.T) {
	got, err := ParseRooms("Quotes@conference.example.org/quotebot:s3cret:x, club@muc.example.org ,plain@muc.example.org:pw")
	if err != nil {
		t.Fatal(err)
	}
	want := []Room{
		{JID: "quotes@conference.example.org", Nick: "quotebot", Password: "s3cret:x"},
		{JID: "club@muc.example.org"},
		{JID: "plain@muc.example.org", Password: "pw"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseRooms = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"no-at-sign", "room@muc.example.org/", "room@muc.example.org/nick\x01"} {
		if _, err := ParseRooms(bad); err == nil {
			t.Errorf("ParseRooms(%q) accepted it", bad)
		}
	}
}

func TestConfig_ValidateNamesTheFlag(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*Config)
		want  string
	}{
		{"JID with a resource", func(c *Config) { c.JID, c.Password = "bot@example.org/res", "pw" }, "--xmpp-jid"},
		{"JID without a password", func(c *Config) { c.JID = "bot@example.org" }, "QUOTESD_XMPP_PASSWORD"},
		{"server without a port", func(c *Config) { c.Server = "example.org" }, "--xmpp-server"},
		{"missing CA file", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "--xmpp-ca-file"},
		{"bad room", func(c *Config) { c.Rooms = []Room{{JID: "nope"}} }, "--xmpp-rooms"},
		{"empty prefix", func(c *Config) { c.Prefix = "" }, "--xmpp-prefix"},
		{"bad daily time", func(c *Config) { c.Daily = "25:00" }, "--xmpp-daily"},
		{"negative cooldown", func(c *Config) { c.UserCooldown = -1 }, "--xmpp-user-cooldown"},
		{"no burst", func(c *Config) { c.SendBurst = 0 }, "--xmpp-send-burst"},
		{"no ping", func(c *Config) { c.PingInterval = 0 }, "--xmpp-ping-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.tweak(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

func TestConfig_RoomsRoundTripThroughTheSetting(t *testing.T) {
	var c Config
	s := settings.New("xmpp")
	c.Declare(s)
	const v = "quotes@conference.example.org/quotebot:pw,club@muc.example.org"
	if err := s.FlagSet().Set("xmpp-rooms", v); err != nil {
		t.Fatal(err)
	}
	if got := (*roomList)(&c.Rooms).String(); got != v {
		t.Errorf("--xmpp-rooms reads back as %q, want %q", got, v)
	}
}

func TestReadElement_BoundsWhatItKeeps(t *testing.T) {
	read := func(raw string, max int) (*element, error) {
		d := xml.NewDecoder(strings.NewReader(raw))
		tok, _ := d.Token()
		return readElement(d, tok.(xml.StartElement), max)
	}
	e, err := read(`<message from="a@b/c" type="chat"><body>!quote</body><delay xmlns="urn:xmpp:delay" stamp="x"/></message>`, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if e.attr("from") != "a@b/c" || e.child("", "body").Text != "!quote" || !e.delayed() {
		t.Errorf("read %+v, want its from, body and delay", e)
	}
	if _, err := read(`<message><body>`+strings.Repeat("x", 5000)+`</body></message><next/>`, 1000); err != errTooBig {
		t.Errorf("a 5000-byte body under a 1000-byte bound: err = %v, want errTooBig", err)
	}
}

func TestClean_StripsControlsAndWhatXMLCannotCarry(t *testing.T) {
	for in, want := range map[string]string{
		"!quote\x00\x07 now":     "!quote now",
		"a\u202Eb\u2066c":        "abc",
		"fine \uFFFE\uFFFF text": "fine text",
		"tab\tand\nbreak":        "tab and break",
		"plain":                  "plain",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
