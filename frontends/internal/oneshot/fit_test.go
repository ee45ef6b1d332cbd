package oneshot

import "testing"

func TestCRLF_EndsEveryLineWithCRLF(t *testing.T) {
	tests := []struct{ in, want string }{
		{"one", "one\r\n"},
		{"one\ntwo", "one\r\ntwo\r\n"},
		{"one\r\ntwo\n", "one\r\ntwo\r\n"},
		{"a\rb", "a\r\nb\r\n"},
	}
	for _, tt := range tests {
		if got := string(CRLF(tt.in)); got != tt.want {
			t.Errorf("CRLF(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCutWords_NeverCutsMidWord(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"the quick brown fox", 12, "the quick"},
		{"the quick brown fox", 9, "the quick"},
		{"the quick\r\nbrown fox", 15, "the quick"},
		{"unbreakable", 5, "unbre"}, // one word longer than the room: no better place
		{"déjà vu", 2, "d"},         // ... but never inside a character
		{"a b", 0, ""},
	}
	for _, tt := range tests {
		if got := string(CutWords([]byte(tt.in), tt.n)); got != tt.want {
			t.Errorf("CutWords(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
