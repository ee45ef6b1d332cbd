package queue

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// pipeline sends mail transactions the way RFC 2920 (PIPELINING) allows, on
// a connection whose greeting go-smtp's Client has done: go-smtp's client
// sends MAIL, RCPT, DATA and the message each in its own write and waits
// for each reply, four round trips per reply. Here MAIL, RCPT and DATA go
// in one write, and the message, its end, and the next message's MAIL,
// RCPT and DATA in the next one: about one round trip and two writes per
// reply. Every reply is still read and checked, in order, so each
// message's outcome is known exactly as before.
type pipeline struct {
	conn       net.Conn
	r          *textproto.Reader
	out        bytes.Buffer // what the next write sends
	timeout    time.Duration
	mailParams string // the parameters of MAIL go-smtp would add ("" or " BODY=8BITMIME")
}

// newPipeline returns a pipeline on conn, the connection c greeted, or nil
// when the server does not offer PIPELINING (then go-smtp's Client sends).
// conn must carry nothing unread: c has read the greeting's whole reply.
func newPipeline(c *smtp.Client, conn net.Conn, timeout time.Duration) *pipeline {
	if conn == nil {
		return nil
	}
	if ok, _ := c.Extension("PIPELINING"); !ok {
		return nil
	}
	p := &pipeline{conn: conn, r: textproto.NewReader(bufio.NewReader(conn)), timeout: timeout}
	if ok, _ := c.Extension("8BITMIME"); ok {
		p.mailParams = " BODY=8BITMIME" // as go-smtp's Client.Mail does
	}
	return p
}

// envelope queues MAIL (from: "" is the null reverse path of replies, RFC
// 3834 §3.3), RCPT and DATA.
func (p *pipeline) envelope(from, rcpt string) error {
	if strings.ContainsAny(rcpt, "\r\n<>") {
		return &smtp.SMTPError{Code: 501, Message: "invalid recipient address " + rcpt}
	}
	if strings.ContainsAny(from, "\r\n<> ") {
		return &smtp.SMTPError{Code: 501, Message: "invalid sender address " + from}
	}
	p.out.WriteString("MAIL FROM:<")
	p.out.WriteString(from)
	p.out.WriteString(">")
	p.out.WriteString(p.mailParams)
	p.out.WriteString("\r\nRCPT TO:<")
	p.out.WriteString(rcpt)
	p.out.WriteString(">\r\nDATA\r\n")
	return nil
}

// text queues a message's text, t.head then t.shared, and its end,
// dot-stuffed (RFC 5321 §4.5.2), every line ended by CRLF: what
// textproto's DotWriter writes for the whole text, but a line at a time
// rather than a byte at a time, and without joining the parts first.
func (p *pipeline) text(t text) error {
	if len(t.head) > 0 && len(t.shared) > 0 && t.head[len(t.head)-1] != '\n' {
		t = text{head: t.bytes()} // a line runs across the parts
	}
	p.out.Grow(len(t.head) + len(t.shared) + (len(t.head)+len(t.shared))/32 + 5)
	if len(t.head)+len(t.shared) == 0 {
		p.out.WriteString("\r\n") // an empty line, as DotWriter sends
	}
	p.lines(t.head)
	p.lines(t.shared)
	p.out.WriteString(".\r\n")
	return nil
}

// lines queues data, which starts at the start of a line, dot-stuffed,
// every line ended by CRLF.
func (p *pipeline) lines(data []byte) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		if line[0] == '.' {
			p.out.WriteByte('.')
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		p.out.Write(line)
		p.out.WriteString("\r\n")
	}
}

// flush sends what is queued, and arms the deadline for it and its replies.
func (p *pipeline) flush() error {
	_ = p.conn.SetDeadline(time.Now().Add(p.timeout))
	if p.out.Len() == 0 {
		return nil
	}
	_, err := p.conn.Write(p.out.Bytes())
	p.out.Reset()
	return err
}

// reply reads one reply: nil when its code is the expected one (expect is
// a code or its first digits, as textproto reads them), an *smtp.SMTPError
// when the server refused, another error when the connection failed.
func (p *pipeline) reply(expect int) error {
	code, msg, err := p.r.ReadResponse(expect)
	var te *textproto.Error
	if errors.As(err, &te) {
		return &smtp.SMTPError{Code: code, Message: msg}
	}
	return err
}

// envelopeReplies reads the replies to MAIL, RCPT and DATA and returns the
// first refusal, or a connection error at once.
func (p *pipeline) envelopeReplies() error {
	var first error
	for _, expect := range []int{25, 25, 354} {
		err := p.reply(expect)
		var se *smtp.SMTPError
		if err != nil && !errors.As(err, &se) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// reset ends a refused transaction (RSET), so that the next can start.
func (p *pipeline) reset() error {
	p.out.WriteString("RSET\r\n")
	if err := p.flush(); err != nil {
		return err
	}
	return p.reply(25)
}

// done clears the deadline, before go-smtp's Client takes the connection
// back (to say QUIT).
func (p *pipeline) done() { _ = p.conn.SetDeadline(time.Time{}) }
