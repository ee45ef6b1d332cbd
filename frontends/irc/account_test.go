package irc

import (
	"regexp"
	"strings"
	"testing"
)

// registerWithCaps plays a server that offers offered, grants every
// capability asked for among them and refuses the rest, then registers
// the bot as quotesd in #q with isupport in its 005.
func registerWithCaps(c *fakeConn, offered, isupport string) {
	c.t.Helper()
	c.expect("CAP LS")
	var asked []string
	for range curationCaps {
		asked = append(asked, strings.TrimPrefix(c.expect("CAP REQ :"), "CAP REQ :"))
	}
	c.send(":irc.test CAP * LS :%s", offered)
	for _, a := range asked {
		if strings.Contains(" "+offered+" ", " "+a+" ") {
			c.send(":irc.test CAP * ACK :%s", a)
		} else {
			c.send(":irc.test CAP * NAK :%s", a)
		}
	}
	c.expect("NICK ")
	c.expect("USER ")
	c.expect("CAP END")
	c.send(":irc.test 001 quotesd :Welcome quotesd!bot@127.0.0.1")
	c.send(":irc.test 005 quotesd %s :are supported by this server", isupport)
	c.expect("JOIN #q")
	c.send(":quotesd!bot@127.0.0.1 JOIN #q")
}

// With account-tag, a curator named by account is known by the tag on
// each message, and a message without it is from someone logged out,
// whatever their nick.
func TestBot_CuratorByAccountTag(t *testing.T) {
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Curators = []Curator{{Account: "alice"}}
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	registerWithCaps(c, "account-tag extended-join account-notify multi-prefix", "PREFIX=(ov)@+")
	c.send("@account=alice :alice!a@host PRIVMSG #q :!addquote Logged in. -- alice")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :added quote #") {
		t.Errorf("tagged with alice's account: %q, want added", got)
	}
	c.send(":alice!a@host PRIVMSG #q :!addquote Not logged in. -- alice")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :submitted for review (#s") {
		t.Errorf("without the tag: %q, want it submitted for review", got)
	}
	c.send("@account=mallory :alice!a@host PRIVMSG #q :!addquote Someone else. -- alice")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :submitted for review (#s") {
		t.Errorf("tagged with another account: %q, want it submitted for review", got)
	}
}

// Without account-tag, the roster knows accounts when the server tells
// every change: extended-join for those who join, WHOX for those there
// before the bot, account-notify for logins and logouts.
func TestBot_CuratorByAccountFromWHOXAndAccountNotify(t *testing.T) {
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Curators = []Curator{{Account: "alice"}}
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	registerWithCaps(c, "extended-join account-notify", "WHOX PREFIX=(ov)@+")
	c.expect("WHO #q %tcnfa,417")
	c.send(":irc.test 354 quotesd 417 #q alice H alice")
	c.send(":irc.test 354 quotesd 417 #q bob H 0")
	c.send(":carol!c@host JOIN #q carol :Carol")
	c.send(":alice!a@host PRIVMSG #q :!addquote Known by WHOX. -- alice")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :added quote #") {
		t.Errorf("alice, logged in as WHOX says: %q, want added", got)
	}
	c.send(":bob!b@host PRIVMSG #q :!addquote Bob has no account. -- bob")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :submitted for review (#s") {
		t.Errorf("bob: %q, want submitted", got)
	}
	c.send(":alice!a@host ACCOUNT *")
	c.send(":alice!a@host PRIVMSG #q :!addquote Logged out now. -- alice")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :submitted for review (#s") {
		t.Errorf("alice after logging out: %q, want submitted", got)
	}
	c.send(":carol!c@host ACCOUNT alice")
	c.send(":carol!c@host PRIVMSG #q :!addquote Carol logged in to alice's account. -- carol")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :added quote #") {
		t.Errorf("carol logged in as alice: %q, want added", got)
	}
}

