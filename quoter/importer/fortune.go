package importer

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Unattributed is the author given to a fortune without an attribution line.
// Fortune files leave jokes, proverbs and one-liners unsigned, and the
// library requires an author; "Anonymous" is the customary credit for an
// unsigned text and is what quote collections file such entries under, so
// `quotesd random --author Anonymous` finds them all. Inventing an author
// would be worse: misattribution is the commonest fault of quote data.
const Unattributed = "Anonymous"

// ParseFortune reads a fortune(6) file: records separated by lines holding
// only "%", as strfile(1) expects. It accepts CRLF line ends, blank lines
// around records, a leading or trailing "%", empty records (skipped), and
// the backspace overstriking of old files ("_\bx" underlines x; only the last
// character written at a position is kept).
//
// A record's attribution is its last line when that line starts (after any
// indentation) with "--", "—" or "―" (an em dash or horizontal bar), or "~ ".
// It may continue on following lines indented deeper than it, as in
//
//	Every day is a good day.
//	        -- Grand Panjandrum's Special Award, 1984 Bulwer-Lytton
//	           bad fiction contest.
//
// The attribution is split at its first comma outside quotes and brackets
// into author and source ("-- Mark Twain, \"Following the Equator\""); a
// trailing ", 1897" or " (1897)" on the source becomes the year. Records
// without an attribution get the author Unattributed.
//
// Errors: EINVALID naming the file and the line where the bad record starts:
// binary data, invalid UTF-8, or a record that fails Quote.Validate (for
// example a text over quoter.MaxTextLen).
func ParseFortune(name string, data []byte) ([]Record, error) {
	if err := checkText(name, data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, bom)
	var (
		out   []Record
		rec   []string // lines of the current record
		start int      // line number of rec[0]
	)
	flush := func() error {
		r, ok := fortuneRecord(rec, start)
		rec = rec[:0]
		if !ok {
			return nil
		}
		r.Pos.File = name
		if err := finish(&r.Quote, r.Pos); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		lineNo++
		s := strings.TrimSuffix(string(line), "\r")
		if strings.TrimRight(s, " \t") == "%" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if len(rec) == 0 {
			start = lineNo
		}
		rec = append(rec, overstrike(s))
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// fortuneRecord turns the lines of one record, the first of which is line
// first of the file, into a quote; ok is false for a record with no text.
func fortuneRecord(lines []string, first int) (r Record, ok bool) {
	// Trim blank lines at both ends, keeping count of the line numbers.
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
		first++
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return r, false
	}
	r.Pos.Line = first
	r.Quote.Author = Unattributed
	// Find the attribution: scanning up from the end, the first line that
	// looks like one and is indented less than every line after it (those
	// are its continuation). minAfter tracks that least indentation, so the
	// scan is linear and stops once an unindented line rules out any
	// attribution above it.
	minAfter := -1
	for i := len(lines) - 1; i >= 1; i-- {
		ind := indent(lines[i])
		if strings.TrimSpace(lines[i]) == "" {
			break // a blank line ends the text; an attribution cannot span it
		}
		if a, isAttr := attribution(lines[i]); isAttr && (minAfter < 0 || ind < minAfter) {
			parts := []string{a}
			for _, l := range lines[i+1:] {
				parts = append(parts, strings.TrimSpace(l))
			}
			r.Quote.Author, r.Quote.Source, r.Quote.Year = splitAttribution(strings.Join(parts, " "))
			lines = lines[:i]
			break
		}
		if minAfter < 0 || ind < minAfter {
			minAfter = ind
		}
		if minAfter == 0 {
			break
		}
	}
	r.Quote.Text = strings.Join(lines, "\n")
	return r, true
}

// indent is the width of the leading white space of s, tabs counting to the
// next multiple of 8 as a terminal shows them.
func indent(s string) int {
	n := 0
	for _, c := range s {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 8 - n%8
		default:
			return n
		}
	}
	return n
}

// attribution reports whether line is an attribution line and returns what
// follows its dash.
func attribution(line string) (string, bool) {
	s := strings.TrimLeft(line, " \t")
	var rest string
	switch {
	case strings.HasPrefix(s, "--") && !strings.HasPrefix(s, "---"):
		rest = s[2:]
	case strings.HasPrefix(s, "—"), strings.HasPrefix(s, "―"):
		rest = s[len("—"):] // both dashes are three bytes in UTF-8
	case strings.HasPrefix(s, "~ "), strings.HasPrefix(s, "~\t"):
		rest = s[1:]
	default:
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// The patterns of an attribution, compiled on first use: quotesd serve
// links the importer but never imports at start, and compiling them at
// package init delayed every start.
var (
	yearSuffixRE = lazyRegexp(`^(.*?)(?:,\s*|\s*\()(\d{3,4})\)?\.?$`)
	yearOnlyRE   = lazyRegexp(`^\(?(\d{3,4})\)?\.?$`)
	titleRE      = lazyRegexp(`^([^"“”]*[^\s"“”])\s+["“]([^"“”]+)["”]$`)
)

// lazyRegexp returns a function that compiles expr on its first call and
// returns the same Regexp after.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// splitAttribution splits "Author, Source" at the first comma outside
// quotes and brackets, unquotes a fully quoted source, and takes a trailing
// year off the source.
func splitAttribution(a string) (author, source string, year int) {
	a = unquote(a) // -- "Mark Twain, Pudd'nhead Wilson's Calendar"
	depth, quoted := 0, false
	cut := -1
	for i, c := range a {
		switch c {
		case '"':
			quoted = !quoted
		case '“':
			quoted = true
		case '”':
			quoted = false
		case '(', '[':
			depth++
		case ')', ']':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 && !quoted && cut < 0 {
				cut = i
			}
		}
	}
	if cut < 0 {
		// -- Mark Twain "A Connecticut Yankee in King Arthur's Court"
		if m := titleRE().FindStringSubmatch(a); m != nil {
			return m[1], m[2], 0
		}
		return strings.TrimSpace(a), "", 0
	}
	author = strings.TrimSpace(a[:cut])
	source = strings.TrimSpace(a[cut+1:])
	if m := yearOnlyRE().FindStringSubmatch(source); m != nil {
		year, _ = strconv.Atoi(m[1])
		source = ""
	} else if m := yearSuffixRE().FindStringSubmatch(source); m != nil && !strings.ContainsAny(m[1], "()") {
		year, _ = strconv.Atoi(m[2])
		source = strings.TrimSpace(m[1])
	}
	source = unquote(source)
	if author == "" {
		author = Unattributed
	}
	return author, source, year
}

// unquote removes one pair of quotes around the whole of s.
func unquote(s string) string {
	for _, p := range [][2]string{{`"`, `"`}, {"“", "”"}} {
		if len(s) >= len(p[0])+len(p[1]) && strings.HasPrefix(s, p[0]) && strings.HasSuffix(s, p[1]) {
			inner := s[len(p[0]) : len(s)-len(p[1])]
			if !strings.Contains(inner, p[0]) && !strings.Contains(inner, p[1]) {
				return inner
			}
		}
	}
	return s
}

// overstrike applies backspaces: each one removes the character before it,
// so that the character written after it is the one that stays, as on the
// printer terminals these files were written for.
func overstrike(s string) string {
	if !strings.Contains(s, "\b") {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, c := range s {
		if c == '\b' {
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
