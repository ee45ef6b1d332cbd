package quoter

import (
	"crypto/sha256"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize tidies q in place before it is validated or stored: CRLF and CR
// become LF, trailing white space is cut from each line, leading and
// trailing blank lines go, the author and source are trimmed and their inner
// white space folded, tags are lower-cased, trimmed and deduplicated, and an
// empty language becomes "en".
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

var (
	tagRE  = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}-]*$`)
	langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
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
	case q.Year < -3000 || q.Year > 9999:
		return Errorf(EINVALID, "year %d is out of range", q.Year)
	case !langRE.MatchString(q.Lang):
		return Errorf(EINVALID, "language %q is not a BCP 47 tag such as en or pt-BR", q.Lang)
	case len(q.Tags) > MaxTags:
		return Errorf(EINVALID, "%d tags, over the limit of %d", len(q.Tags), MaxTags)
	}
	for _, t := range q.Tags {
		if len(t) > MaxTagLen || !tagRE.MatchString(t) {
			return Errorf(EINVALID, "tag %q: want lower-case letters, digits and dashes, at most %d bytes", t, MaxTagLen)
		}
	}
	return nil
}

// hasControl reports control characters other than (when multiline) LF and TAB.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
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
