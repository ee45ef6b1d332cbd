package web_test

import (
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
