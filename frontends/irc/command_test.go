package irc

import (
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
		want command
	}{
		{"!quote", true, command{Kind: cmdRandom}},
		{"!QUOTE  ", true, command{Kind: cmdRandom}},
		{"!quote dull boy", true, command{Kind: cmdSearch, Query: "dull boy"}},
		{"!quote #42", true, command{Kind: cmdByID, ID: 42}},
		{"!quote #x", true, command{Kind: cmdByID, Err: "a quote number looks like #42"}},
		{"!quote #0", true, command{Kind: cmdByID, Err: "a quote number looks like #42"}},
		{"!today", true, command{Kind: cmdToday}},
		{"!today 2025-03-14", true, command{Kind: cmdToday, Date: quoter.Date{Year: 2025, Month: 3, Day: 14}}},
		{"!today 2025-02-30", true, command{Kind: cmdToday, Err: "a date looks like 2025-03-14"}},
		{"!yesterday", true, command{Kind: cmdToday, Offset: -1}},
		{"!help", true, command{Kind: cmdHelp}},
		{"!unknown", false, command{}},
		{"quote", false, command{}},
		{"hello !quote", false, command{}},
		{"", false, command{}},
		{"\x01VERSION\x01", false, command{}},
	}
	for _, tt := range tests {
		got, ok := parseCommand(tt.text, "!")
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseCommand(%q) = %+v, %v; want %+v, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

// A word after !today that is not a date is a tag, or a language written
// lang:xx; at most one of each.
func TestParseCommand_TodayTagLanguageAndDate(t *testing.T) {
	pi := quoter.Date{Year: 2025, Month: 3, Day: 14}
	tests := []struct {
		text string
		want command
	}{
		{"!today poetry", command{Kind: cmdToday, Tag: "poetry"}},
		{"!today POETRY", command{Kind: cmdToday, Tag: "poetry"}},
		{"!today lang:fr", command{Kind: cmdToday, Lang: "fr"}},
		{"!today LANG:pt-BR", command{Kind: cmdToday, Lang: "pt-br"}},
		{"!today poetry lang:fr 2025-03-14", command{Kind: cmdToday, Tag: "poetry", Lang: "fr", Date: pi}},
		{"!today  2025-03-14   poetry ", command{Kind: cmdToday, Tag: "poetry", Date: pi}},
		{"!today 19th-century", command{Kind: cmdToday, Tag: "19th-century"}},
		{"!yesterday poetry", command{Kind: cmdToday, Offset: -1, Tag: "poetry"}},
		{"!yesterday 2025-03-14", command{Kind: cmdToday, Err: todayUsage}},
		{"!today poetry wit", command{Kind: cmdToday, Err: todayUsage}},
		{"!today lang:fr lang:de", command{Kind: cmdToday, Err: todayUsage}},
		{"!today lang:", command{Kind: cmdToday, Err: todayUsage}},
		{"!today 2025-03-14 2025-03-15", command{Kind: cmdToday, Err: todayUsage}},
		{"!today 14-03-2025", command{Kind: cmdToday, Err: "a date looks like 2025-03-14"}},
		{"!today " + strings.Repeat("x", quoter.MaxTagLen+1), command{Kind: cmdToday, Err: "a tag is one word of at most 32 characters"}},
		{"!today lang:" + strings.Repeat("x", 40), command{Kind: cmdToday, Err: "a language looks like lang:fr"}},
	}
	for _, tt := range tests {
		if got, ok := parseCommand(tt.text, "!"); !ok || got != tt.want {
			t.Errorf("parseCommand(%q) = %+v, %v; want %+v", tt.text, got, ok, tt.want)
		}
	}
}

func TestParseCommand_OtherPrefixAndLongQuery(t *testing.T) {
	if got, ok := parseCommand(".quote", "."); !ok || got.Kind != cmdRandom {
		t.Errorf(`parseCommand(".quote", ".") = %+v, %v; want random`, got, ok)
	}
	if _, ok := parseCommand("!quote", "."); ok {
		t.Error(`"!quote" recognised with prefix "."`)
	}
	got, _ := parseCommand("!quote "+strings.Repeat("word ", 100), "!")
	if len(got.Query) > maxQuery {
		t.Errorf("query is %d bytes, want at most %d", len(got.Query), maxQuery)
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"!quote", "!quote #1", "!today 2024-01-01", "!quote a b c", "!", "!help", "!today poetry lang:fr 2024-01-01",
		"!quote @club a", "!quote #1 info", "!addquote a -- b", "!editquote #1 a -- b", "!grab bob", "!reject s1 why", "!approve s1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := parseCommand(s, "!")
		if !ok {
			return
		}
		if len(c.Query) > maxQuery {
			t.Fatalf("query of %d bytes", len(c.Query))
		}
		if c.Kind == cmdByID && c.Err == "" && c.ID <= 0 {
			t.Fatalf("id %d accepted", c.ID)
		}
		if len(c.Tag) > quoter.MaxTagLen || len(c.Lang) > maxLangLen {
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
		if (c.Kind == cmdAdd) && (c.Text == "" || c.Author == "") || c.Kind == cmdEdit && c.Text == "" {
			t.Fatalf("%s without its text or author: %+v", c.Kind, c)
		}
		if (c.Kind == cmdDelete || c.Kind == cmdEdit || c.Kind == cmdApprove || c.Kind == cmdReject || c.Kind == cmdInfo) && c.ID <= 0 {
			t.Fatalf("%s of id %d accepted", c.Kind, c.ID)
		}
	})
}
