package quoter_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

func itoa(n int) string { return strconv.Itoa(n) }

// The core holds no networking code: frontends own their protocols. The
// PostgreSQL store (quoter/postgres) is the one exception, and only for
// its database's wire protocol: its client is its reason to exist; what it
// stores and how it chooses quotes is the core's, as for every store.
func TestQuoter_ImportsNoNetworking(t *testing.T) {
	list, err := exec.Command("go", "list", ".", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, list)
	}
	pkgs := []string{"list", "-deps"}
	for _, pkg := range strings.Fields(string(list)) {
		if !strings.HasPrefix(pkg, "github.com/quotesd/quotesd/quoter/postgres") {
			pkgs = append(pkgs, pkg)
		}
	}
	out, err := exec.Command("go", pkgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	allowed := map[string]bool{"net/url": true, "net/netip": true}
	for _, pkg := range strings.Fields(string(out)) {
		bad := pkg == "net" || strings.HasPrefix(pkg, "net/") && !allowed[pkg] ||
			strings.Contains(pkg, "smtp") || strings.Contains(pkg, "go-message") ||
			strings.Contains(pkg, "mail") || strings.Contains(pkg, "irc")
		if bad {
			t.Errorf("quoter depends on %s: the core must not import networking, mail or IRC packages", pkg)
		}
	}
}

func TestQuote_RenderAndLen(t *testing.T) {
	q := &quoter.Quote{Text: "Know thyself.", Author: "Socrates"}
	if got, want := q.Render(), "Know thyself.\n    -- Socrates"; got != want {
		t.Errorf("Render() = %q, want %q", got, want)
	}
	q = &quoter.Quote{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854}
	if got, want := q.Attribution(), "Henry David Thoreau, Walden (1854)"; got != want {
		t.Errorf("Attribution() = %q, want %q", got, want)
	}
	if q.Len() != len(q.Render()) {
		t.Errorf("Len() = %d, want %d", q.Len(), len(q.Render()))
	}
	q = &quoter.Quote{Text: "x", Author: "Sun Tzu", Source: "The Art of War", Year: -500}
	if got, want := q.Attribution(), "Sun Tzu, The Art of War (500 BC)"; got != want {
		t.Errorf("Attribution() = %q, want %q", got, want)
	}
}

