package web

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/quotesd/quotesd/quoter"
)

// A quote card is laid out once, in pixels, from the real metrics of the
// font the PNG is drawn with; the PNG and the SVG
// (both in card_draw.go) are both drawn from that one layout, so the lines of an
// SVG break where the PNG's do and neither overflows its frame.
//
// The font is the Go font family (golang.org/x/image/font/gofont, by
// Bigelow & Holmes, under the Go licence, BSD-3-Clause: see NOTICE),
// compiled into the binary: the site's pages use the reader's system
// fonts, which a server cannot measure. Go Regular sets the quote, Go
// Medium the author and Go Italic the work, as the pages set the author
// in a heavier weight and the work in italics.

// The bounds of ?width=, and the card's proportions: 1200×630 is the size
// Open Graph and Twitter's large summary card show without cropping.
const (
	cardMinWidth     = 320
	cardMaxWidth     = 1600
	cardDefaultWidth = 1200
	cardRefWidth     = 1200 // the width the layout's sizes below are given at
	cardRefHeight    = 630
)

// The layout at the reference width; each scales with the card's width.
const (
	cardPadX       = 96.0  // left and right margins
	cardTextTop    = 96.0  // top of the quote's block
	cardTextMax    = 56.0  // largest quote size: a short quote
	cardTextMin    = 28.0  // smallest: below it, the quote is cut with an ellipsis
	cardTextStep   = 2.0   // the quote shrinks by this much at a time
	cardLeading    = 1.32  // line height / size
	cardAttrSize   = 30.0  // the attribution
	cardAttrBase   = 500.0 // its baseline
	cardRuleY      = 548.0 // the rule above the brand
	cardBrandSize  = 24.0
	cardBrandBase  = 592.0
	cardMarkSize   = 160.0 // the opening quotation mark behind the quote
	cardMarkX      = 52.0
	cardMarkBase   = 170.0
	cardGapAbove   = 36.0 // between the quote's last line and the attribution
	cardMaxRunes   = 1500 // a quote is cut to this many characters before layout
	cardMaxAttrRun = 300  // and each part of the attribution to this many
)

// cardFonts are the parsed faces, parsed once on the first card.
var cardFonts = sync.OnceValues(func() (*cardFontSet, error) {
	var s cardFontSet
	var err error
	for _, f := range []struct {
		dst **opentype.Font
		ttf []byte
	}{{&s.regular, goregular.TTF}, {&s.medium, gomedium.TTF}, {&s.italic, goitalic.TTF}} {
		if *f.dst, err = opentype.Parse(f.ttf); err != nil {
			return nil, quoter.Internal("parsing the card font", err)
		}
	}
	return &s, nil
})

type cardFontSet struct{ regular, medium, italic *opentype.Font }

// cardFont names one of the three faces.
type cardFont uint8

const (
	fontRegular cardFont = iota
	fontMedium
	fontItalic
)

func (s *cardFontSet) font(f cardFont) *opentype.Font {
	switch f {
	case fontMedium:
		return s.medium
	case fontItalic:
		return s.italic
	}
	return s.regular
}

// cardColor names a colour of the theme (see cardTheme).
type cardColor uint8

const (
	colorText cardColor = iota
	colorMuted
	colorAccent
	colorMark
)

// cardRun is a piece of text set at one place, in one face, size and
// colour; X is its left end and Y its baseline, Width its measured advance.
type cardRun struct {
	Text   string
	Font   cardFont
	Color  cardColor
	Size   float64
	X, Y   float64
	Width  float64
	Anchor string // "" (start) or "end", for the SVG
}

// cardLayout is a card's frame and every run of text in it, and the rule.
type cardLayout struct {
	W, H   int
	Lines  []cardRun // the quote, one run per line
	Attr   []cardRun // "— Author, Work (year)"
	Other  []cardRun // the mark behind the quote, the brand
	RuleY  float64
	RuleX0 float64
	RuleX1 float64
}

// cardHeight is the height of a card of width w.
func cardHeight(w int) int { return (w*cardRefHeight + cardRefWidth/2) / cardRefWidth }

// measurer measures text in one face at a reference size (100 px, no
// hinting) and scales: without hinting, advances grow linearly with size,
// so a quote is measured once however many sizes it is tried at.
type measurer struct {
	faces [3]font.Face
}

const measureRef = 100.0

