package quoter_test

import (
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

// Invisible format characters have no place in a quote: the bidi controls
// reverse what follows them on a page, a terminal, a mail or an IRC line
// (display spoofing), and the others hide text or make two equal-looking
// quotes differ. Validate refuses them in every text field, naming the
// field and the character, so every path that stores a quote (the admin
// API, `quotesd add`, every importer) refuses them alike.
func TestValidate_RefusesInvisibleFormatCharacters(t *testing.T) {
	for _, tt := range []struct {
		name string
		q    quoter.Quote
		want string
	}{
		{"RLOInAuthor", quoter.Quote{Text: "a", Author: "Ada \u202eecalevoL", Lang: "en"}, "author contains U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"LROInText", quoter.Quote{Text: "a\u202db", Author: "A", Lang: "en"}, "text contains U+202D LEFT-TO-RIGHT OVERRIDE"},
		{"RLEInSource", quoter.Quote{Text: "a", Author: "A", Source: "\u202bWork", Lang: "en"}, "source contains U+202B RIGHT-TO-LEFT EMBEDDING"},
		{"LRE", quoter.Quote{Text: "a\u202ab", Author: "A", Lang: "en"}, "text contains U+202A LEFT-TO-RIGHT EMBEDDING"},
		{"PDF", quoter.Quote{Text: "a\u202cb", Author: "A", Lang: "en"}, "text contains U+202C POP DIRECTIONAL FORMATTING"},
		{"LRI", quoter.Quote{Text: "a\u2066b", Author: "A", Lang: "en"}, "text contains U+2066 LEFT-TO-RIGHT ISOLATE"},
		{"RLI", quoter.Quote{Text: "a\u2067b", Author: "A", Lang: "en"}, "text contains U+2067 RIGHT-TO-LEFT ISOLATE"},
		{"FSI", quoter.Quote{Text: "a\u2068b", Author: "A", Lang: "en"}, "text contains U+2068 FIRST STRONG ISOLATE"},
		{"PDI", quoter.Quote{Text: "a\u2069b", Author: "A", Lang: "en"}, "text contains U+2069 POP DIRECTIONAL ISOLATE"},
		{"LRM", quoter.Quote{Text: "a\u200eb", Author: "A", Lang: "en"}, "text contains U+200E LEFT-TO-RIGHT MARK"},
		{"RLM", quoter.Quote{Text: "a", Author: "A\u200fB", Lang: "en"}, "author contains U+200F RIGHT-TO-LEFT MARK"},
		{"ALM", quoter.Quote{Text: "a\u061cb", Author: "A", Lang: "en"}, "text contains U+061C ARABIC LETTER MARK"},
		{"ZeroWidthSpace", quoter.Quote{Text: "a\u200bb", Author: "A", Lang: "en"}, "text contains U+200B ZERO WIDTH SPACE"},
		{"ByteOrderMark", quoter.Quote{Text: "\ufeffa", Author: "A", Lang: "en"}, "text contains U+FEFF ZERO WIDTH NO-BREAK SPACE"},
		{"SoftHyphen", quoter.Quote{Text: "a", Author: "Lo\u00advelace", Lang: "en"}, "author contains U+00AD SOFT HYPHEN"},
		{"WordJoiner", quoter.Quote{Text: "a\u2060b", Author: "A", Lang: "en"}, "text contains U+2060 WORD JOINER"},
		{"LineSeparator", quoter.Quote{Text: "a\u2028b", Author: "A", Lang: "en"}, "text contains U+2028 LINE SEPARATOR"},
		{"ParagraphSeparator", quoter.Quote{Text: "a\u2029b", Author: "A", Lang: "en"}, "text contains U+2029 PARAGRAPH SEPARATOR"},
		{"InterlinearAnchor", quoter.Quote{Text: "a\ufff9b", Author: "A", Lang: "en"}, "text contains U+FFF9 INTERLINEAR ANNOTATION ANCHOR"},
		{"HangulFiller", quoter.Quote{Text: "a", Author: "\u3164", Lang: "en"}, "author contains U+3164 HANGUL FILLER"},
		{"LoneTagCharacters", quoter.Quote{Text: "a\U000E0068\U000E0069b", Author: "A", Lang: "en"}, "text contains U+E0068, an invisible tag character"},
		{"TagSequenceOnAnotherBase", quoter.Quote{Text: "a\U0001F600\U000E0067\U000E0062\U000E007F", Author: "A", Lang: "en"}, "text contains U+E0067, an invisible tag character"},
		{"UnterminatedTagSequence", quoter.Quote{Text: "\U0001F3F4\U000E0067\U000E0062", Author: "A", Lang: "en"}, "text contains U+E0067, an invisible tag character"},
		{"OtherFormatCharacter", quoter.Quote{Text: "a\U0001D173b", Author: "A", Lang: "en"}, "text contains U+1D173, an invisible format character"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if got := quoter.ErrorMessage(err); quoter.ErrorCode(err) != quoter.EINVALID || got != tt.want {
				t.Errorf("Validate() = %v (%s), want EINVALID %q", err, quoter.ErrorCode(err), tt.want)
			}
		})
	}
}

// What looks invisible but is needed stays allowed: the joiners (Persian,
// Indic scripts, emoji sequences), variation selectors, the Arabic number
// sign and other marks that are visible, the subdivision flags' tag
// sequences, and right-to-left text itself.
func TestValidate_AllowsWhatScriptsAndEmojiNeed(t *testing.T) {
	for _, tt := range []struct{ name, text string }{
		{"ZWNJInPersian", "می\u200cخواهم"},
		{"ZWJInDevanagari", "क्\u200dष"},
		{"ZWJEmojiSequence", "family: 👩\u200d👩\u200d👧"},
		{"VariationSelector", "love ❤\ufe0f"},
		{"ArabicNumberSign", "\u0600١٢٣"},
		{"FlagOfScotland", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"},
		{"RightToLeftText", "אין דבר העומד בפני הרצון"},
		{"Tab", "a\tb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := quoter.Quote{Text: tt.text, Author: tt.text, Source: strings.ReplaceAll(tt.text, "\t", " "), Lang: "en"}
			q.Author = strings.ReplaceAll(q.Author, "\t", " ")
			if err := q.Validate(); err != nil {
				t.Errorf("Validate(%+q) = %v, want nil", tt.text, err)
			}
		})
	}
}
