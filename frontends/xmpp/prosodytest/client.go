package prosodytest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// Stanza is one stanza a Client received: its raw XML and the parts tests
// look at.
type Stanza struct {
	Kind   string // message, presence or iq
	Type   string
	From   string
	Body   string
	Status []string // MUC status codes (110 self, 307 kicked, ...)
	Raw    string
}

// Client is a test user on the server: it connects as the bot does
// (STARTTLS, certificate checked against the server's CA, SCRAM), and
// keeps every stanza it receives.
type Client struct {
	tb      testing.TB
	JID     jid.JID // the full JID the server bound
	session *xmpp.Session

	mu   sync.Mutex
	cond *sync.Cond
	got  []Stanza
	done bool
}

// Password is the password Client registers its users with.
func Password(user string) string { return "pw-" + user }

// TLSConfig returns a TLS configuration that trusts the server's own
// certificate.
func (s *Server) TLSConfig() *tls.Config {
	s.tb.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		s.tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: Domain, MinVersion: tls.VersionTLS12}
}

// Client registers user (password Password(user)) and connects it. It is
// disconnected when the test ends.
func (s *Server) Client(user string) *Client {
	s.tb.Helper()
	s.Register(user, Password(user))
	return s.Connect(user)
}

// Connect connects an account that exists already.
func (s *Server) Connect(user string) *Client {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		s.tb.Fatalf("connecting to prosody: %v", err)
	}
	origin := jid.MustParse(user + "@" + Domain)
	sess, err := xmpp.NewClientSession(ctx, origin, conn,
		xmpp.StartTLS(s.TLSConfig()),
		xmpp.SASL("", Password(user), sasl.ScramSha256, sasl.ScramSha1),
		xmpp.BindResource(),
	)
	if err != nil {
		conn.Close()
		s.tb.Fatalf("XMPP session for %s: %v", user, err)
	}
	c := &Client{tb: s.tb, JID: sess.LocalAddr(), session: sess}
	c.cond = sync.NewCond(&c.mu)
	go c.serve()
	s.tb.Cleanup(c.Close)
	c.SendRaw(`<presence/>`)
	return c
}

func (c *Client) serve() {
	_ = c.session.Serve(xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		var buf bytes.Buffer
		enc := xml.NewEncoder(&buf)
		_ = enc.EncodeToken(*start)
		depth := 1
		for depth > 0 {
			tok, err := t.Token()
			if err == io.EOF || tok == nil && err != nil {
				break
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
			_ = enc.EncodeToken(xml.CopyToken(tok))
		}
		for ; depth > 0; depth-- {
			_ = enc.EncodeToken(start.End())
		}
		_ = enc.Flush()
		st := parse(start.Name.Local, buf.Bytes())
		c.mu.Lock()
		c.got = append(c.got, st)
		c.cond.Broadcast()
		c.mu.Unlock()
		if st.Kind == "iq" && (st.Type == "get" || st.Type == "set") {
			// Serve answers an IQ nobody answered with an error itself.
			return nil
		}
		return nil
	}))
	c.mu.Lock()
	c.done = true
	c.cond.Broadcast()
	c.mu.Unlock()
}

// parse reads the parts of a stanza tests look at.
func parse(kind string, raw []byte) Stanza {
	var v struct {
		Type string `xml:"type,attr"`
		From string `xml:"from,attr"`
		Body string `xml:"body"`
		X    []struct {
			Status []struct {
				Code string `xml:"code,attr"`
			} `xml:"status"`
		} `xml:"x"`
	}
	_ = xml.Unmarshal(raw, &v)
	st := Stanza{Kind: kind, Type: v.Type, From: v.From, Body: v.Body, Raw: string(raw)}
	for _, x := range v.X {
		for _, s := range x.Status {
			st.Status = append(st.Status, s.Code)
		}
	}
	return st
}

