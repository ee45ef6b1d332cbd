package quoter

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Normalize tidies q in place before it is validated or stored: CRLF and CR
// become LF, trailing white space is cut from each line, leading and
// trailing blank lines go, the author and source are trimmed and their inner
// white space folded, tags are lower-cased, trimmed and deduplicated, an
// empty language becomes "en" and an empty collection DefaultCollection.
func Normalize(q *Quote) {
	text := strings.ReplaceAll(q.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	q.Text = strings.Trim(strings.Join(lines, "\n"), "\n")
	q.Author = strings.Join(strings.Fields(q.Author), " ")
	q.Source = strings.Join(strings.Fields(q.Source), " ")
	q.Lang = strings.TrimSpace(q.Lang)
	if q.Lang == "" {
		q.Lang = "en"
	}
	q.Collection = strings.TrimSpace(q.Collection)
	if q.Collection == "" {
		q.Collection = DefaultCollection
	}
	seen := make(map[string]bool, len(q.Tags))
	tags := q.Tags[:0:0]
	for _, t := range q.Tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	q.Tags = tags
}

// What a tag and a language may be, compiled on first use rather than at
// package init: the Unicode classes of tagRE took about 0.5 ms at every
// start, which a socket-activated first answer waited for, though only a
// write to the library validates.
var (
	tagRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}-]*$`) })
	langRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`) })
)

// Validate reports the first problem with a normalized quote as an EINVALID
// error whose message names the field, so an importer can prefix it with a
// file and line and a frontend can show it as is.
func (q *Quote) Validate() error {
	switch {
	case strings.TrimSpace(q.Text) == "":
		return Errorf(EINVALID, "text is empty")
	case len(q.Text) > MaxTextLen:
		return Errorf(EINVALID, "text is %d bytes, over the limit of %d", len(q.Text), MaxTextLen)
	case !utf8.ValidString(q.Text):
		return Errorf(EINVALID, "text is not valid UTF-8")
	case hasControl(q.Text, true):
		return Errorf(EINVALID, "text contains control characters")
	case q.Author == "":
		return Errorf(EINVALID, "author is empty")
	case len(q.Author) > MaxAuthorLen:
		return Errorf(EINVALID, "author is over %d bytes", MaxAuthorLen)
	case !utf8.ValidString(q.Author) || hasControl(q.Author, false):
		return Errorf(EINVALID, "author is not valid single-line UTF-8")
	case len(q.Source) > MaxSourceLen:
		return Errorf(EINVALID, "source is over %d bytes", MaxSourceLen)
	case !utf8.ValidString(q.Source) || hasControl(q.Source, false):
		return Errorf(EINVALID, "source is not valid single-line UTF-8")
	}
	for _, f := range [...]struct{ name, value string }{{"text", q.Text}, {"author", q.Author}, {"source", q.Source}} {
		if r, ok := invisible(f.value); ok {
			return Errorf(EINVALID, "%s contains %s", f.name, describeInvisible(r))
		}
	}
	switch {
	case q.Year < -3000 || q.Year > 9999:
		return Errorf(EINVALID, "year %d is out of range", q.Year)
	case !langRE().MatchString(q.Lang):
		return Errorf(EINVALID, "language %q is not a BCP 47 tag such as en or pt-BR", q.Lang)
	case len(q.Tags) > MaxTags:
		return Errorf(EINVALID, "%d tags, over the limit of %d", len(q.Tags), MaxTags)
	}
	for _, t := range q.Tags {
		if len(t) > MaxTagLen || !tagRE().MatchString(t) {
			return Errorf(EINVALID, "tag %q: want lower-case letters, digits and dashes, at most %d bytes", t, MaxTagLen)
		}
	}
	if q.Collection != "" { // Normalize makes it DefaultCollection
		if err := ValidCollection(q.Collection); err != nil {
			return err
		}
	}
	if err := q.AddedBy.Validate(); err != nil {
		return Errorf(EINVALID, "added by: %s", ErrorMessage(err))
	}
	if err := q.EditedBy.Validate(); err != nil {
		return Errorf(EINVALID, "edited by: %s", ErrorMessage(err))
	}
	return nil
}

