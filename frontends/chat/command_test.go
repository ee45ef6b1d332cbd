package chat_test

import (
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

func TestParse(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
		want chat.Command
	}{
		{"!quote", true, chat.Command{Kind: chat.KindRandom}},
		{"!QUOTE  ", true, chat.Command{Kind: chat.KindRandom}},
		{"!quote dull boy", true, chat.Command{Kind: chat.KindSearch, Query: "dull boy"}},
		{"!quote #42", true, chat.Command{Kind: chat.KindByID, ID: 42}},
		{"!quote #x", true, chat.Command{Kind: chat.KindByID, Err: "a quote number looks like #42"}},
		{"!quote #0", true, chat.Command{Kind: chat.KindByID, Err: "a quote number looks like #42"}},
		{"!today", true, chat.Command{Kind: chat.KindToday}},
		{"!today 2025-03-14", true, chat.Command{Kind: chat.KindToday, Date: quoter.Date{Year: 2025, Month: 3, Day: 14}}},
		{"!today 2025-02-30", true, chat.Command{Kind: chat.KindToday, Err: "a date looks like 2025-03-14"}},
		{"!yesterday", true, chat.Command{Kind: chat.KindToday, Offset: -1}},
		{"!help", true, chat.Command{Kind: chat.KindHelp}},
		{"!unknown", false, chat.Command{}},
		{"quote", false, chat.Command{}},
		{"hello !quote", false, chat.Command{}},
		{"", false, chat.Command{}},
		{"\x01VERSION\x01", false, chat.Command{}},
	}
	for _, tt := range tests {
		got, ok := chat.Parse(tt.text, "!")
		if ok != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

// A word after !today that is not a date is a tag, or a language written
// lang:xx; at most one of each.
func TestParse_TodayTagLanguageAndDate(t *testing.T) {
	pi := quoter.Date{Year: 2025, Month: 3, Day: 14}
	tests := []struct {
		text string
		want chat.Command
	}{
		{"!today poetry", chat.Command{Kind: chat.KindToday, Tag: "poetry"}},
		{"!today POETRY", chat.Command{Kind: chat.KindToday, Tag: "poetry"}},
		{"!today lang:fr", chat.Command{Kind: chat.KindToday, Lang: "fr"}},
		{"!today LANG:pt-BR", chat.Command{Kind: chat.KindToday, Lang: "pt-br"}},
		{"!today poetry lang:fr 2025-03-14", chat.Command{Kind: chat.KindToday, Tag: "poetry", Lang: "fr", Date: pi}},
		{"!today  2025-03-14   poetry ", chat.Command{Kind: chat.KindToday, Tag: "poetry", Date: pi}},
		{"!today 19th-century", chat.Command{Kind: chat.KindToday, Tag: "19th-century"}},
		{"!yesterday poetry", chat.Command{Kind: chat.KindToday, Offset: -1, Tag: "poetry"}},
		{"!yesterday 2025-03-14", chat.Command{Kind: chat.KindToday, Err: chat.TodayUsage}},
		{"!today poetry wit", chat.Command{Kind: chat.KindToday, Err: chat.TodayUsage}},
		{"!today lang:fr lang:de", chat.Command{Kind: chat.KindToday, Err: chat.TodayUsage}},
		{"!today lang:", chat.Command{Kind: chat.KindToday, Err: chat.TodayUsage}},
		{"!today 2025-03-14 2025-03-15", chat.Command{Kind: chat.KindToday, Err: chat.TodayUsage}},
		{"!today 14-03-2025", chat.Command{Kind: chat.KindToday, Err: "a date looks like 2025-03-14"}},
		{"!today " + strings.Repeat("x", quoter.MaxTagLen+1), chat.Command{Kind: chat.KindToday, Err: "a tag is one word of at most 32 characters"}},
		{"!today lang:" + strings.Repeat("x", 40), chat.Command{Kind: chat.KindToday, Err: "a language looks like lang:fr"}},
	}
	for _, tt := range tests {
		if got, ok := chat.Parse(tt.text, "!"); !ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.text, got, ok, tt.want)
		}
	}
}