// With SASL the bot negotiates its capabilities itself, before irc.v4
// takes the connection: it asks for each account capability offered, one
// at a time, and a refusal of one costs none of the others.
func TestBot_SASLSessionAsksForTheAccountCapabilitiesToo(t *testing.T) {
	srv := newFakeServer(t, testServerTLS(t))
	cfg := saslConfig(t, srv.Addr())
	cfg.Curators = []Curator{{Account: "alice"}}
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.expect("CAP LS 302")
	c.send(":irc.test CAP * LS :sasl=PLAIN account-tag account-notify")
	c.expect("CAP REQ :sasl")
	c.send(":irc.test CAP * ACK :sasl")
	c.expect("CAP REQ :account-tag")
	c.send(":irc.test CAP * NAK :account-tag")
	c.expect("CAP REQ :account-notify") // extended-join is not offered: not asked for
	c.send(":irc.test CAP * ACK :account-notify")
	c.expect("AUTHENTICATE PLAIN")
	c.send("AUTHENTICATE +")
	c.expect("AUTHENTICATE ")
	c.send(":irc.test 903 * :SASL authentication successful")
	c.expect("CAP END")
	c.register("quotesd", "#q")
	// No account-tag, and no extended-join or WHOX to trust the roster
	// with: alice's account is unknown, so she is no curator.
	c.send(":alice!a@host ACCOUNT alice")
	c.send(":alice!a@host PRIVMSG #q :!addquote Said while logged in. -- alice")
	if got := c.expect("PRIVMSG #q :"); !strings.HasPrefix(got, "PRIVMSG #q :submitted for review (#s") {
		t.Errorf("without account-tag or a trusted roster: %q, want submitted", got)
	}
}

// In a private message a curator named in --irc-curators may change
// quotes of public collections; additions need a channel, whose
// collection they go to.
func TestBot_CurationInPrivateMessages(t *testing.T) {
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Curators = []Curator{{Mask: "alice!a@staff.example.org"}}
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	for _, tt := range []struct{ from, text, want string }{
		{"bob!b@host", "!delquote #2", "PRIVMSG bob :only curators can delete quotes"},
		{"alice!a@staff.example.org", "!delquote #2", "PRIVMSG alice :deleted quote #2"},
		{"alice!a@staff.example.org", "!addquote In private. -- alice", "PRIVMSG alice :!addquote works in the bot's channels: its quotes go to the channel's collection"},
		{"alice!a@staff.example.org", "!grab bob", "PRIVMSG alice :!grab works in the bot's channels: its quotes go to the channel's collection"},
	} {
		nick, _, _ := strings.Cut(tt.from, "!")
		c.send(":%s PRIVMSG quotesd :%s", tt.from, tt.text)
		if got := c.expect("PRIVMSG " + nick + " :"); got != tt.want {
			t.Errorf("%s says %q: %q, want %q", nick, tt.text, got, tt.want)
		}
	}
	c.send(":bob!b@host PRIVMSG quotesd :!quote stats")
	if got := c.expect("PRIVMSG bob :"); !regexp.MustCompile(`^PRIVMSG bob :\d+ quotes here \(classics \d+\); 0 awaiting review$`).MatchString(got) {
		t.Errorf("!quote stats in private: %q", got)
	}
}

// A channel's own collection starts empty, and says so.
func TestBot_EmptyChannelCollectionSaysSo(t *testing.T) {
	srv := newFakeServer(t, nil)
	cfg := testConfig(srv.Addr())
	cfg.Channels = []Channel{{Name: "#q", Collections: []string{"club-quotes"}}}
	runBot(t, cfg, nil, nil)
	c := srv.accept()
	c.register("quotesd", "#q")
	for _, cmd := range []string{"!quote", "!today", "!quote @club-quotes"} {
		c.send(":alice!a@host PRIVMSG #q :%s", cmd)
		if got := c.expect("PRIVMSG #q :"); got != "PRIVMSG #q :no quotes in club-quotes yet" {
			t.Errorf("%s: %q, want no quotes in club-quotes yet", cmd, got)
		}
	}
	c.send(":alice!a@host PRIVMSG #q :!quote stats")
	if got := c.expect("PRIVMSG #q :"); got != "PRIVMSG #q :0 quotes in #q; 0 awaiting review" {
		t.Errorf("!quote stats: %q", got)
	}
}
