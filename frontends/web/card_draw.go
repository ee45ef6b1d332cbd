package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/quotesd/quotesd/quoter"
)

// cardTheme is a card's palette: the site's, from assets/static/style.css
// (the light theme and the one of prefers-color-scheme: dark).
type cardTheme struct {
	name                                string
	bg, text, muted, accent, rule, mark color.NRGBA
}

var (
	themeLight = cardTheme{name: "light",
		bg: rgb(0xfbf8f3), text: rgb(0x1f1c18), muted: rgb(0x5d574e), accent: rgb(0x9a3f12), rule: rgb(0xe2d9ca)}
	themeDark = cardTheme{name: "dark",
		bg: rgb(0x15161a), text: rgb(0xece7de), muted: rgb(0xaaa398), accent: rgb(0xf2a56f), rule: rgb(0x30323a)}
)

func init() {
	// The mark behind the quote is the accent at a quarter, as on the
	// pages (.quote-text::before, opacity 0.25), made opaque.
	for _, t := range []*cardTheme{&themeLight, &themeDark} {
		t.mark = blend(t.bg, t.accent, 0.25)
	}
}

func rgb(v uint32) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

func blend(a, b color.NRGBA, t float64) color.NRGBA {
	mix := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.NRGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 0xff}
}

func (t *cardTheme) color(c cardColor) color.NRGBA {
	switch c {
	case colorMuted:
		return t.muted
	case colorAccent:
		return t.accent
	case colorMark:
		return t.mark
	}
	return t.text
}

// pngEncoder compresses fast: a card is flat colour and text, which the
// fastest zlib level already packs well, and a cold card is rendered
// while its client waits. Its buffers are pooled.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngPool{}}

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b
}
func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// drawPNG draws l in theme t and encodes it as a PNG.
//
// The image is paletted, and drawn straight into its palette: a card
// holds its background, the rule and four colours of text, each with the
// shades of its anti-aliased edges (cardLevels of them: as many as the
// eye tells apart on a glyph's edge, and fewer make a smaller file), which
// fit a palette of 256. That is a
// quarter of the memory of RGBA, and a quarter of the bytes to filter and
// compress (Go's encoder does not filter paletted rows), which is most of
// a cold card's time.
func drawPNG(l *cardLayout, t *cardTheme) ([]byte, error) {
	fs, err := cardFonts()
	if err != nil {
		return nil, err
	}
	img := image.NewPaletted(image.Rect(0, 0, l.W, l.H), t.palette())
	// Index 0, the background, is the zero value: the image starts filled.
	ry := int(l.RuleY + 0.5)
	rh := max(1, l.W/1200)
	fill(img, image.Rect(int(l.RuleX0), ry, int(l.RuleX1+0.5), ry+rh), paletteRule)
	faces := map[[2]uint64]font.Face{} // by font and size: one per size used
	for _, group := range [][]cardRun{l.Other, l.Lines, l.Attr} {
		for _, r := range group {
			key := [2]uint64{uint64(r.Font), uint64(r.Size * 64)}
			face := faces[key]
			if face == nil {
				if face, err = opentype.NewFace(fs.font(r.Font), &opentype.FaceOptions{Size: r.Size, DPI: 72, Hinting: font.HintingNone}); err != nil {
					return nil, quoter.Internal("making the card font's face", err)
				}
				faces[key] = face
			}
			drawRun(img, face, r)
		}
	}
	var b bytes.Buffer
	b.Grow(l.W * l.H / 16)
	if err := pngEncoder.Encode(&b, img); err != nil {
		return nil, quoter.Internal("encoding a card", err)
	}
	return b.Bytes(), nil
}

// cardLevels is how many shades of each text colour the palette holds,
// the full colour last. 63 made the longest quote's card 8 % bigger, with no edge
// a reader could tell from these 15.
const cardLevels = 15

// The palette: the background at 0, the rule at 1, then cardLevels shades
// of each cardColor, in cardColor order.
const (
	paletteBg   = 0
	paletteRule = 1
	paletteText = 2
)

func (t *cardTheme) palette() color.Palette {
	p := make(color.Palette, 0, paletteText+4*cardLevels)
	p = append(p, t.bg, t.rule)
	for c := colorText; c <= colorMark; c++ {
		for lv := 1; lv <= cardLevels; lv++ {
			p = append(p, blend(t.bg, t.color(c), float64(lv)/cardLevels))
		}
	}
	return p
}

func fill(img *image.Paletted, r image.Rectangle, idx uint8) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = idx
		}
	}
}