// hasControl reports control characters other than (when multiline) LF and TAB.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// invisible returns the first character of s that has no place in a quote,
// and whether there is one. Every frontend shows quotes raw: a page, a
// terminal, a mail, an IRC line. Characters that show nothing themselves
// but change how what follows is shown, or hide text, would let a quote
// spoof its own display (a RIGHT-TO-LEFT OVERRIDE in an author reverses the
// rest of the line) or make two quotes that look the same differ. Refused:
//
//   - every format character (Unicode category Cf): the bidi controls
//     U+202A-U+202E and U+2066-U+2069, the marks U+200E, U+200F and U+061C,
//     ZERO WIDTH SPACE, WORD JOINER, SOFT HYPHEN, the byte order mark
//     U+FEFF, the invisible operators, the interlinear annotation
//     characters, the tag characters, and the rest;
//   - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: lines end
//     with LF, and these break lines where no frontend expects it;
//   - the other default-ignorable code points that render as nothing
//     (Other_Default_Ignorable_Code_Point: HANGUL FILLER, the unassigned
//     code points kept for future format characters).
//
// Allowed, because scripts and emoji need them:
//
//   - U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER (Persian,
//     Indic scripts, emoji sequences such as 👩‍👩‍👧);
//   - the prepended concatenation marks (U+0600 ARABIC NUMBER SIGN, ...),
//     which are format characters that are drawn;
//   - variation selectors (U+FE0F, for emoji presentation), which are
//     marks, not format characters; so is U+034F COMBINING GRAPHEME JOINER,
//     and the Hangul choseong and jungseong fillers U+115F and U+1160 are
//     parts of the syllables they fill;
//   - tag characters in an emoji tag sequence, U+1F3F4 WAVING BLACK FLAG
//     then tag digits and small letters and U+E007F CANCEL TAG: the flags
//     of England, Scotland and Wales.
//
// Right-to-left text needs no control characters: the frontends that can
// isolate text do (HTML's dir="auto" and <bdi>).
func invisible(s string) (rune, bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\u200c' || r == '\u200d' || r == '\u034f' || r == '\u115f' || r == '\u1160':
		case r == '\U0001F3F4':
			i += emojiTagSpec(s[i:])
		case r == '\u2028' || r == '\u2029':
			return r, true
		case unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
			return r, true
		}
	}
	return 0, false
}

// emojiTagSpec returns the length in bytes of the tag spec and cancel tag
// that follow a WAVING BLACK FLAG at the start of s (UTS #51 emoji tag
// sequence: one to seven tag digits or small letters, then U+E007F), or 0
// when s does not start with one.
func emojiTagSpec(s string) int {
	for i, n := 0, 0; i < len(s); n++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\U000E007F' && n > 0:
			return i
		case n < 7 && (r >= '\U000E0030' && r <= '\U000E0039' || r >= '\U000E0061' && r <= '\U000E007A'):
		default:
			return 0
		}
	}
	return 0
}

// invisibleNames names the characters that invisible refuses and that a
// person is likely to meet; describeInvisible describes the others by
// their kind.
var invisibleNames = map[rune]string{
	'\u00ad': "SOFT HYPHEN",
	'\u061c': "ARABIC LETTER MARK",
	'\u180e': "MONGOLIAN VOWEL SEPARATOR",
	'\u200b': "ZERO WIDTH SPACE",
	'\u200e': "LEFT-TO-RIGHT MARK",
	'\u200f': "RIGHT-TO-LEFT MARK",
	'\u2028': "LINE SEPARATOR",
	'\u2029': "PARAGRAPH SEPARATOR",
	'\u202a': "LEFT-TO-RIGHT EMBEDDING",
	'\u202b': "RIGHT-TO-LEFT EMBEDDING",
	'\u202c': "POP DIRECTIONAL FORMATTING",
	'\u202d': "LEFT-TO-RIGHT OVERRIDE",
	'\u202e': "RIGHT-TO-LEFT OVERRIDE",
	'\u2060': "WORD JOINER",
	'\u2061': "FUNCTION APPLICATION",
	'\u2062': "INVISIBLE TIMES",
	'\u2063': "INVISIBLE SEPARATOR",
	'\u2064': "INVISIBLE PLUS",
	'\u2066': "LEFT-TO-RIGHT ISOLATE",
	'\u2067': "RIGHT-TO-LEFT ISOLATE",
	'\u2068': "FIRST STRONG ISOLATE",
	'\u2069': "POP DIRECTIONAL ISOLATE",
	'\u206a': "INHIBIT SYMMETRIC SWAPPING",
	'\u206b': "ACTIVATE SYMMETRIC SWAPPING",
	'\u206c': "INHIBIT ARABIC FORM SHAPING",
	'\u206d': "ACTIVATE ARABIC FORM SHAPING",
	'\u206e': "NATIONAL DIGIT SHAPES",
	'\u206f': "NOMINAL DIGIT SHAPES",
	'\u3164': "HANGUL FILLER",
	'\ufeff': "ZERO WIDTH NO-BREAK SPACE",
	'\uffa0': "HALFWIDTH HANGUL FILLER",
	'\ufff9': "INTERLINEAR ANNOTATION ANCHOR",
	'\ufffa': "INTERLINEAR ANNOTATION SEPARATOR",
	'\ufffb': "INTERLINEAR ANNOTATION TERMINATOR",
}

// describeInvisible names r for a message: "U+202E RIGHT-TO-LEFT OVERRIDE",
// or its code point and kind when it is not in invisibleNames.
func describeInvisible(r rune) string {
	code := fmt.Sprintf("U+%04X", r)
	switch {
	case invisibleNames[r] != "":
		return code + " " + invisibleNames[r]
	case r >= 0xE0000 && r <= 0xE007F:
		return code + ", an invisible tag character"
	default:
		return code + ", an invisible format character"
	}
}

// Fingerprint identifies a quote's text for duplicate detection: the SHA-256
// of the text lower-cased with all runs of white space folded to one space.
// Two quotes with the same fingerprint are the same quote.
func Fingerprint(text string) [32]byte {
	return sha256.Sum256([]byte(strings.ToLower(strings.Join(strings.Fields(text), " "))))
}

func formatYear(y int) string {
	if y < 0 {
		return strconv.Itoa(-y) + " BC"
	}
	return strconv.Itoa(y)
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
