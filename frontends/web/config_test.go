package web_test

import (
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/settings"
)

func TestConfig_WebCollectionsTakesCollectionNames(t *testing.T) {
	var ns web.Names
	if err := ns.Set(" club-quotes, ,riddles "); err != nil || !slices.Equal(ns, web.Names{"club-quotes", "riddles"}) {
		t.Errorf("Set = %v, %v; want [club-quotes riddles]", ns, err)
	}
	if ns.String() != "club-quotes,riddles" {
		t.Errorf("String = %q", ns.String())
	}
	for _, bad := range []string{"Club", "club_quotes", "-club", "club-", strings.Repeat("a", 33), "#club"} {
		if err := ns.Set(bad); err == nil || !strings.Contains(err.Error(), "collection name") {
			t.Errorf("Set(%q) = %v, want an error naming a collection name", bad, err)
		}
	}
}

func TestConfig_CurationIsOffByDefault(t *testing.T) {
	var c web.Config
	s := settings.New("serve")
	c.Declare(s)
	if err := s.FlagSet().Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.Admin || c.Submissions || len(c.Collections) != 0 {
		t.Errorf("defaults: admin %v, submissions %v, collections %v; want all off", c.Admin, c.Submissions, c.Collections)
	}
	for _, name := range []string{"web-admin", "web-submissions", "web-collections"} {
		if st := s.Lookup(name); st == nil {
			t.Errorf("--%s is not declared", name)
		}
	}
}

func TestConfig_WarnsOfAdminInClearOnAPublicAddress(t *testing.T) {
	public := &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 80}
	loopback := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}
	for _, tc := range []struct {
		name string
		cfg  web.Config
		addr net.Addr
		warn bool
	}{
		{"PublicInClear", web.Config{Admin: true}, public, true},
		{"AdminOff", web.Config{}, public, false},
		{"Loopback", web.Config{Admin: true}, loopback, false},
		{"BehindAProxy", web.Config{Admin: true, TrustedProxies: web.Prefixes{netip.MustParsePrefix("10.0.0.0/8")}}, public, false},
		{"HTTPSBaseURL", web.Config{Admin: true, BaseURL: "https://quotes.example.org"}, public, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			tc.cfg.WarnAdminInClear(slog.New(slog.NewTextHandler(&b, nil)), tc.addr)
			if got := strings.Contains(b.String(), "level=WARN"); got != tc.warn {
				t.Errorf("warned %v, want %v: %q", got, tc.warn, b.String())
			}
		})
	}
}