func TestParse_OtherPrefixAndLongQuery(t *testing.T) {
	if got, ok := chat.Parse(".quote", "."); !ok || got.Kind != chat.KindRandom {
		t.Errorf(`chat.Parse(".quote", ".") = %+v, %v; want random`, got, ok)
	}
	if _, ok := chat.Parse("!quote", "."); ok {
		t.Error(`"!quote" recognised with prefix "."`)
	}
	got, _ := chat.Parse("!quote "+strings.Repeat("word ", 100), "!")
	if len(got.Query) > chat.MaxQuery {
		t.Errorf("query is %d bytes, want at most %d", len(got.Query), chat.MaxQuery)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"!quote", "!quote #1", "!today 2024-01-01", "!quote a b c", "!", "!help", "!today poetry lang:fr 2024-01-01",
		"!quote @club a", "!quote #1 info", "!addquote a -- b", "!editquote #1 a -- b", "!grab bob", "!reject s1 why", "!approve s1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := chat.Parse(s, "!")
		if !ok {
			return
		}
		if len(c.Query) > chat.MaxQuery {
			t.Fatalf("query of %d bytes", len(c.Query))
		}
		if c.Kind == chat.KindByID && c.Err == "" && c.ID <= 0 {
			t.Fatalf("id %d accepted", c.ID)
		}
		if len(c.Tag) > quoter.MaxTagLen || len(c.Lang) > chat.MaxLangLen {
			t.Fatalf("tag %q or language %q longer than any can be", c.Tag, c.Lang)
		}
		if c.Err != "" {
			return
		}
		if c.Collection != "" && quoter.ValidCollection(c.Collection) != nil {
			t.Fatalf("collection %q accepted", c.Collection)
		}
		for _, typed := range []string{c.Text, c.Author, c.Reason} {
			if cleaned, bad := chat.CleanText(typed); bad != "" || cleaned != typed {
				t.Fatalf("%q kept, which chat.CleanText would change to %q (%q)", typed, cleaned, bad)
			}
		}
		if (c.Kind == chat.KindAdd) && (c.Text == "" || c.Author == "") || c.Kind == chat.KindEdit && c.Text == "" {
			t.Fatalf("%s without its text or author: %+v", c.Kind, c)
		}
		if (c.Kind == chat.KindDelete || c.Kind == chat.KindEdit || c.Kind == chat.KindApprove || c.Kind == chat.KindReject || c.Kind == chat.KindInfo) && c.ID <= 0 {
			t.Fatalf("%s of id %d accepted", c.Kind, c.ID)
		}
	})
}

