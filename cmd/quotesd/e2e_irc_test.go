package main

// End-to-end tests of the IRC frontend: the real quotesd binary as a bot on
// a real IRC server no one here wrote (Debian's ngircd), talked to by a
// second, bare IRC client.

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// startIRCBot runs `quotesd serve` with only the IRC bot, on srv, in
// #quotes, and waits until it has joined.
func startIRCBot(t *testing.T, srv *ircdtest.Server, extra ...string) *server {
	t.Helper()
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	args := append(offExcept("irc"),
		"--state-dir", t.TempDir(),
		"--irc-server", srv.Addr,
		"--irc-tls=false",
		"--irc-channels", "#quotes",
	)
	s := startServe(t, db, nil, append(args, extra...)...)
	s.WaitLog(30*time.Second, "joined", map[string]string{"channel": "#quotes", "frontend": "irc"})
	return s
}

func TestIRC_AnswersQuoteAndRejoinsAfterServerRestart(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	// No cooldowns: alice's second request and bob's after the restart
	// would otherwise (rightly) be dropped, coming so soon.
	s := startIRCBot(t, srv, "--irc-user-cooldown=0", "--irc-channel-cooldown=0")

	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	alice.Send("PRIVMSG #quotes :!quote #1")
	if got, want := alice.Expect(10*time.Second, "PRIVMSG #quotes :"), "PRIVMSG #quotes :Brevity is the soul of wit. — William Shakespeare, Hamlet [#1]"; !strings.HasPrefix(got, ":quotesd!") || !strings.HasSuffix(got, want) {
		t.Errorf("reply = %q, want one from quotesd ending %q", got, want)
	}
	alice.Send("PRIVMSG quotesd :!quote simplify")
	if got := alice.Expect(10*time.Second, "PRIVMSG alice :"); !strings.Contains(got, "Simplify, simplify.") {
		t.Errorf("private reply = %q, want Thoreau", got)
	}

	srv.Restart() // SIGKILL: the bot sees its connection drop
	restarted := time.Now()
	s.WaitLog(time.Minute, "joined", map[string]string{"channel": "#quotes", "frontend": "irc"})
	t.Logf("the bot was back in #quotes %v after the server restart", time.Since(restarted).Round(time.Millisecond))
	bob := ircdtest.Dial(t, srv.Addr, "bob")
	bob.Join("#quotes")
	if !bob.WaitMember(10*time.Second, "#quotes", "quotesd") {
		t.Fatal("the bot logged that it joined, but the server does not list it in #quotes")
	}
	bob.Send("PRIVMSG #quotes :!quote")
	bob.Expect(10*time.Second, "PRIVMSG #quotes :")

	if err := s.Stop(); err != nil {
		t.Errorf("quotesd serve exited with %v, want status 0", err)
	}
	if got := bob.Expect(10*time.Second, " QUIT "); !strings.HasPrefix(got, ":quotesd!") {
		t.Errorf("on SIGTERM the bot should QUIT politely; bob saw %q", got)
	}
}

func TestIRC_BurstOfTwentyQuotesDoesNotGetTheBotDisconnected(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	// Cooldowns off so that every request the queue holds is answered:
	// only the default send pacing keeps the bot within ngircd's limits.
	s := startIRCBot(t, srv, "--irc-user-cooldown=0", "--irc-channel-cooldown=0")
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	for i := 0; i < 20; i++ {
		alice.Send("PRIVMSG #quotes :!quote")
	}
	replies := 0
	for {
		line, ok := alice.Wait(8*time.Second, ":quotesd!")
		if !ok {
			break
		}
		if strings.Contains(line, " QUIT ") {
			t.Fatalf("the bot was disconnected: %s", line)
		}
		replies++
	}
	if replies < 5 {
		t.Errorf("%d reply lines to 20 requests, want at least 5", replies)
	}
	alice.Send("PRIVMSG #quotes :!quote #1")
	alice.Expect(15*time.Second, "PRIVMSG #quotes :Brevity")
	for _, l := range s.Logs() {
		if strings.Contains(l, `"irc disconnected"`) {
			t.Errorf("the bot lost its connection: %s", l)
		}
	}
}

func TestIRC_BadSettingsFailTheStart(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"SASL without password", nil, []string{"--irc-sasl-user", "bot"}, "QUOTESD_IRC_SASL_PASSWORD"},
		{"SASL without TLS", []string{"QUOTESD_IRC_SASL_PASSWORD=pw"}, []string{"--irc-tls=false", "--irc-sasl-user", "bot"}, "needs TLS"},
		{"bad channel", nil, []string{"--irc-channels", "quotes"}, "--irc-channels"},
		{"bad daily time", nil, []string{"--irc-daily", "9am"}, "HH:MM"},
		{"negative send burst", nil, []string{"--irc-send-burst", "-1"}, "invalid --irc-send-burst -1"},
		{"negative ping interval", nil, []string{"--irc-ping-interval", "-1s"}, "invalid --irc-ping-interval -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--db", db, "serve", "--state-dir", t.TempDir()}, offExcept("irc")...)
			args = append(args, "--irc-server", "127.0.0.1:1")
			_, stderr, code := runQuotesd(t, tt.env, append(args, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and a message naming %q", code, stderr, tt.want)
			}
		})
	}
}

