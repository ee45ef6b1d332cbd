package irc

import (
	"strings"
	"testing"

	"quotesd/quoter"
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
	for _, s := range []string{"!quote", "!quote #1", "!today 2024-01-01", "!quote a b c", "!", "!help"} {
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
	})
}