func TestParse_Curation(t *testing.T) {
	tests := []struct {
		text string
		want chat.Command
	}{
		{"!quote stats", chat.Command{Kind: chat.KindStats}},
		{"!quote STATS", chat.Command{Kind: chat.KindStats}},
		{"!quote #42 info", chat.Command{Kind: chat.KindInfo, ID: 42}},
		{"!quote #42 Info", chat.Command{Kind: chat.KindInfo, ID: 42}},
		{"!quote #42 wit", chat.Command{Kind: chat.KindSearch, Query: "#42 wit"}},
		{"!quote @club-quotes", chat.Command{Kind: chat.KindRandom, Collection: "club-quotes"}},
		{"!quote @Club-Quotes  dull boy", chat.Command{Kind: chat.KindSearch, Collection: "club-quotes", Query: "dull boy"}},
		{"!quote @club_quotes", chat.Command{Kind: chat.KindRandom, Err: "a collection looks like @club-quotes"}},
		{"!quote @", chat.Command{Kind: chat.KindRandom, Err: "a collection looks like @club-quotes"}},
		{"!addquote All work and no play -- Jack", chat.Command{Kind: chat.KindAdd, Text: "All work and no play", Author: "Jack"}},
		{"!addquote a -- b -- Jack Torrance", chat.Command{Kind: chat.KindAdd, Text: "a -- b", Author: "Jack Torrance"}},
		{"!addquote \x02bold\x02 \x0304,12red\x03 -- \x1dJack\x1d", chat.Command{Kind: chat.KindAdd, Text: "bold red", Author: "Jack"}},
		{"!addquote tab\there -- Jack", chat.Command{Kind: chat.KindAdd, Text: "tab here", Author: "Jack"}},
		{"!addquote no author", chat.Command{Kind: chat.KindAdd, Err: chat.AddUsage}},
		{"!addquote -- Jack", chat.Command{Kind: chat.KindAdd, Err: chat.AddUsage}},
		{"!addquote text -- ", chat.Command{Kind: chat.KindAdd, Err: chat.AddUsage}},
		{"!addquote ring \x07 bell -- Jack", chat.Command{Kind: chat.KindAdd, Err: "text contains control characters"}},
		{"!addquote ctcp \x01ACTION\x01 -- Jack", chat.Command{Kind: chat.KindAdd, Err: "text contains control characters"}},
		{"!addquote text -- del\x7f", chat.Command{Kind: chat.KindAdd, Err: "text contains control characters"}},
		{"!grab bob", chat.Command{Kind: chat.KindGrab, Nick: "bob"}},
		{"!grab", chat.Command{Kind: chat.KindGrab, Err: "usage: grab <nick>"}},
		{"!grab bob alice", chat.Command{Kind: chat.KindGrab, Err: "usage: grab <nick>"}},
		{"!grab 9lives", chat.Command{Kind: chat.KindGrab, Nick: "9lives"}},
		{"!grab bo\x07b", chat.Command{Kind: chat.KindGrab, Err: "usage: grab <nick>"}},
		{"!delquote #42", chat.Command{Kind: chat.KindDelete, ID: 42}},
		{"!delquote 42", chat.Command{Kind: chat.KindDelete, Err: "usage: delquote #<id>"}},
		{"!delquote #42 now", chat.Command{Kind: chat.KindDelete, Err: "usage: delquote #<id>"}},
		{"!editquote #42 Better text", chat.Command{Kind: chat.KindEdit, ID: 42, Text: "Better text"}},
		{"!editquote #42 Better text -- Someone Else", chat.Command{Kind: chat.KindEdit, ID: 42, Text: "Better text", Author: "Someone Else"}},
		{"!editquote #42", chat.Command{Kind: chat.KindEdit, Err: "usage: editquote #<id> <text> [-- <author>]"}},
		{"!editquote #42 text -- ", chat.Command{Kind: chat.KindEdit, Err: "usage: editquote #<id> <text> [-- <author>]"}},
		{"!approve s12", chat.Command{Kind: chat.KindApprove, ID: 12}},
		{"!approve S12", chat.Command{Kind: chat.KindApprove, ID: 12}},
		{"!approve #12", chat.Command{Kind: chat.KindApprove, Err: "usage: approve s<id>"}},
		{"!approve s0", chat.Command{Kind: chat.KindApprove, Err: "usage: approve s<id>"}},
		{"!reject s12", chat.Command{Kind: chat.KindReject, ID: 12}},
		{"!reject s12 not a quote, a \x02shout\x02", chat.Command{Kind: chat.KindReject, ID: 12, Reason: "not a quote, a shout"}},
		{"!reject s12 " + strings.Repeat("x", quoter.MaxNoteLen+1), chat.Command{Kind: chat.KindReject, Err: "a reason is at most 500 bytes"}},
		{"!reject", chat.Command{Kind: chat.KindReject, Err: "usage: reject s<id> [reason]"}},
		{"!pending", chat.Command{Kind: chat.KindPending}},
		{"!pending all", chat.Command{Kind: chat.KindPending, Err: "usage: pending"}},
	}
	for _, tt := range tests {
		got, ok := chat.Parse(tt.text, "!")
		if !ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, true", tt.text, got, ok, tt.want)
		}
	}
}