// A refused server password cannot be fixed by reconnecting: quotesd
// stops with status 1 and says why, instead of retrying for ever.
func TestIRC_RefusedPasswordStopsQuotesd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "USER ") {
				io.WriteString(c, ":irc.test 464 * :Password incorrect\r\nERROR :Closing link\r\n")
				return
			}
		}
	}()
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	pw := filepath.Join(t.TempDir(), "irc-password")
	if err := os.WriteFile(pw, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(offExcept("irc"), "--state-dir", t.TempDir(), "--irc-server", ln.Addr().String(), "--irc-tls=false", "--irc-password-file", pw)
	s := startServe(t, db, nil, args...)
	wantPermanentExit(t, s, "irc", "irc server password refused: Password incorrect")
}

func TestIRC_SIGHUPChangesPrefixAndCooldownsWithoutReconnecting(t *testing.T) {
	e2eTool(t, "ngircd")
	t.Parallel()
	srv := ircdtest.Start(t)
	config := filepath.Join(t.TempDir(), "quotesd.conf")
	if err := os.WriteFile(config, []byte("irc-prefix = !\nirc-user-cooldown = 1h\nirc-channel-cooldown = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startIRCBot(t, srv, "--config", config)
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#quotes")
	alice.Send("PRIVMSG #quotes :!quote #1")
	alice.Expect(10*time.Second, "PRIVMSG #quotes :Brevity")

	if err := os.WriteFile(config, []byte("irc-prefix = ?\nirc-user-cooldown = 0\nirc-channel-cooldown = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	s.WaitLog(10*time.Second, "reload: applied", map[string]string{"setting": "irc-prefix", "new": "?"})
	alice.Send("PRIVMSG #quotes :!quote #1") // the old prefix: not a command now
	alice.Send("PRIVMSG #quotes :?quote #1") // the new one; alice's hour-long cooldown is gone
	if got := alice.Expect(10*time.Second, "PRIVMSG #quotes :"); !strings.Contains(got, "Brevity") {
		t.Errorf("after reload: %q, want the answer to ?quote #1", got)
	}
	if _, ok := alice.Wait(time.Second, "PRIVMSG #quotes :"); ok {
		t.Error("the old prefix was still answered after the reload")
	}
	for _, l := range s.Logs() {
		if strings.Contains(l, `"msg":"irc disconnected"`) {
			t.Errorf("the reload cost the connection: %s", l)
		}
	}
}

// Collections and curation through the binary: #club is served its own
// collection, created private by a curator's first addition; a
// non-curator's addition waits for a curator's approval; #quotes never
// sees #club's quotes. (frontends/irc's ngircd tests cover the rest:
// grabs, permissions, the daily cap, control bytes.)
func TestIRC_ChannelCollectionAndCurationFromTheChannel(t *testing.T) {
	e2eTool(t, "ngircd")
	srv := ircdtest.Start(t)
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	args := append(offExcept("irc"),
		"--state-dir", t.TempDir(),
		"--irc-server", srv.Addr,
		"--irc-tls=false",
		"--irc-channels", "#club:club-quotes,#quotes",
		"--irc-curators", "alice!*@127.0.0.1",
		"--irc-user-cooldown=0", "--irc-channel-cooldown=0",
	)
	s := startServe(t, db, nil, args...)
	s.WaitLog(30*time.Second, "joined", map[string]string{"channel": "#quotes", "frontend": "irc"})
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#club")
	alice.Join("#quotes")
	bob := ircdtest.Dial(t, srv.Addr, "bob")
	bob.Join("#club")
	if !bob.WaitMember(30*time.Second, "#club", "quotesd") || !alice.WaitMember(30*time.Second, "#quotes", "quotesd") {
		t.Fatal("the bot is not in #club and #quotes")
	}
	// say returns the bot's answer to text from c; the other of alice and
	// bob, both in #club, reads past it there.
	say := func(c *ircdtest.Client, channel, text string) string {
		t.Helper()
		c.Send("PRIVMSG %s :%s", channel, text)
		line := c.Expect(10*time.Second, ":quotesd!")
		if other := map[*ircdtest.Client]*ircdtest.Client{alice: bob, bob: alice}[c]; channel == "#club" {
			other.Expect(10*time.Second, line)
		}
		_, reply, _ := strings.Cut(line, " PRIVMSG "+channel+" :")
		return reply
	}

	added := say(alice, "#club", "!addquote What is said at the club stays at the club. -- The Founder")
	if !strings.HasPrefix(added, "added quote #") {
		t.Fatalf("alice's !addquote in #club: %q", added)
	}
	id := strings.TrimPrefix(added, "added quote #")
	s.WaitLog(time.Second, "irc created a private collection", map[string]string{"collection": "club-quotes"})
	submitted := say(bob, "#club", "!addquote Members first. -- bob")
	if submitted != "submitted for review (#s1)" {
		t.Fatalf("bob's !addquote: %q, want submitted for review (#s1)", submitted)
	}
	if got := say(bob, "#club", "!quote @club-quotes members"); got != "no quote matches" {
		t.Errorf("before approval: %q, want no quote matches", got)
	}
	if got := say(alice, "#club", "!approve s1"); !strings.HasPrefix(got, "approved s1: quote #") {
		t.Errorf("alice's !approve s1: %q", got)
	}
	for _, tt := range []struct{ channel, text, want string }{
		{"#club", "!quote @club-quotes members", "Members first. — bob"},
		{"#club", "!quote #" + id, "What is said at the club stays at the club. — The Founder"},
		{"#quotes", "!quote #" + id, "no quote #" + id},
		{"#quotes", "!quote @club-quotes", "no collection @club-quotes"},
		{"#quotes", "!quote @classics simplify", "Simplify, simplify."},
	} {
		if got := say(alice, tt.channel, tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("%s in %s: %q, want %q", tt.text, tt.channel, got, tt.want)
		}
	}
}
