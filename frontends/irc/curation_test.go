package irc

import (
	"reflect"
	"strings"
	"testing"
	"time"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/settings"
)

// chat.Parse takes any clean word for a name; on IRC it must be a nick.
func TestParseCommand_GrabTakesAnIRCNick(t *testing.T) {
	for text, want := range map[string]chat.Command{
		"!grab bob":    {Kind: chat.KindGrab, Nick: "bob"},
		"!grab [b]o-b": {Kind: chat.KindGrab, Nick: "[b]o-b"},
		"!grab 9lives": {Kind: chat.KindGrab, Err: chat.GrabUsage},
		"!grab b@b":    {Kind: chat.KindGrab, Err: chat.GrabUsage},
	} {
		if got, ok := parseCommand(text, "!"); !ok || got != want {
			t.Errorf("parseCommand(%q) = %+v, %v; want %+v, true", text, got, ok, want)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*!*@host", "alice!a@host", true},
		{"*!*@host", "alice!a@other", false},
		{"alice!*@*.example.org", "alice!~a@irc.example.org", true},
		{"alice!*@*.example.org", "alice!~a@example.org", false},
		{"a?ice!*@*", "alice!x@y", true},
		{"a?ice!*@*", "aice!x@y", false},
		{"[bot]!*@*", "[bot]!x@y", true}, // brackets are no class
		{"[bot]!*@*", "b!x@y", false},
		{"*a*b*c", "aXbYc", true},
		{"*a*b*c", "aXbYcZ", false},
		{"?!x@y", "é!x@y", true}, // ? is one character, not one byte
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// A curator is matched by hostmask under IRC's case mapping, or by a
// services account the server vouches for; never by a nick alone.
func TestCurator_Matches(t *testing.T) {
	alice := person{Nick: "Alice", Mask: "Alice!~alice@staff.Example.org"}
	carol := person{Nick: "carol", Mask: "carol!c@home.example.net", Account: "Carol"}
	tests := []struct {
		entry string
		who   person
		want  bool
	}{
		{"*!*@staff.example.org", alice, true},
		{"alice!~alice@staff.example.org", alice, true},
		{"*!*@staff.example.org", carol, false},
		{"account:carol", carol, true},
		{"ACCOUNT:CAROL", carol, true},
		{"account:carol", person{Nick: "carol", Mask: "carol!c@home.example.net"}, false}, // the nick alone is no account
		{"account:alice", alice, false},
		{"nick[away]!*@host", person{Mask: "NICK{AWAY}!x@host"}, true}, // rfc1459: {} is the lower case of []
	}
	for _, tt := range tests {
		c, err := ParseCurator(tt.entry)
		if err != nil {
			t.Fatalf("ParseCurator(%q): %v", tt.entry, err)
		}
		if got := c.matches(tt.who); got != tt.want {
			t.Errorf("%q matches %+v = %v, want %v", tt.entry, tt.who, got, tt.want)
		}
	}
}

func TestParseCurator_RefusesEntriesThatMatchNobodyOrEverybody(t *testing.T) {
	for _, entry := range []string{"alice", "*", "*!*@*", "alice!*@*", "*@host", "a!b", "account:", "account:a b", "account:*", "a!b@c d"} {
		if _, err := ParseCurator(entry); err == nil {
			t.Errorf("ParseCurator(%q) = nil error, want a refusal", entry)
		}
	}
}

// --irc-curators is live, lists entries as given, and Validate names it.
func TestConfig_CuratorsSetting(t *testing.T) {
	var c Config
	s := settings.New("irc")
	c.Declare(s)
	if err := s.Set("irc-curators", " account:alice, *!*@staff.example.org ,", settings.FromFlag, ""); err != nil {
		t.Fatal(err)
	}
	want := []Curator{{Account: "alice"}, {Mask: "*!*@staff.example.org"}}
	if !reflect.DeepEqual(c.Curators, want) {
		t.Errorf("Curators = %+v, want %+v", c.Curators, want)
	}
	if got := s.Lookup("irc-curators").Value(); got != "account:alice,*!*@staff.example.org" {
		t.Errorf("the setting's value = %q", got)
	}
	if err := s.Set("irc-curators", "*!*@*", settings.FromFlag, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--irc-curators") {
		t.Errorf("Validate() with curator *!*@* = %v, want an error naming --irc-curators", err)
	}
	c.Curators, c.CurationCap = nil, -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--irc-curation-cap") {
		t.Errorf("Validate() with a negative cap = %v, want an error naming --irc-curation-cap", err)
	}
}

// The channel syntax keeps '#chan key' and adds ':collections' joined by
// '+' before the key; RFC 2812 allows no ':' in a channel name.
func TestParseChannels_Collections(t *testing.T) {
	got, err := ParseChannels("#quotes, #club:club-quotes+classics secret ,&x:a, #k key")
	if err != nil {
		t.Fatal(err)
	}
	want := []Channel{
		{Name: "#quotes"},
		{Name: "#club", Key: "secret", Collections: []string{"club-quotes", "classics"}},
		{Name: "&x", Collections: []string{"a"}},
		{Name: "#k", Key: "key"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseChannels = %+v, want %+v", got, want)
	}
	var s []string
	for _, ch := range got {
		s = append(s, ch.String())
	}
	if j := strings.Join(s, ","); j != "#quotes,#club:club-quotes+classics secret,&x:a,#k key" {
		t.Errorf("as listed back: %q", j)
	}
	if got[1].home() != "club-quotes" || got[0].home() != quoter.DefaultCollection {
		t.Errorf("homes %q, %q; want club-quotes, %s", got[1].home(), got[0].home(), quoter.DefaultCollection)
	}
	for _, bad := range []string{"#club:", "#club:Club", "#club:a++b", "#club:-a", "#club:a_b", "#club:" + strings.Repeat("a", quoter.MaxCollectionLen+1)} {
		if _, err := ParseChannels(bad); err == nil {
			t.Errorf("ParseChannels(%q) = nil error, want a refusal", bad)
		}
	}
}

// The roster follows operators through NAMES and MODE, and accounts
// through extended-join, account-notify and WHOX.
func TestRoster_OperatorsAndAccounts(t *testing.T) {
	r := newRoster()
	r.isupport([]string{"PREFIX=(qaohv)~&@%+", "CHANMODES=beI,k,l,imnpst", "WHOX", "are supported"})
	r.joined("#Club")
	msg := func(line string) *ircv4.Message {
		m, err := ircv4.ParseMessage(line)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	r.names(msg(":irc 353 bot = #club :@+alice %bob +carol ~dave quotesd"))
	r.whoxReply(msg(":irc 354 bot 417 #club alice H@ alice"))
	r.whoxReply(msg(":irc 354 bot 999 #club bob H% bobby")) // not our token
	r.join("#club", "erin", "erin-acct", true)
	check := func(nick string, op bool, account string) {
		t.Helper()
		if got := r.lookup("#CLUB", nick); got.op != op || got.account != account {
			t.Errorf("%s: %+v, want op %v, account %q", nick, got, op, account)
		}
	}
	check("alice", true, "alice")
	check("Bob", false, "")
	check("carol", false, "")
	check("dave", true, "")
	check("erin", false, "erin-acct")

	r.mode([]string{"#club", "+k-o+lv", "key", "alice", "10", "carol"})
	check("alice", false, "alice")
	r.mode([]string{"#club", "+bo", "*!*@spam", "carol"})
	check("carol", true, "")
	r.account("carol", "carol-acct")
	check("carol", true, "carol-acct")
	r.account("carol", "*")
	check("carol", true, "")
	r.rename("carol", "caz")
	check("caz", true, "")
	check("carol", false, "")
	r.part("#club", "caz")
	check("caz", false, "")
	r.quit("dave")
	check("dave", false, "")
	r.left("#club")
	check("erin", false, "")
}

func TestLastLines_KeepsEachNicksLastLineBounded(t *testing.T) {
	ll := newLastLines()
	t0 := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	ll.record("#Club", said{Nick: "Bob", Text: "first", At: t0})
	ll.record("#club", said{Nick: "bob", Text: "second", At: t0.Add(time.Minute)})
	if l, ok := ll.last("#CLUB", "BOB"); !ok || l.Text != "second" {
		t.Errorf("bob's last line = %+v, %v; want second", l, ok)
	}
	if _, ok := ll.last("#other", "bob"); ok {
		t.Error("bob's line in #club was found in #other")
	}
	ll.rename("bob", "robert")
	if l, ok := ll.last("#club", "robert"); !ok || l.Text != "second" {
		t.Errorf("after a nick change, robert's last line = %+v, %v; want bob's", l, ok)
	}
	for i := 0; i < maxGrabNicks+10; i++ {
		ll.record("#club", said{Nick: "n" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String(), Text: "hi", At: t0.Add(time.Duration(i+2) * time.Minute)})
	}
	if n := len(ll.chans["#club"]); n > maxGrabNicks {
		t.Errorf("%d nicks remembered in #club, want at most %d", n, maxGrabNicks)
	}
	if _, ok := ll.last("#club", "robert"); ok {
		t.Error("the oldest line was kept past the bound")
	}
}

// Who curates what: a --irc-curators entry curates every collection, from
// anywhere; with --irc-ops-curate a channel's operator curates that
// channel's own collections (classics for a channel with none), from
// that channel only.
func TestBot_IsCurator(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server = "irc.test:6697"
	cfg.Channels = []Channel{{Name: "#club", Collections: []string{"club-quotes", "classics"}}, {Name: "#quotes"}, {Name: "#ops", Collections: []string{"ops-lore"}}}
	cfg.Curators = []Curator{{Mask: "alice!*@staff.example.org"}, {Account: "carol"}}
	cfg.OpsCurate = true
	b, err := New(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := person{Nick: "alice", Mask: "alice!a@staff.example.org"}
	carol := person{Nick: "c", Mask: "c!c@home", Account: "carol"}
	op := person{Nick: "dave", Mask: "dave!d@home", Op: true}
	user := person{Nick: "erin", Mask: "erin!e@home"}
	tests := []struct {
		who                 person
		channel, collection string
		want                bool
	}{
		{alice, "#club", "ops-lore", true},
		{alice, "", "club-quotes", true},
		{carol, "", "classics", true},
		{op, "#club", "club-quotes", true},
		{op, "#club", "classics", true},
		{op, "#club", "ops-lore", false},
		{op, "#quotes", "classics", true},
		{op, "#quotes", "club-quotes", false},
		{op, "#elsewhere", "classics", false}, // not a configured channel
		{op, "", "classics", false},           // a private message has no operators
		{user, "#club", "club-quotes", false},
	}
	for _, tt := range tests {
		if got := b.isCurator(tt.who, tt.channel, tt.collection); got != tt.want {
			t.Errorf("%s in %q on %s: %v, want %v", tt.who.Nick, tt.channel, tt.collection, got, tt.want)
		}
	}
	off := cfg
	off.OpsCurate = false
	if err := b.SetLive(off); err != nil {
		t.Fatal(err)
	}
	if b.isCurator(op, "#club", "club-quotes") {
		t.Error("an operator still curates after --irc-ops-curate was turned off")
	}
}
