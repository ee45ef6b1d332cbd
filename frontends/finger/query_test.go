package finger

import (
	"strings"
	"testing"
)

func TestParse_QueriesAndRefusals(t *testing.T) {
	tests := []struct {
		line   string
		kind   Kind
		tag    string
		reason string
	}{
		{"", Today, "", ""},
		{"   ", Today, "", ""},
		{"random", Random, "", ""},
		{"RANDOM", Random, "", ""},
		{"help", Help, "", ""},
		{"wit", Tag, "wit", ""},
		{" Poetry ", Tag, "poetry", ""},
		{"/W", Refused, "", reasonVerbose},
		{"/W wit", Refused, "", reasonVerbose},
		{"/w", Refused, "", reasonVerbose},
		{"@elsewhere", Refused, "", reasonForwarding},
		{"user@host", Refused, "", reasonForwarding},
		{"user@host@host2", Refused, "", reasonForwarding},
		{"/W user@host", Refused, "", reasonVerbose},
		{"caf\xe9", Refused, "", reasonNotUTF8},
		{"\xff\xfe", Refused, "", reasonNotUTF8},
		{"wit\x1b[2J", Refused, "", reasonControl},
		{"a\rb", Refused, "", reasonControl},
		{"a\x00", Refused, "", reasonControl},
		{"a\u0085", Refused, "", reasonControl}, // C1 control, valid UTF-8
		{strings.Repeat("x", MaxQuery), Tag, strings.Repeat("x", MaxQuery), ""},
		{strings.Repeat("x", MaxQuery+1), Refused, "", reasonTooLong},
	}
	for _, tt := range tests {
		q := Parse([]byte(tt.line))
		if q.Kind != tt.kind || q.Tag != tt.tag || q.Reason != tt.reason {
			t.Errorf("Parse(%q) = %+v, want kind %s, tag %q, reason %q", tt.line, q, tt.kind, tt.tag, tt.reason)
		}
		if q.Kind == Refused && (q.Refusal == "" || strings.ContainsAny(q.Refusal, "\r\n")) {
			t.Errorf("Parse(%q): refusal %q, want one line", tt.line, q.Refusal)
		}
	}
}

func TestLineQuery_WaitsForTheLineEnd(t *testing.T) {
	for _, tt := range []struct {
		buf  string
		ok   bool
		kind Kind
	}{
		{"", false, ""},
		{"rand", false, ""},
		{"random\r\n", true, Random},
		{"random\n", true, Random},
		{"\r\n", true, Today},
		{"random\r\nmore after the line", true, Random},
		{strings.Repeat("x", lineBuf), true, Refused}, // full without a line end
	} {
		q, ok := lineQuery([]byte(tt.buf))
		if ok != tt.ok || ok && q.Kind != tt.kind {
			t.Errorf("lineQuery(%q) = %+v, %v; want kind %q, %v", tt.buf, q, ok, tt.kind, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "random", "help", "wit", "/W", "a@b@c", "caf\xe9", "\x1b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		q := Parse(line)
		switch q.Kind {
		case Today, Random, Help:
		case Tag:
			if strings.ContainsAny(q.Tag, "@\r\n") || len(q.Tag) > MaxQuery {
				t.Errorf("Parse(%q): tag %q", line, q.Tag)
			}
		case Refused:
			if q.Refusal == "" || strings.ContainsAny(q.Refusal, "\r\n") {
				t.Errorf("Parse(%q): refusal %q, want one line", line, q.Refusal)
			}
		default:
			t.Errorf("Parse(%q): kind %q", line, q.Kind)
		}
	})
}