func newMeasurer(fs *cardFontSet) (*measurer, error) {
	var m measurer
	for i := range m.faces {
		f, err := opentype.NewFace(fs.font(cardFont(i)), &opentype.FaceOptions{Size: measureRef, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			return nil, quoter.Internal("making the card font's face", err)
		}
		m.faces[i] = f
	}
	return &m, nil
}

// width is the advance of s in face f at size px.
func (m *measurer) width(f cardFont, s string, px float64) float64 {
	return fix(font.MeasureString(m.faces[f], s)) * px / measureRef
}

// ascent and descent of face f at size px.
func (m *measurer) ascent(f cardFont, px float64) float64 {
	return fix(m.faces[f].Metrics().Ascent) * px / measureRef
}

func (m *measurer) descent(f cardFont, px float64) float64 {
	return fix(m.faces[f].Metrics().Descent) * px / measureRef
}

func fix(v fixed.Int26_6) float64 { return float64(v) / 64 }

// cardWord is a word of the quote with its width at the reference size;
// brk says a hard line break (from the quote's text) comes before it.
type cardWord struct {
	text string
	w    float64
	brk  bool
}

// layoutCard lays q out on a card of width w (already within bounds).
func layoutCard(q *quoter.Quote, w int) (*cardLayout, error) {
	fs, err := cardFonts()
	if err != nil {
		return nil, err
	}
	m, err := newMeasurer(fs)
	if err != nil {
		return nil, err
	}
	u := float64(w) / cardRefWidth
	l := &cardLayout{W: w, H: cardHeight(w)}
	left, right := cardPadX*u, float64(w)-cardPadX*u
	maxW := right - left

	// The attribution first: the quote has the room above it.
	l.Attr = layoutAttribution(m, q, left, cardAttrBase*u, cardAttrSize*u, maxW)

	words, spaceW := cardWords(m, q.Text)
	top := cardTextTop * u
	bottom := cardAttrBase*u - m.ascent(fontMedium, cardAttrSize*u) - cardGapAbove*u
	for size := cardTextMax; ; size -= cardTextStep {
		px := size * u
		lead := px * cardLeading
		asc, desc := m.ascent(fontRegular, px), m.descent(fontRegular, px)
		room := int((bottom-top-asc-desc)/lead) + 1
		lines, fits := wrapWords(m, words, spaceW, px, maxW, room)
		if fits || size-cardTextStep < cardTextMin {
			if !fits {
				lines = ellipsize(m, lines, px, maxW)
			}
			// Centre the block in its room.
			block := asc + desc + lead*float64(len(lines)-1)
			y := top + (bottom-top-block)/2 + asc
			for i, s := range lines {
				l.Lines = append(l.Lines, cardRun{Text: s, Font: fontRegular, Color: colorText, Size: px,
					X: left, Y: y + lead*float64(i), Width: m.width(fontRegular, s, px)})
			}
			break
		}
	}

	l.RuleY, l.RuleX0, l.RuleX1 = cardRuleY*u, left, right
	mark := cardRun{Text: "“", Font: fontRegular, Color: colorMark, Size: cardMarkSize * u, X: cardMarkX * u, Y: cardMarkBase * u}
	mark.Width = m.width(fontRegular, mark.Text, mark.Size)
	bs := cardBrandSize * u
	bm := cardRun{Text: "“", Font: fontMedium, Color: colorAccent, Size: bs * 1.3, X: left, Y: cardBrandBase*u + 0.22*bs}
	bm.Width = m.width(fontMedium, bm.Text, bm.Size)
	brand := cardRun{Text: "quotesd", Font: fontMedium, Color: colorText, Size: bs, X: left + bm.Width + 0.1*bs, Y: cardBrandBase * u}
	brand.Width = m.width(fontMedium, brand.Text, bs)
	l.Other = []cardRun{mark, bm, brand}
	if id := "#" + strconv.FormatInt(q.ID, 10); q.ID > 0 {
		r := cardRun{Text: id, Font: fontRegular, Color: colorMuted, Size: bs, Y: cardBrandBase * u, Anchor: "end"}
		r.Width = m.width(fontRegular, id, bs)
		r.X = right - r.Width
		l.Other = append(l.Other, r)
	}
	return l, nil
}

// cardWords splits text into words measured at the reference size, with
// its line breaks kept (poems), after cutting it to cardMaxRunes: more
// could never fit at the smallest size, and it bounds the work.
func cardWords(m *measurer, text string) ([]cardWord, float64) {
	if utf8.RuneCountInString(text) > cardMaxRunes {
		text = string([]rune(text)[:cardMaxRunes]) + "…"
	}
	var words []cardWord
	for i, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		for j, f := range strings.Fields(para) {
			words = append(words, cardWord{text: f, w: m.width(fontRegular, f, measureRef), brk: i > 0 && j == 0})
		}
	}
	return words, m.width(fontRegular, " ", measureRef)
}

