package irc

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	ircv4 "gopkg.in/irc.v4"
)

func TestCheckLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{":srv 001 quotesd :Welcome", true},
		{"PING :x", true},
		{"@time=1 :a!b@c PRIVMSG #q :hi", true},
		{"@a ", false},         // irc.v4's parser panics on this
		{":srv 001", false},    // irc.v4's 001 handler would index a missing nick
		{":prefixonly", false}, // no command
		{"PRIVMSG #q :a\x00b", false},
		{"PRIVMSG #q :a\rQUIT", false},
		{"   ", false},
		{":a!b@c NICK :", false}, // an empty nick
		{":a!b@c NICK", false},
		{":a!b@c NICK :two words", false},
		{":a!b@c NICK :#chan", false},
		{":a!b@c NICK newnick", true},
		{":a!b@c NICK :0ABCDEFGH", true}, // a UID, as servers rename a collision
		{":srv 001 :", false},            // a 001 whose nick is empty
		{":srv 433 quotesd", false},      // a nick refusal without the nick refused
		{":srv 433 * quotesd :in use", true},
		{":srv 005", false}, // a numeric without its target
		{":srv 396 quotesd", false},
		{":srv 396 quotesd :", false}, // an empty host
		{":srv 396 quotesd hidden.example :is now your hidden host", true},
		{":srv 474 quotesd", false},
		{":x!y@z KICK #q", false},
		{":x!y@z INVITE quotesd", false},
		{":x!y@z PRIVMSG #q", false},
	}
	for _, tt := range tests {
		m, reason := checkLine(tt.line)
		if (m != nil) != tt.ok {
			t.Errorf("checkLine(%q) = %v, %q; want ok=%v", tt.line, m, reason, tt.ok)
		}
	}
}

// FuzzCheckLine: whatever a server sends, checking never panics, and what
// passes is something irc.v4 parses without error.
func FuzzCheckLine(f *testing.F) {
	for _, s := range []string{":a!b@c PRIVMSG #x :hi", "@a ", "@a :b ", ":x 001", "PING", "@;=;= :: :"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		line = strings.TrimRight(line, "\r\n")
		m, _ := checkLine(line)
		if m == nil {
			return
		}
		if _, err := ircv4.ParseMessage(line); err != nil {
			t.Fatalf("checkLine accepted %q, which irc.v4 rejects: %v", line, err)
		}
	})
}

func TestLineConn_SkipsOverlongAndMalformedLines(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	lc := newLineConn(client, slog.New(slog.DiscardHandler), 5*time.Second)
	go func() {
		defer server.Close()
		io.WriteString(server, ":srv NOTICE * :"+strings.Repeat("x", maxIn+100)+"\r\n")
		io.WriteString(server, "@a \r\n\r\n:srv 001\r\n")
		io.WriteString(server, ":srv 001 quotesd :Welcome\r\n")
	}()
	r := bufio.NewReader(lc)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := ":srv 001 quotesd :Welcome\r\n"; line != want {
		t.Errorf("first line read = %q, want %q (the bad ones skipped)", line, want)
	}
}

func TestLineConn_SilentServerTimesOut(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	lc := newLineConn(client, slog.New(slog.DiscardHandler), 50*time.Millisecond)
	_, _, err := lc.readMessage()
	if err == nil || !strings.Contains(err.Error(), "silent") {
		t.Errorf("read from a silent server: err = %v, want a timeout naming the silence", err)
	}
}

func TestAuthenticateLines_SplitsAt400(t *testing.T) {
	short := authenticateLines("bot", "pw")
	if len(short) != 1 || short[0] != "AUTHENTICATE Ym90AGJvdABwdw==" {
		t.Errorf("short payload = %q", short)
	}
	// 300 bytes of raw payload make exactly 400 of base64: a "+" must follow.
	exact := authenticateLines("u", strings.Repeat("p", 300-4))
	if len(exact) != 2 || len(exact[0]) != len("AUTHENTICATE ")+400 || exact[1] != "AUTHENTICATE +" {
		t.Errorf("400-byte payload lines = %d, last %q; want a chunk and then +", len(exact), exact[len(exact)-1])
	}
	long := authenticateLines("u", strings.Repeat("p", 500))
	if len(long) != 2 || len(long[0]) != len("AUTHENTICATE ")+400 {
		t.Errorf("long payload split into %d lines", len(long))
	}
}
