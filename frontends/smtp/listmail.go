package smtp

import (
	"bytes"
	"fmt"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
)

// listMail is a message of the subscriptions (a confirmation request, a
// daily quote): not a reply, so it has its own header, which says it was
// sent automatically, and which List-* fields it carries.
type listMail struct {
	domain  string // ours, of the From address
	to      string
	subject string // printable, no line breaks (SanitizeSubject)
	// fields are extra header fields, in order: Reply-To, List-*,
	// Precedence.
	fields    [][2]string
	messageID string // without <>; "" for a fresh one
	// autoSubmitted is the Auto-Submitted keyword (RFC 3834 §5):
	// auto-replied for a confirmation request (it answers a message),
	// auto-generated for the daily mail.
	autoSubmitted string
	text, html    string
}

// listSignedHeaders are the fields a DKIM signature of list mail covers:
// RFC 8058 §4 wants List-Unsubscribe and List-Unsubscribe-Post signed, so
// that no one can change where the one-click goes.
var listSignedHeaders = []string{"From", "To", "Subject", "Date", "Message-Id", "Reply-To",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence", "Auto-Submitted",
	"Mime-Version", "Content-Type"}

// composeList writes m as a complete message, DKIM-signed when c has a
// key.
func (c *Composer) composeList(m listMail, now time.Time) ([]byte, error) {
	b, err := mimeBody(m.text, m.html)
	if err != nil {
		return nil, err
	}
	id := m.messageID
	if id == "" {
		if id, err = messageID(m.domain); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	writeField(&buf, "From", c.from(m.domain))
	writeField(&buf, "To", "<"+m.to+">")
	writeSubject(&buf, m.subject)
	buf.WriteString("Date: " + now.Format(time.RFC1123Z) + "\r\n")
	writeField(&buf, "Message-Id", "<"+id+">")
	for _, f := range m.fields {
		writeField(&buf, f[0], f[1])
	}
	// RFC 3834 §5: an automatic message says so, and so gets no
	// vacation reply.
	buf.WriteString("Auto-Submitted: " + m.autoSubmitted + "\r\nMime-Version: 1.0\r\n")
	buf.Write(b.contentType) // with its CRLF
	buf.WriteString("\r\n")
	buf.Write(b.data)
	if c.DKIM == nil {
		return buf.Bytes(), nil
	}
	domain := m.domain
	if c.DKIM.Domain != "" {
		domain = c.DKIM.Domain
	}
	var out bytes.Buffer
	err = dkim.Sign(&out, bytes.NewReader(buf.Bytes()), &dkim.SignOptions{
		Domain: domain, Selector: c.DKIM.Selector, Signer: c.DKIM.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             listSignedHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("signing mail with DKIM (selector %q, domain %q): %w", c.DKIM.Selector, domain, err)
	}
	return out.Bytes(), nil
}

// mailAddress formats a mailbox for a header, as go-message does.
func mailAddress(name, addr string) string {
	return (&mail.Address{Name: name, Address: addr}).String()
}
