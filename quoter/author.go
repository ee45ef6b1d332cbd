package quoter

import (
	"cmp"
	"hash/fnv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Author is a person quoted in the library, as an author page shows it:
// the name quotes carry, its slug (the page's address), an optional short
// bio and link kept by the curators, and how many public quotes carry the
// name.
//
// An author is known by its slug: the notes (Bio, Link) are stored per
// slug, so they survive a correction of the name's case or accents, and an
// import may bring them before the author's first quote.
type Author struct {
	Name  string `json:"name"`
	Slug  string `json:"slug"`
	Bio   string `json:"bio,omitempty"`
	Link  string `json:"link,omitempty"`
	Count int    `json:"count"`
}

// Limits on an author's notes.
const (
	MaxBioLen  = 1000 // bytes of Author.Bio
	MaxLinkLen = 500  // bytes of Author.Link
)

// Sort keys of author listings (see Quoter.AuthorList).
const (
	SortCount = "count" // most quoted first (the default), then by name
	SortName  = "name"  // by name, case-insensitive
)

// specialFolds are letters that Unicode does not decompose into a base
// letter and a mark, folded as people write them in ASCII.
var specialFolds = strings.NewReplacer(
	"ß", "ss", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe", "ø", "o", "Ø", "o",
	"ł", "l", "Ł", "l", "đ", "d", "Đ", "d", "ð", "d", "Ð", "d", "þ", "th", "Þ", "th", "ı", "i",
)

// Slug is the address of an author's page, derived from the name alone so
// it is stable: lower-case ASCII letters and digits, with one hyphen for
// each run of anything else, diacritics folded ("Lao Tzu" becomes
// "lao-tzu", "Søren Kierkegaard" "soren-kierkegaard"), as quotable's
// authorSlug. A name with no Latin letter or digit (老子) gets
// "author-" and a hash of the name, so that it still has an address.
func Slug(name string) string {
	folded, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), specialFolds.Replace(name))
	if err != nil {
		folded = name
	}
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(folded) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// "O'Brien" is "obrien", as quotable has it.
		default:
			hyphen = true
		}
	}
	if b.Len() == 0 {
		h := fnv.New32a()
		h.Write([]byte(strings.ToLower(name)))
		return "author-" + strconv.FormatUint(uint64(h.Sum32()), 36)
	}
	return b.String()
}

// ValidSlug reports whether s is well-formed as a slug: lower-case ASCII
// letters, digits and inner single hyphens, at most MaxAuthorLen bytes.
// It returns an EINVALID error, or nil.
func ValidSlug(s string) error {
	if s == "" || len(s) > MaxAuthorLen {
		return Errorf(EINVALID, "author slug %q: want 1 to %d bytes", s, MaxAuthorLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1 && s[i-1] != '-':
		default:
			return Errorf(EINVALID, "author slug %q: want lower-case letters, digits and single inner hyphens", s)
		}
	}
	return nil
}

// ValidateNotes reports the first problem with a's notes as an EINVALID
// error: a malformed slug, a bio over MaxBioLen bytes or not valid UTF-8
// text, a link that is not an absolute http or https URL of at most
// MaxLinkLen bytes.
func (a Author) ValidateNotes() error {
	if err := ValidSlug(a.Slug); err != nil {
		return err
	}
	switch {
	case len(a.Bio) > MaxBioLen:
		return Errorf(EINVALID, "bio of %s is over %d bytes", a.Slug, MaxBioLen)
	case !utf8.ValidString(a.Bio) || hasControl(a.Bio, true):
		return Errorf(EINVALID, "bio of %s is not valid UTF-8 text", a.Slug)
	case len(a.Link) > MaxLinkLen:
		return Errorf(EINVALID, "link of %s is over %d bytes", a.Slug, MaxLinkLen)
	}
	if a.Link != "" {
		u, err := url.Parse(a.Link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || hasControl(a.Link, false) {
			return Errorf(EINVALID, "link of %s: want an absolute http or https URL, not %q", a.Slug, a.Link)
		}
	}
	return nil
}

// AuthorsFrom builds the authors of a listing of counts (most quoted first,
// as Quoter.Authors gives them), with the notes stored for their slugs.
// Names whose slugs collide ("Lao Tzu", "Lao-Tzu") are one author: the
// most quoted spelling, with the counts of all. Stores use it so that
// every store derives authors the same way.
func AuthorsFrom(counts []Count, notes map[string]Author) []Author {
	as := make([]Author, 0, len(counts))
	at := make(map[string]int, len(counts))
	for _, c := range counts {
		slug := Slug(c.Name)
		if i, ok := at[slug]; ok {
			as[i].Count += c.Count
			continue
		}
		n := notes[slug]
		at[slug] = len(as)
		as = append(as, Author{Name: c.Name, Slug: slug, Bio: n.Bio, Link: n.Link, Count: c.Count})
	}
	slices.SortStableFunc(as, func(a, b Author) int { return cmp.Compare(b.Count, a.Count) })
	return as
}

// PageAuthors sorts as (from AuthorsFrom) as p asks and returns p's window
// of it, with the total. Errors: EINVALID for an unknown sort key or a
// negative offset or limit; a limit above MaxLimit is clamped.
func PageAuthors(as []Author, p Page) ([]Author, int, error) {
	if p.Offset < 0 || p.Limit < 0 {
		return nil, 0, Errorf(EINVALID, "offset and limit must not be negative (offset %d, limit %d)", p.Offset, p.Limit)
	}
	byName := func(a, b Author) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Slug, b.Slug))
	}
	var order func(a, b Author) int
	switch p.Sort {
	case "", SortCount:
		order = func(a, b Author) int { return cmp.Or(cmp.Compare(b.Count, a.Count), byName(a, b)) }
	case SortName:
		order = byName
	default:
		return nil, 0, Errorf(EINVALID, "unknown sort key %q: want count or name", p.Sort)
	}
	as = slices.Clone(as)
	slices.SortFunc(as, func(a, b Author) int {
		if p.Desc {
			return order(b, a)
		}
		return order(a, b)
	})
	limit := p.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	lo, hi := min(p.Offset, len(as)), min(p.Offset+limit, len(as))
	return as[lo:hi], len(as), nil
}

// FindAuthor returns the author of as with the given slug, or ENOTFOUND.
func FindAuthor(as []Author, slug string) (*Author, error) {
	for i := range as {
		if as[i].Slug == slug {
			a := as[i]
			return &a, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "no author %q", slug)
}

// AuthorSlug is the slug of the quote's author: the address of the
// author's page.
func (q *Quote) AuthorSlug() string { return Slug(q.Author) }
