package settings_test

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/quotesd/quotesd/settings"
)

type cliFlags struct {
	json  bool
	tag   string
	limit int
	wait  time.Duration
}

func newCLIFlags() (*flag.FlagSet, *cliFlags) {
	var c cliFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.json, "json", false, "")
	fs.StringVar(&c.tag, "tag", "", "")
	fs.IntVar(&c.limit, "limit", 0, "")
	fs.DurationVar(&c.wait, "wait", 0, "")
	return fs, &c
}

func TestParseArgs_TakesTheSpellingsPeopleUse(t *testing.T) {
	for _, tt := range []struct {
		name         string
		args         []string
		interspersed bool
		want         cliFlags
		rest         []string
	}{
		{"double dash, value apart", []string{"--tag", "life", "--limit", "3"}, true, cliFlags{tag: "life", limit: 3}, nil},
		{"double dash, value joined", []string{"--tag=life", "--json=false"}, true, cliFlags{tag: "life"}, nil},
		{"single dash as Go's flag package", []string{"-tag", "life", "-json"}, true, cliFlags{tag: "life", json: true}, nil},
		{"flags after arguments", []string{"a", "--json", "b", "--wait", "1s"}, true, cliFlags{json: true, wait: time.Second}, []string{"a", "b"}},
		{"the first argument ends the flags", []string{"--json", "today", "--tag", "x"}, false, cliFlags{json: true}, []string{"today", "--tag", "x"}},
		{"-- ends the flags", []string{"--json", "--", "--tag", "-"}, true, cliFlags{json: true}, []string{"--tag", "-"}},
		{"- is an argument", []string{"-", "--tag", "x"}, true, cliFlags{tag: "x"}, []string{"-"}},
		{"an empty value", []string{"--tag", ""}, true, cliFlags{}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, got := newCLIFlags()
			rest, err := settings.ParseArgs(fs, tt.args, tt.interspersed)
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want || !slices.Equal(rest, tt.rest) {
				t.Errorf("%q: flags %+v, args %q; want %+v, %q", tt.args, *got, rest, tt.want, tt.rest)
			}
		})
	}
}

func TestParseArgs_MistakesAreOneLineWithASuggestion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--jsn"}, "unknown flag --jsn: did you mean --json?"},
		{[]string{"-tga", "x"}, "unknown flag --tga: did you mean --tag?"},
		{[]string{"--colour"}, "unknown flag --colour"},
		{[]string{"--limit"}, "--limit needs a value"},
		{[]string{"--limit", "ten"}, `invalid value "ten" for --limit: want a whole number`},
		{[]string{"--limit=99999999999999999999"}, `invalid value "99999999999999999999" for --limit: out of range`},
		{[]string{"--json=maybe"}, `invalid value "maybe" for --json: want true or false`},
		{[]string{"--wait", "5"}, `invalid value "5" for --wait: want a duration such as 30s, 5m or 1h30m`},
		{[]string{"---json"}, "bad flag syntax: ---json"},
	} {
		fs, _ := newCLIFlags()
		_, err := settings.ParseArgs(fs, tt.args, true)
		var fe *settings.FlagError
		if !errors.As(err, &fe) || err.Error() != tt.want {
			t.Errorf("%q: err %v, want a FlagError %q", tt.args, err, tt.want)
		}
	}
}

func TestParseArgs_HelpIsFlagErrHelp(t *testing.T) {
	for _, h := range []string{"-h", "--help", "-help"} {
		fs, _ := newCLIFlags()
		if _, err := settings.ParseArgs(fs, []string{"x", h}, true); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: err %v, want flag.ErrHelp", h, err)
		}
	}
}

func TestParseArgs_VisitSeesTheFlagsGiven(t *testing.T) {
	fs, _ := newCLIFlags()
	if _, err := settings.ParseArgs(fs, []string{"--tag", "x", "--json"}, true); err != nil {
		t.Fatal(err)
	}
	var set []string
	fs.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	if !slices.Equal(set, []string{"json", "tag"}) {
		t.Errorf("visited %q, want json and tag", set)
	}
}

func TestSuggest_OnlyLikelyTypos(t *testing.T) {
	cands := []string{"today", "random", "search", "serve", "stats", "db", "tz"}
	for name, want := range map[string]string{
		"tody": "today", "serv": "serve", "sreach": "search", "STATS": "stats", "dbx": "db",
		"fortune": "", "x": "", "completely-different": "",
	} {
		if got := settings.Suggest(name, cands); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", name, got, want)
		}
	}
}
