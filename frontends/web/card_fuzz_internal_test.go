package web

import (
	"testing"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// FuzzCardLayout lays out any text, attribution and width: never a panic,
// every run inside the card, the quote's lines above the attribution.
func FuzzCardLayout(f *testing.F) {
	f.Add("Know thyself.", "Socrates", "", 0, 1200)
	f.Add("Two roads diverged in a wood, and I—\nI took the one less traveled by", "Robert Frost", "The Road Not Taken", 1916, 320)
	f.Add("Supercalifragilisticexpialidocious"+string(make([]byte, 40)), "", "\n\n", -44, 1600)
	f.Add("\u202eRTL \u05e9\u05dc\u05d5\u05dd \U0001F600 \x00\xff", "A\u0301uthor", "Source", 1, 777)
	f.Fuzz(func(t *testing.T, text, author, source string, year, width int) {
		if !utf8.ValidString(text) || !utf8.ValidString(author) || !utf8.ValidString(source) {
			return // the web refuses invalid UTF-8 before a quote is stored
		}
		width = cardMinWidth + abs(width)%(cardMaxWidth-cardMinWidth+1)
		q := &quoter.Quote{ID: 1, Text: text, Author: author, Source: source, Year: year}
		l, err := layoutCard(q, width)
		if err != nil {
			t.Fatal(err)
		}
		right := float64(width) - cardPadX*float64(width)/cardRefWidth
		var attrY float64
		for _, r := range l.Attr {
			attrY = r.Y
			if r.X+r.Width > right+0.5 {
				t.Errorf("attribution run %q ends at %.1f, past %.1f", r.Text, r.X+r.Width, right)
			}
		}
		for _, r := range l.Lines {
			if r.X+r.Width > right+0.5 || r.Y >= attrY || r.Y < 0 {
				t.Errorf("line %q at (%.1f, %.1f) to %.1f: outside the frame (right %.1f, attribution at %.1f)", r.Text, r.X, r.Y, r.X+r.Width, right, attrY)
			}
		}
		if len(l.Lines) > 40 {
			t.Errorf("%d lines", len(l.Lines))
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // the smallest int
			return 0
		}
		return -n
	}
	return n
}