// drawRun draws r's glyphs with face into img: each pixel a glyph covers
// takes the shade of r's colour its coverage says, unless it already
// shows a stronger shade (where the faint mark meets the quote, the
// quote wins).
func drawRun(img *image.Paletted, face font.Face, r cardRun) {
	base := paletteText + int(r.Color)*cardLevels - 1 // + level (1..cardLevels)
	dot := fixed.Point26_6{X: fixed.Int26_6(r.X * 64), Y: fixed.Int26_6(r.Y * 64)}
	prev := rune(-1)
	for _, c := range r.Text {
		if prev >= 0 {
			dot.X += face.Kern(prev, c)
		}
		// The glyph is drawn at the whole pixel nearest its place (the
		// advance still adds up in fractions, so a line keeps the width
		// the layout measured): every "e" of the card is then the same
		// pixels, which zlib stores once and refers back to.
		at := fixed.Point26_6{X: fixed.I(dot.X.Round()), Y: fixed.I(dot.Y.Round())}
		dr, mask, mp, adv, ok := face.Glyph(at, c)
		if !ok {
			// No glyph in the Go font (a script it does not cover): its
			// .notdef box, as the PNG cannot fall back to another font.
			dr, mask, mp, adv, _ = face.Glyph(at, '\ufffd')
		}
		prev = c
		dot.X += adv
		a, isAlpha := mask.(*image.Alpha)
		if !isAlpha {
			continue
		}
		clip := dr.Intersect(img.Rect)
		for y := clip.Min.Y; y < clip.Max.Y; y++ {
			mrow := a.Pix[a.PixOffset(mp.X+clip.Min.X-dr.Min.X, mp.Y+y-dr.Min.Y):]
			drow := img.Pix[img.PixOffset(clip.Min.X, y):]
			for x := 0; x < clip.Dx(); x++ {
				cov := mrow[x]
				if cov == 0 {
					continue
				}
				lv := (int(cov)*cardLevels + 254) / 255
				if cur := drow[x]; cur >= paletteText && (int(cur)-paletteText)%cardLevels+1 > lv {
					continue
				}
				drow[x] = uint8(base + lv)
			}
		}
	}
}

// drawSVG writes l as SVG: every run a <text> at the layout's position,
// with textLength set to the width measured with the Go font, so that a
// reader without that font (most of them) sees the text fitted to the
// same lines in the font-family's fallback, never overflowing. Theme
// "auto" follows the reader's prefers-color-scheme.
func drawSVG(l *cardLayout, t *cardTheme, auto bool, title string) []byte {
	var b strings.Builder
	b.Grow(4096)
	w, h := strconv.Itoa(l.W), strconv.Itoa(l.H)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="` + w + `" height="` + h + `" viewBox="0 0 ` + w + ` ` + h + `" role="img" aria-label="`)
	xmlEscape(&b, title)
	b.WriteString(`"><title>`)
	xmlEscape(&b, title)
	b.WriteString("</title>\n<style>\n")
	svgPalette(&b, t)
	if auto {
		b.WriteString("@media (prefers-color-scheme: dark) {\n")
		svgPalette(&b, &themeDark)
		b.WriteString("}\n")
	}
	b.WriteString(`text { font-family: Go, "Go Regular", system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Ubuntu, Cantarell, "Helvetica Neue", Arial, sans-serif; white-space: pre; }
.m { font-weight: 500; } .i { font-style: italic; }
</style>
<rect class="bg" width="100%" height="100%"/>
`)
	b.WriteString(`<rect class="rule" x="` + num(l.RuleX0) + `" y="` + num(l.RuleY) + `" width="` + num(l.RuleX1-l.RuleX0) + `" height="` + num(max(1, float64(l.W)/1200)) + "\"/>\n")
	for _, group := range [][]cardRun{l.Other, l.Lines, l.Attr} {
		for _, r := range group {
			b.WriteString(`<text class="`)
			b.WriteString([]string{"t", "u", "a", "k"}[r.Color])
			switch r.Font {
			case fontMedium:
				b.WriteString(" m")
			case fontItalic:
				b.WriteString(" i")
			}
			b.WriteString(`" x="` + num(r.X) + `" y="` + num(r.Y) + `" font-size="` + num(r.Size) + `"`)
			if r.Width > 0 && strings.TrimSpace(r.Text) != "" {
				b.WriteString(` textLength="` + num(r.Width) + `" lengthAdjust="spacingAndGlyphs"`)
			}
			b.WriteString(">")
			xmlEscape(&b, r.Text)
			b.WriteString("</text>\n")
		}
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// svgPalette writes the classes of theme t's colours: bg, rule and the
// cardColor classes t, u, a, k.
func svgPalette(b *strings.Builder, t *cardTheme) {
	for _, c := range []struct {
		class, prop string
		c           color.NRGBA
	}{{".bg", "fill", t.bg}, {".rule", "fill", t.rule}, {".t", "fill", t.text}, {".u", "fill", t.muted}, {".a", "fill", t.accent}, {".k", "fill", t.mark}} {
		b.WriteString(c.class + " { " + c.prop + ": " + hexColor(c.c) + "; }\n")
	}
}

func hexColor(c color.NRGBA) string {
	const digits = "0123456789abcdef"
	return string([]byte{'#', digits[c.R>>4], digits[c.R&15], digits[c.G>>4], digits[c.G&15], digits[c.B>>4], digits[c.B&15]})
}

// num writes a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(float64(int(v*10+0.5))/10, 'f', -1, 64) }

// xmlEscape writes s escaped for XML text and attribute values, without
// the characters XML 1.0 does not allow (control characters).
func xmlEscape(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			if r < 0x20 && r != '\t' && r != '\n' || r == 0xfffe || r == 0xffff || r >= 0xd800 && r < 0xe000 {
				continue
			}
			b.WriteRune(r)
		}
	}
}
