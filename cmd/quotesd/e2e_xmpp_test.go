package main

// End-to-end tests of the XMPP frontend: the real quotesd binary as a bot
// on a real XMPP server no one here wrote (Debian's Prosody), talked to by
// a bare client.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/xmpp/prosodytest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// xmppBot registers the account bot on srv and returns the flags that
// log quotesd in as it: its JID, a file holding its password, the server
// and the CA that signed the server's certificate.
func xmppBot(t *testing.T, srv *prosodytest.Server) []string {
	t.Helper()
	srv.Register("bot", "bot's password")
	pwFile := filepath.Join(t.TempDir(), "xmpp-password")
	if err := os.WriteFile(pwFile, []byte("bot's password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"--xmpp-jid", "bot@" + prosodytest.Domain,
		"--xmpp-password-file", pwFile,
		"--xmpp-server", srv.Addr,
		"--xmpp-ca-file", srv.CAFile,
	}
}

func TestXMPP_AnswersQuoteAndRejoinsAfterServerRestart(t *testing.T) {
	e2eTool(t, "prosody")
	srv := prosodytest.Start(t)
	room := prosodytest.Room("quotes")
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	s := startServe(t, db, nil, append(append(offExcept("xmpp"), xmppBot(t, srv)...),
		"--state-dir", t.TempDir(),
		"--xmpp-rooms", room+"/quotesd",
		// No cooldowns: the requests after the restart come soon.
		"--xmpp-user-cooldown=0", "--xmpp-room-cooldown=0",
	)...)
	joined := map[string]string{"room": room, "frontend": "xmpp"}
	s.WaitLog(30*time.Second, "xmpp joined", joined)

	alice := srv.Client("alice")
	alice.Join(room, "alice")
	alice.Say(room, "!quote #1")
	got := alice.Expect(10*time.Second, prosodytest.Body(room+"/quotesd", ""))
	if !strings.Contains(got.Body, "Brevity is the soul of wit.") {
		t.Errorf("answer %q, want quote #1", got.Body)
	}
	alice.Chat("bot@"+prosodytest.Domain, "!quote")
	alice.Expect(10*time.Second, prosodytest.Body("bot@"+prosodytest.Domain+"/", " "))

	srv.Restart()
	restarted := time.Now()
	s.WaitLog(time.Minute, "xmpp joined", joined)
	t.Logf("the bot was back in the room %v after the server restart", time.Since(restarted).Round(time.Millisecond))
	bob := srv.Client("bob")
	bob.Join(room, "bob")
	bob.Say(room, "!quote")
	bob.Expect(10*time.Second, prosodytest.Body(room+"/quotesd", " "))

	if err := s.Stop(); err != nil {
		t.Errorf("quotesd serve exited with %v, want status 0", err)
	}
	bob.Expect(10*time.Second, func(st prosodytest.Stanza) bool {
		return st.Kind == "presence" && st.From == room+"/quotesd" && st.Type == "unavailable"
	})
}