func TestFilter_Match(t *testing.T) {
	q := &quoter.Quote{Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Tags: []string{"wit"}, Lang: "en"}
	n := q.Len()
	for _, tt := range []struct {
		name string
		f    quoter.Filter
		want bool
	}{
		{"Zero", quoter.Filter{}, true},
		{"MaxLenFits", quoter.Filter{MaxLen: n}, true},
		{"MaxLenTooShort", quoter.Filter{MaxLen: n - 1}, false},
		{"MinLenTooLong", quoter.Filter{MinLen: n + 1}, false},
		{"TagCaseInsensitive", quoter.Filter{Tag: "WIT"}, true},
		{"OtherTag", quoter.Filter{Tag: "love"}, false},
		{"Author", quoter.Filter{Author: "william shakespeare"}, true},
		{"OtherLang", quoter.Filter{Lang: "fr"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Match(q); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalizeAndValidate(t *testing.T) {
	q := &quoter.Quote{Text: "\r\n  line one  \r\nline two\t\r\n\r\n", Author: "  Ada   Lovelace ", Tags: []string{"Science", "science", " "}}
	quoter.Normalize(q)
	if q.Text != "  line one\nline two" || q.Author != "Ada Lovelace" || q.Lang != "en" || fmt.Sprint(q.Tags) != "[science]" {
		t.Fatalf("Normalize gave %+v", q)
	}
	if err := q.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, tt := range []struct {
		name string
		q    quoter.Quote
		want string
	}{
		{"ErrTextEmpty", quoter.Quote{Text: " ", Author: "A", Lang: "en"}, "text is empty"},
		{"ErrTextTooLong", quoter.Quote{Text: strings.Repeat("a", quoter.MaxTextLen+1), Author: "A", Lang: "en"}, "over the limit"},
		{"ErrInvalidUTF8", quoter.Quote{Text: "a\xffb", Author: "A", Lang: "en"}, "UTF-8"},
		{"ErrControl", quoter.Quote{Text: "a\x00b", Author: "A", Lang: "en"}, "control"},
		{"ErrAuthorEmpty", quoter.Quote{Text: "a", Lang: "en"}, "author is empty"},
		{"ErrAuthorNewline", quoter.Quote{Text: "a", Author: "A\r\nB", Lang: "en"}, "single-line"},
		{"ErrLang", quoter.Quote{Text: "a", Author: "A", Lang: "english!"}, "BCP 47"},
		{"ErrTag", quoter.Quote{Text: "a", Author: "A", Lang: "en", Tags: []string{"no spaces"}}, "tag"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if quoter.ErrorCode(err) != quoter.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want EINVALID mentioning %q", err, tt.want)
			}
		})
	}
}

func TestFingerprint_IgnoresCaseAndSpace(t *testing.T) {
	if quoter.Fingerprint("To be,  or not\nto be") != quoter.Fingerprint("to BE, or not to be") {
		t.Error("fingerprints differ for texts equal but for case and white space")
	}
	if quoter.Fingerprint("to be") == quoter.Fingerprint("not to be") {
		t.Error("different texts share a fingerprint")
	}
}

func TestErrorCodes(t *testing.T) {
	nf := quoter.Errorf(quoter.ENOTFOUND, "quote %d not found", 9)
	wrapped := fmt.Errorf("web: %w", nf)
	if quoter.ErrorCode(wrapped) != quoter.ENOTFOUND || quoter.ErrorMessage(wrapped) != "quote 9 not found" {
		t.Errorf("wrapped: code %q message %q", quoter.ErrorCode(wrapped), quoter.ErrorMessage(wrapped))
	}
	plain := errors.New("disk on fire")
	if quoter.ErrorCode(plain) != quoter.EINTERNAL || quoter.ErrorMessage(plain) != "internal error" {
		t.Errorf("plain error: code %q message %q", quoter.ErrorCode(plain), quoter.ErrorMessage(plain))
	}
	if quoter.ErrorCode(nil) != "" {
		t.Error("nil error has a code")
	}
}

func TestParseDate(t *testing.T) {
	d, err := quoter.ParseDate("2024-02-29")
	if err != nil || d.String() != "2024-02-29" {
		t.Fatalf("ParseDate(2024-02-29) = %v, %v", d, err)
	}
	for _, bad := range []string{"2025-02-29", "2025-13-01", "yesterday", "2025-1-1", ""} {
		if _, err := quoter.ParseDate(bad); quoter.ErrorCode(err) != quoter.EINVALID {
			t.Errorf("ParseDate(%q) error = %v, want EINVALID", bad, err)
		}
	}
	if got := d.AddDays(1).String(); got != "2024-03-01" {
		t.Errorf("AddDays(1) = %s", got)
	}
	if (quoter.Date{Year: 1970, Month: 1, Day: 2}).DayNumber() != 1 {
		t.Error("DayNumber of 1970-01-02 is not 1")
	}
}

func TestCalendar_TodayAndRolloverInZone(t *testing.T) {
	cal, err := quoter.LoadCalendar("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	// 2025-06-30 20:00 UTC is already 2025-07-01 05:00 in Tokyo.
	cal.Now = func() time.Time { return time.Date(2025, 6, 30, 20, 0, 0, 0, time.UTC) }
	today := cal.Today()
	if today.String() != "2025-07-01" {
		t.Fatalf("Today() = %s, want 2025-07-01", today)
	}
	if got := cal.Rollover(today).Sub(cal.Time()); got != 19*time.Hour {
		t.Errorf("time to rollover = %v, want 19h", got)
	}
	if _, err := quoter.LoadCalendar("Mars/Olympus"); quoter.ErrorCode(err) != quoter.EINVALID {
		t.Errorf("unknown zone: error %v, want EINVALID", err)
	}
}

func TestSlug_FoldsToLowerCaseASCII(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Lao Tzu", "lao-tzu"},
		{"Albert Einstein", "albert-einstein"},
		{"Søren Kierkegaard", "soren-kierkegaard"},
		{"Émile Zola", "emile-zola"},
		{"  Martin Luther King, Jr.  ", "martin-luther-king-jr"},
		{"Flannery O'Connor", "flannery-oconnor"},
		{"Friedrich Nietzsche (1844–1900)", "friedrich-nietzsche-1844-1900"},
	} {
		if got := quoter.Slug(tc.name); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if err := quoter.ValidSlug(quoter.Slug(tc.name)); err != nil {
			t.Errorf("ValidSlug(Slug(%q)): %v", tc.name, err)
		}
	}
	if a, b := quoter.Slug("老子"), quoter.Slug("老子"); a != b || quoter.ValidSlug(a) != nil {
		t.Errorf("Slug(老子) = %q, %q; want one stable valid slug", a, b)
	}
}