// wrapWords breaks words into lines no wider than maxW at size px, and
// reports whether they fit in room lines. It stops at room+1 lines: the
// caller only needs to know that they do not fit, and which line would
// be cut. A word wider than a line is broken between its characters.
func wrapWords(m *measurer, words []cardWord, spaceW, px, maxW float64, room int) ([]string, bool) {
	scale := px / measureRef
	var lines []string
	var cur strings.Builder
	curW := 0.0
	flush := func() {
		lines = append(lines, cur.String())
		cur.Reset()
		curW = 0
	}
	for i, wd := range words {
		w := wd.w * scale
		switch {
		case i > 0 && wd.brk:
			flush()
		case cur.Len() > 0 && curW+spaceW*scale+w > maxW:
			flush()
		case cur.Len() > 0:
			cur.WriteByte(' ')
			curW += spaceW * scale
		}
		if len(lines) > room {
			return lines, false
		}
		if w <= maxW {
			cur.WriteString(wd.text)
			curW += w
			continue
		}
		// A word longer than a line: as many characters as fit, then on.
		for _, r := range wd.text {
			rw := m.width(fontRegular, string(r), px)
			if cur.Len() > 0 && curW+rw > maxW {
				flush()
				if len(lines) > room {
					return lines, false
				}
			}
			cur.WriteRune(r)
			curW += rw
		}
	}
	if cur.Len() > 0 {
		flush()
	}
	return lines, len(lines) <= room
}

// ellipsize keeps the lines that fit (all but the last of what wrapWords
// returned when they did not fit) and ends the last kept one with an
// ellipsis, taking words, then characters, off it until it fits.
func ellipsize(m *measurer, lines []string, px, maxW float64) []string {
	if len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	last := lines[len(lines)-1]
	for {
		s := strings.TrimRight(last, " ,;:.-—–") + "…"
		if m.width(fontRegular, s, px) <= maxW || last == "" {
			lines[len(lines)-1] = s
			return lines
		}
		if i := strings.LastIndexByte(last, ' '); i > 0 {
			last = last[:i]
		} else {
			_, n := utf8.DecodeLastRuneInString(last)
			last = last[:len(last)-n]
		}
	}
}

// layoutAttribution sets "— Author, Work (year)" on one line at baseline
// y: the work, then the author, is cut with an ellipsis when the whole
// is wider than maxW.
func layoutAttribution(m *measurer, q *quoter.Quote, x, y, px, maxW float64) []cardRun {
	runs := []cardRun{{Text: "— ", Font: fontRegular, Color: colorAccent}}
	runs = append(runs, cardRun{Text: capRunes(oneLine(q.Author), cardMaxAttrRun), Font: fontMedium, Color: colorText})
	if q.Source != "" {
		runs = append(runs, cardRun{Text: ", ", Font: fontRegular, Color: colorMuted},
			cardRun{Text: capRunes(oneLine(q.Source), cardMaxAttrRun), Font: fontItalic, Color: colorMuted})
	}
	if q.Year != 0 {
		runs = append(runs, cardRun{Text: " (" + formatYear(q.Year) + ")", Font: fontRegular, Color: colorMuted})
	}
	total := func() float64 {
		t := 0.0
		for i := range runs {
			runs[i].Size = px
			runs[i].Width = m.width(runs[i].Font, runs[i].Text, px)
			t += runs[i].Width
		}
		return t
	}
	// Too wide: cut the work, or drop it when little of it would be left,
	// then drop the year, then cut the author.
	work := -1
	if q.Source != "" {
		work = 3
	}
	if t := total(); t > maxW && work > 0 {
		avail := maxW - (t - runs[work].Width)
		if avail >= 4*px {
			runs[work].Text = fitPrefix(m, runs[work].Font, runs[work].Text, px, avail)
		} else {
			runs = append(runs[:2], runs[4:]...)
		}
	}
	if total() > maxW && len(runs) > 2 {
		runs = runs[:2]
	}
	if t := total(); t > maxW {
		runs[1].Text = fitPrefix(m, runs[1].Font, runs[1].Text, px, maxW-runs[0].Width)
	}
	total()
	for i := range runs {
		runs[i].X, runs[i].Y = x, y
		x += runs[i].Width
	}
	return runs
}

// oneLine collapses white space, line breaks included.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// fitPrefix is the longest prefix of s that, ended with an ellipsis, is at
// most avail wide in face f at size px (found by bisection: the width of
// a prefix grows with its length).
func fitPrefix(m *measurer, f cardFont, s string, px, avail float64) string {
	rs := []rune(s)
	cut := func(n int) string { return strings.TrimRight(string(rs[:n]), " ,;:") + "…" }
	lo, hi := 0, len(rs) // cut(lo) fits (or lo is 0); cut(hi+1) does not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if m.width(f, cut(mid), px) <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return cut(lo)
}
