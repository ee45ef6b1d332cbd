package irc

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ircv4 "gopkg.in/irc.v4"

	"github.com/quotesd/quotesd/frontends/chat"
)

// maxIn bounds one line read from the server: 512 bytes of message plus up
// to 8191 bytes of IRCv3 tags. irc.v4 reads lines with no bound at all, so a
// server (or a man in the middle of a plain connection) could make it buffer
// gigabytes; longer lines are skipped here before irc.v4 sees them.
const maxIn = 8191 + MaxLine

// writeTimeout bounds one write: a server that stops reading must not block
// the bot forever (irc.v4 sets no deadlines).
const writeTimeout = 30 * time.Second

// lineConn sits between the network connection and irc.v4. It reads lines
// with a bound on their length and a deadline that notices a silent server,
// skips (and logs) lines that are malformed or would upset irc.v4 — whose
// parser panics on some inputs (a tags-only line such as "@a "), which in
// its read goroutine would take the whole process down — and hands irc.v4
// only whole, well-formed lines. Writes get a deadline and are serialised,
// so the bot's own PING can bypass irc.v4's send queue safely.
type lineConn struct {
	conn net.Conn
	br   *bufio.Reader
	log  *slog.Logger
	idle time.Duration // no line for this long: the read fails; 0 means no limit

	pending  []byte       // the rest of the line irc.v4 is reading
	lastRead atomic.Int64 // unix nanoseconds of the last line read

	wmu sync.Mutex
}

func newLineConn(conn net.Conn, log *slog.Logger, idle time.Duration) *lineConn {
	c := &lineConn{conn: conn, br: bufio.NewReaderSize(conn, maxIn), log: log, idle: idle}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// errLineTooLong marks a line longer than maxIn, which is skipped.
var errLineTooLong = errors.New("line too long")

// rawLine reads one line, without its line ending. A line longer than
// maxIn is read to its end, dropped, and reported as errLineTooLong.
func (c *lineConn) rawLine() (string, error) {
	if c.idle > 0 {
		if err := c.conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
			return "", err
		}
	}
	b, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = c.br.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "", fmt.Errorf("server silent for %v: %w", c.idle, err)
		}
		return "", err
	}
	c.lastRead.Store(time.Now().UnixNano())
	return strings.TrimRight(string(b), "\r\n"), nil
}

// readMessage returns the next well-formed message and its line, skipping
// empty, overlong and malformed lines.
func (c *lineConn) readMessage() (*ircv4.Message, string, error) {
	for {
		line, err := c.rawLine()
		if errors.Is(err, errLineTooLong) {
			c.log.Warn("skipped line from server", "reason", "longer than the limit", "limit", maxIn)
			continue
		} else if err != nil {
			return nil, "", err
		}
		if line == "" {
			continue
		}
		m, reason := checkLine(line)
		if m == nil {
			// Debug: a broken or hostile server could fill the log.
			c.log.Debug("skipped line from server", "reason", reason, "line", preview(line))
			continue
		}
		return m, line, nil
	}
}

// checkLine parses line and returns the message, or nil and why the line is
// unusable. Besides what the parser rejects (or panics on), it refuses NUL
// and CR inside a line, messages the bot acts on that lack the parameters
// their syntax requires (minParams; irc.v4's own 001 handler indexes the
// nick without checking), and a 001 or NICK whose nick is no nick (empty,
// or with a space): believed, it would make the bot count the wrong nick in
// what the server prefixes to its relayed lines, and send lines over 512
// bytes.
func checkLine(line string) (m *ircv4.Message, reason string) {
	if strings.ContainsAny(line, "\x00\r") {
		return nil, "NUL or CR inside the line"
	}
	defer func() {
		if r := recover(); r != nil {
			m, reason = nil, fmt.Sprintf("parser panicked: %v", r)
		}
	}()
	m, err := ircv4.ParseMessage(line)
	if err != nil {
		return nil, err.Error()
	}
	if n, ok := minParams[m.Command]; ok && len(m.Params) < n {
		return nil, fmt.Sprintf("%s with %d parameters, under the %d it needs", m.Command, len(m.Params), n)
	}
	if len(m.Command) == 3 && len(m.Params) == 0 {
		return nil, "numeric reply without its target"
	}
	switch m.Command {
	case ircv4.RPL_WELCOME, "NICK":
		if !plausibleNick(m.Params[0]) {
			return nil, m.Command + " with no valid nick"
		}
	case "396": // the host in it becomes part of our relay prefix, as a nick does
		if m.Params[1] == "" || strings.ContainsAny(m.Params[1], " @!") {
			return nil, "396 with no valid host"
		}
	}
	return m, ""
}

// minParams is how many parameters the messages the bot acts on must have
// (RFC 2812 and the modern IRC client protocol): the session reads them.
// Every numeric also has at least its target, checked apart.
var minParams = map[string]int{
	ircv4.RPL_WELCOME:          1, // <nick> :Welcome
	"NICK":                     1, // :old NICK <new>
	"JOIN":                     1,
	"PART":                     1,
	"KICK":                     2, // <channel> <nick> [:reason]
	"INVITE":                   2, // <nick> <channel>
	"PRIVMSG":                  2,
	"396":                      2, // RPL_HOSTHIDDEN <nick> <host>
	"403":                      2, // <nick> <channel> :why, for the join refusals
	"405":                      2,
	"471":                      2,
	"473":                      2,
	"474":                      2,
	"475":                      2,
	"477":                      2,
	ircv4.ERR_NICKNAMEINUSE:    2, // <nick> <wanted> :why, for the nick refusals
	ircv4.ERR_ERRONEUSNICKNAME: 2,
	ircv4.ERR_NICKCOLLISION:    2,
	ircv4.ERR_UNAVAILRESOURCE:  2,
}

// plausibleNick reports whether a server's nick parameter can be a nick:
// not empty, and free of the characters that separate or wildcard nicks.
// It is looser than validNick, which checks the nick we ask for: a server
// may rename a colliding client to its UID, which starts with a digit,
// and some allow UTF-8.
func plausibleNick(s string) bool {
	return s != "" && !strings.ContainsAny(s, " ,*?!@") && !strings.ContainsAny(s[:1], "#&:$")
}

// preview is a line shortened for a log record.
func preview(s string) string {
	const n = 200
	if len(s) > n {
		return s[:chat.BreakAt(s, n)] + "…"
	}
	return s
}

// Read serves irc.v4 whole, checked lines.
func (c *lineConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		_, line, err := c.readMessage()
		if err != nil {
			return 0, err
		}
		c.pending = []byte(line + "\r\n")
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write writes p (one or more whole lines) with a deadline.
func (c *lineConn) Write(p []byte) (int, error) {
	return c.writeWithin(p, writeTimeout)
}

func (c *lineConn) writeWithin(p []byte, d time.Duration) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	return c.conn.Write(p)
}

// writeLine writes one line, adding CR LF.
func (c *lineConn) writeLine(line string) error {
	_, err := c.Write([]byte(line + "\r\n"))
	return err
}

// quit says goodbye, waiting at most a second: it is sent on the way out,
// and a server that does not read must not hold up the shutdown.
func (c *lineConn) quit(reason string) {
	_, _ = c.writeWithin([]byte("QUIT :"+reason+"\r\n"), time.Second)
}

// Close closes the connection.
func (c *lineConn) Close() error { return c.conn.Close() }

// idleFor returns how long ago the last line arrived.
func (c *lineConn) idleFor() time.Duration {
	return time.Since(time.Unix(0, c.lastRead.Load()))
}
