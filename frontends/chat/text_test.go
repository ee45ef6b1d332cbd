package chat_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello world", "hello world"},
		{"CRLF injection", "line one\r\nQUIT :bye", "line one QUIT :bye"},
		{"NUL", "a\x00b", "ab"},
		{"bold italics underline reverse reset strike mono", "\x02b\x02 \x1di\x1d \x1fu\x1f \x16r\x16 \x0f\x1es\x1e \x11m", "b i u r s m"},
		{"colour with numbers", "\x034red\x03 \x0304,12both\x03 \x03,5comma", "red both ,5comma"},
		{"hex colour", "\x04FF0000red\x04 \x04ff0000,00ff00two", "red two"},
		{"CTCP delimiter", "\x01ACTION waves\x01", "ACTION waves"},
		{"C1 control and DEL", "a\u0085b\x7fc", "abc"},
		{"tabs and runs of space", "  a\t\tb   c  ", "a b c"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"line separator", "a\u2028b", "a b"},
		{"non-ASCII kept", "“Ça va” — naïve", "“Ça va” — naïve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chat.Sanitize(tt.in); got != tt.want {
				t.Errorf("chat.Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplit_BreaksOnWordsWithinWidth(t *testing.T) {
	got := chat.Split("the quick brown fox jumps over the lazy dog", 16, 3)
	want := []string{"the quick brown", "fox jumps over", "the lazy dog"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("split = %q, want %q", got, want)
	}
}

func TestSplit_TruncatesWithEllipsisAfterMaxLines(t *testing.T) {
	got := chat.Split(strings.Repeat("word ", 40), 20, 3)
	if len(got) != 3 {
		t.Fatalf("got %d lines, want 3: %q", len(got), got)
	}
	if !strings.HasSuffix(got[2], "…") {
		t.Errorf("last line %q does not end with an ellipsis", got[2])
	}
	for _, l := range got {
		if len(l) > 20 {
			t.Errorf("line %q is %d bytes, over 20", l, len(l))
		}
	}
}

func TestSplitKeeping_CutsTheTextAndKeepsTheTail(t *testing.T) {
	tail := "— Someone, Somewhere (1900) [#42]"
	got := chat.SplitKeeping(strings.Repeat("wörd ", 60), tail, 40, 3)
	if len(got) != 3 {
		t.Fatalf("got %d lines, want 3: %q", len(got), got)
	}
	for _, l := range got {
		if len(l) > 40 || !utf8.ValidString(l) {
			t.Errorf("line %q is %d bytes (over 40?) or not UTF-8", l, len(l))
		}
	}
	if joined := strings.Join(got, " "); !strings.HasSuffix(joined, "wörd… "+tail) {
		t.Errorf("lines %q: want the text cut after a word, an ellipsis, then %q whole", got, tail)
	}
	// Text that fits is not cut, and the tail follows it.
	if got := chat.SplitKeeping("Short.", tail, 40, 3); strings.Join(got, " ") != "Short. "+tail {
		t.Errorf("short text: got %q", got)
	}
}

func TestSplit_LongWordCutOnRuneBoundary(t *testing.T) {
	word := strings.Repeat("é", 30) // 60 bytes, no space
	got := chat.Split(word, 15, 10)
	if strings.Join(got, "") != word {
		t.Errorf("pieces %q do not rejoin to the word", got)
	}
	for _, l := range got {
		if !utf8.ValidString(l) || len(l) > 15 {
			t.Errorf("piece %q: valid=%v len=%d, want valid and <= 15", l, utf8.ValidString(l), len(l))
		}
	}
}

func TestSplit_ShortTextIsOneLine(t *testing.T) {
	if got := chat.Split("  short  ", 100, 3); len(got) != 1 || got[0] != "short" {
		t.Errorf("split = %q, want [short]", got)
	}
	if got := chat.Split("", 100, 3); len(got) != 0 {
		t.Errorf("split of empty text = %q, want none", got)
	}
}

// FuzzSanitizeSplit checks the promises the bot's output rests on, for any
// input: no CR, LF, NUL or other control byte survives, the result is valid
// UTF-8, and split never exceeds its width or line count nor loses text
// when it does not have to truncate.
func FuzzSanitizeSplit(f *testing.F) {
	for _, s := range []string{"hello", "a\r\nQUIT :x", "\x0304,05col\x03", "é\xff\x00", strings.Repeat("word ", 100), strings.Repeat("長", 200)} {
		f.Add(s, 40, 3)
	}
	f.Fuzz(func(t *testing.T, s string, width, lines int) {
		clean := chat.Sanitize(s)
		if !utf8.ValidString(clean) {
			t.Fatalf("chat.Sanitize(%q) = %q: invalid UTF-8", s, clean)
		}
		for _, r := range clean {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("chat.Sanitize(%q) = %q: control %U survives", s, clean, r)
			}
		}
		if chat.Sanitize(clean) != clean {
			t.Fatalf("sanitize is not idempotent on %q", s)
		}
		width = 8 + abs(width)%600
		lines = 1 + abs(lines)%5
		out := chat.Split(clean, width, lines)
		if len(out) > lines {
			t.Fatalf("split gave %d lines, max %d", len(out), lines)
		}
		for _, l := range out {
			if len(l) > width || l == "" || !utf8.ValidString(l) {
				t.Fatalf("split line %q: len %d (width %d), valid %v", l, len(l), width, utf8.ValidString(l))
			}
		}
		const tail = "— Author, Work (1900) [#1]"
		for _, l := range chat.SplitKeeping(clean, tail, width, lines) {
			if len(l) > width || l == "" || !utf8.ValidString(l) {
				t.Fatalf("splitKeeping line %q: len %d (width %d), valid %v", l, len(l), width, utf8.ValidString(l))
			}
		}
		if kept := chat.SplitKeeping(clean, tail, width, lines); len(kept) > lines {
			t.Fatalf("splitKeeping gave %d lines, max %d", len(kept), lines)
		}
		if len(out) > 0 && !strings.HasSuffix(out[len(out)-1], "…") {
			if got, want := strings.Join(strings.Fields(strings.Join(out, "")), ""), strings.Join(strings.Fields(clean), ""); got != want {
				t.Fatalf("split lost text: %q -> %q", clean, out)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// cleanText removes what clients add for show and refuses the other
// control characters with the core's words.
func TestCleanText(t *testing.T) {
	tests := []struct{ in, want, bad string }{
		{"  plain  text ", "plain  text", ""},
		{"\x02b\x02\x1di\x1d\x1fu\x1f\x1es\x1e\x11m\x11\x16r\x16\x0fo", "biusmro", ""},
		{"\x0312green\x03 \x034,1red on black\x03", "green red on black", ""},
		{"\x04FF0000hex\x04", "hex", ""},
		{"a\tb", "a b", ""},
		{"nul\x00", "", "text contains control characters"},
		{"\x01ACTION waves\x01", "", "text contains control characters"},
		{"bell\x07", "", "text contains control characters"},
		{"c1\u0085", "", "text contains control characters"},
		{"élan — ok 🙂", "élan — ok 🙂", ""},
	}
	for _, tt := range tests {
		got, bad := chat.CleanText(tt.in)
		if got != tt.want || bad != tt.bad {
			t.Errorf("CleanText(%q) = %q, %q; want %q, %q", tt.in, got, bad, tt.want, tt.bad)
		}
	}
}

func TestQuoteParts_TextAndATailToKeep(t *testing.T) {
	q := &quoter.Quote{ID: 42, Text: "Line one\r\nline\x02 two", Author: "Someone", Removed: true}
	text, tail := chat.QuoteParts(q)
	if want := "Line one / line two"; text != want {
		t.Errorf("text = %q, want %q (verse inline, controls removed)", text, want)
	}
	if want := "— Someone [#42] " + chat.RemovedNote; tail != want {
		t.Errorf("tail = %q, want %q", tail, want)
	}
}

func TestFit_ABudgetOfBytesPerLine(t *testing.T) {
	tail := "— Someone [#42]"
	for _, width := range []int{40, 400, 4000} {
		lines := chat.Fit(strings.Repeat("word\n", 300), tail, width, 2)
		if len(lines) == 0 || len(lines) > 2 {
			t.Fatalf("width %d: %d lines, want 1 or 2", width, len(lines))
		}
		for _, l := range lines {
			if len(l) > width || strings.ContainsAny(l, "\r\n") {
				t.Errorf("width %d: line of %d bytes or with a line break: %q", width, len(l), l)
			}
		}
		if !strings.HasSuffix(lines[len(lines)-1], tail) {
			t.Errorf("width %d: the tail is lost: %q", width, lines)
		}
	}
	if got, want := chat.FitLen(400, 3), 3*400-64; got != want {
		t.Errorf("FitLen(400, 3) = %d, want %d", got, want)
	}
}