// Close ends the session.
func (c *Client) Close() {
	_ = c.session.Close()
	_ = c.session.Conn().Close()
}

// SendRaw sends one stanza written as XML.
func (c *Client) SendRaw(raw string) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.session.Send(ctx, xml.NewDecoder(strings.NewReader(raw))); err != nil {
		c.tb.Errorf("sending %s: %v", raw, err)
	}
}

// Room returns the address of room on the server's MUC service.
func Room(name string) string { return name + "@" + MUC }

// Join enters room (a bare room JID) as nick, and waits for the room to
// confirm it (its own presence, status 110). The first to join a room
// creates it and owns it: it may kick.
func (c *Client) Join(room, nick string) {
	c.tb.Helper()
	c.SendRaw(fmt.Sprintf(`<presence to="%s/%s"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`, room, nick))
	c.Expect(10*time.Second, func(s Stanza) bool {
		return s.Kind == "presence" && strings.EqualFold(s.From, room+"/"+nick) && hasStatus(s, "110")
	})
}

// Say sends text to room as a groupchat message.
func (c *Client) Say(room, text string) {
	c.tb.Helper()
	c.SendRaw(fmt.Sprintf(`<message to="%s" type="groupchat"><body>%s</body></message>`, room, escape(text)))
}

// Chat sends text to to (a JID) as a 1:1 chat message.
func (c *Client) Chat(to, text string) {
	c.tb.Helper()
	c.SendRaw(fmt.Sprintf(`<message to="%s" type="chat"><body>%s</body></message>`, to, escape(text)))
}

// Kick removes nick from room (the client must be a moderator there).
func (c *Client) Kick(room, nick string) {
	c.tb.Helper()
	c.SendRaw(fmt.Sprintf(`<iq type="set" id="kick-%d" to="%s"><query xmlns="http://jabber.org/protocol/muc#admin"><item nick="%s" role="none"><reason>test</reason></item></query></iq>`, time.Now().UnixNano(), room, nick))
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func hasStatus(s Stanza, code string) bool {
	for _, c := range s.Status {
		if c == code {
			return true
		}
	}
	return false
}

// HasStatus reports whether s carries the MUC status code.
func HasStatus(s Stanza, code string) bool { return hasStatus(s, code) }

// Wait waits up to d for a stanza match accepts, among those received
// and not consumed yet, and consumes it (only it: a Join's wait for its
// own presence leaves the other occupants' to be seen).
func (c *Client) Wait(d time.Duration, match func(Stanza) bool) (Stanza, bool) {
	deadline := time.Now().Add(d)
	t := time.AfterFunc(d, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for i, s := range c.got {
			if match(s) {
				c.got = append(c.got[:i:i], c.got[i+1:]...)
				return s, true
			}
		}
		if c.done || !time.Now().Before(deadline) {
			return Stanza{}, false
		}
		c.cond.Wait()
	}
}

// Expect is Wait that fails the test when nothing matches in time.
func (c *Client) Expect(d time.Duration, match func(Stanza) bool) Stanza {
	c.tb.Helper()
	s, ok := c.Wait(d, match)
	if !ok {
		c.mu.Lock()
		var all []string
		for _, g := range c.got {
			all = append(all, g.Raw)
		}
		c.mu.Unlock()
		c.tb.Fatalf("%s: no matching stanza within %v; unconsumed:\n%s", c.JID, d, strings.Join(all, "\n"))
	}
	return s
}

// Body matches a message from from (a JID, or a prefix of one such as a
// room's "room@rooms.quotesd.test/") whose body holds substr.
func Body(from, substr string) func(Stanza) bool {
	return func(s Stanza) bool {
		return s.Kind == "message" && strings.HasPrefix(s.From, from) && strings.Contains(s.Body, substr)
	}
}

// Drain forgets every stanza received so far.
func (c *Client) Drain() {
	c.mu.Lock()
	c.got = nil
	c.mu.Unlock()
}
