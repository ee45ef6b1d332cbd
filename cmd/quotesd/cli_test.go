package main

// In-process tests of the CLI: run() with temporary libraries, checking
// stdout, stderr and the exit status the way a shell user sees them.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver, to fake a newer schema

	"github.com/quotesd/quotesd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// cli runs quotesd in-process with stdin and returns what it wrote and its
// exit status.
func cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

// cliOK runs quotesd and fails the test unless it exits 0.
func cliOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := cli(t, "", args...)
	if code != 0 {
		t.Fatalf("quotesd %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// cliFail runs quotesd, expects exit status want, and returns stderr, which
// must name what went wrong and so must not be empty.
func cliFail(t *testing.T, want int, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := cli(t, stdin, args...)
	if code != want {
		t.Fatalf("quotesd %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	if !strings.HasPrefix(errOut, "quotesd: ") {
		t.Errorf("stderr = %q, want a message starting with \"quotesd: \"", errOut)
	}
	return errOut
}

func wantContains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to contain %q", what, got, want)
	}
}

// sampleDB returns the path of a temporary library holding
// quotertest.Sample(), closed so that only the CLI has it open.
func sampleDB(t *testing.T) string {
	t.Helper()
	db := quotertest.NewLibrary(t)
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// shippedDB returns the path of a fresh copy of the shipped library.
func shippedDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quotes.db")
	cliOK(t, "--db", path, "init")
	return path
}

// emptyDB returns the path of a new empty library.
func emptyDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quotes.db")
	cliOK(t, "--db", path, "init", "--empty")
	return path
}

func stats(t *testing.T, db string) quoter.Stats {
	t.Helper()
	var st quoter.Stats
	if err := json.Unmarshal([]byte(cliOK(t, "--db", db, "stats", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func decodeQuote(t *testing.T, s string) jsonQuote {
	t.Helper()
	var q jsonQuote
	if err := json.Unmarshal([]byte(s), &q); err != nil {
		t.Fatalf("not a JSON quote: %v\n%s", err, s)
	}
	return q
}

func TestToday_IsTodayWithTodaysDate(t *testing.T) {
	db := sampleDB(t)
	onOneDay(t, "UTC", func(day string) (got, want string) {
		return cliOK(t, "--db", db, "--tz", "UTC", "today"), cliOK(t, "--db", db, "--tz", "UTC", "today", "--date", day)
	})
}

func TestToday_DatesGiveTheArchive(t *testing.T) {
	db := sampleDB(t)
	seen := map[string]bool{}
	for d := (quoter.Date{Year: 2024, Month: 1, Day: 1}); d.Before(quoter.Date{Year: 2024, Month: 1, Day: 11}); d = d.AddDays(1) {
		q := decodeQuote(t, cliOK(t, "--db", db, "today", "--json", "--date", d.String()))
		if seen[q.Text] {
			t.Errorf("%s repeats a quote of the ten days before: %q", d, q.Text)
		}
		seen[q.Text] = true
		if again := decodeQuote(t, cliOK(t, "--db", db, "today", "--json", "--date", d.String())); again.ID != q.ID {
			t.Errorf("%s: quote %d, then %d on asking again", d, q.ID, again.ID)
		}
	}
}

func TestToday_JSONHasTheContractFields(t *testing.T) {
	db := sampleDB(t)
	out := cliOK(t, "--db", db, "today", "--json", "--date", "2025-06-01")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("today --json = %q: %v", out, err)
	}
	for _, k := range []string{"id", "text", "author", "source", "tags", "lang"} {
		if _, ok := m[k]; !ok {
			t.Errorf("today --json lacks %q: %s", k, out)
		}
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("today --json = %q, want one line", out)
	}
}

func TestToday_RejectsBadDatesAndZones(t *testing.T) {
	db := sampleDB(t)
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "today", "--date", "2025-02-30"), `invalid date "2025-02-30": want YYYY-MM-DD`)
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "today", "--date", "yesterday"), "want YYYY-MM-DD")
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "--tz", "Mars/Olympus", "today"), `unknown time zone "Mars/Olympus"`)
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "today", "extra"), "today takes no arguments")
}

func TestRandom_HonoursEveryFilter(t *testing.T) {
	db := sampleDB(t)
	sample := quotertest.Sample()
	someone := sample[0].Author
	for i := 0; i < 10; i++ {
		if q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--author", strings.ToUpper(someone))); q.Author != someone {
			t.Fatalf("random --author %q gave a quote by %q", someone, q.Author)
		}
		out := cliOK(t, "--db", db, "random", "--max-len", "80")
		if n := len(strings.TrimSuffix(out, "\n")); n > 80 {
			t.Fatalf("random --max-len 80 printed %d bytes: %q", n, out)
		}
		out = cliOK(t, "--db", db, "random", "--min-len", "1000")
		if n := len(strings.TrimSuffix(out, "\n")); n < 1000 {
			t.Fatalf("random --min-len 1000 printed %d bytes", n)
		}
	}
	var tag, lang string
	for _, q := range sample {
		if len(q.Tags) > 0 && tag == "" {
			tag = q.Tags[0]
		}
		if q.Lang != "en" && q.Lang != "" && lang == "" {
			lang = q.Lang
		}
	}
	if q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--tag", tag)); !slices.Contains(q.Tags, tag) {
		t.Errorf("random --tag %s gave tags %v", tag, q.Tags)
	}
	if lang != "" {
		if q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--lang", lang)); q.Lang != lang {
			t.Errorf("random --lang %s gave lang %s", lang, q.Lang)
		}
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "random", "--author", "Nobody Atall"), "no quote matches")
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "random", "--min-len", "100", "--max-len", "10"), "no quote can match")
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "random", "--max-len", "ten"), `invalid value "ten" for --max-len: want a whole number`)
}

// fortune(6) with no fortunes says so; it does not blame filters the user
// never gave.
func TestRandom_EmptyLibrarySaysItIsEmpty(t *testing.T) {
	db := emptyDB(t)
	errOut := cliFail(t, 1, "", "--db", db, "random")
	wantContains(t, "stderr", errOut, "holds no quotes: add some with 'quotesd import FILE' or 'quotesd add'")
	if strings.Contains(errOut, "filters") {
		t.Errorf("random without filters on an empty library: stderr = %q, want no mention of filters", errOut)
	}
}

func TestFlags_ReadTheEnvironment(t *testing.T) {
	db := sampleDB(t)
	someone := quotertest.Sample()[0].Author
	t.Setenv("QUOTESD_DB", db)
	t.Setenv("QUOTESD_AUTHOR", someone)
	t.Setenv("QUOTESD_JSON", "true")
	if q := decodeQuote(t, cliOK(t, "random")); q.Author != someone {
		t.Errorf("with QUOTESD_AUTHOR=%q random gave %q", someone, q.Author)
	}
	t.Setenv("QUOTESD_JSON", "maybe")
	wantContains(t, "stderr", cliFail(t, 2, "", "random"), `invalid value "maybe" for QUOTESD_JSON`)
}

func TestSearch_PrintsMatchesOrSaysNone(t *testing.T) {
	var word string
	for _, w := range strings.Fields(quotertest.Sample()[0].Text) {
		if len(w) > 5 {
			word = strings.Trim(w, ".,;:!?\"'’”“")
			break
		}
	}
	db := sampleDB(t)
	out := cliOK(t, "--db", db, "search", "--json", word)
	var qs []jsonQuote
	if err := json.Unmarshal([]byte(out), &qs); err != nil || len(qs) == 0 {
		t.Fatalf("search --json %s = %q (%v), want a non-empty array", word, out, err)
	}
	text := cliOK(t, "--db", db, "search", word)
	wantContains(t, "search output", text, "    -- ")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "search", "xyzzyplugh"), `no quote matches "xyzzyplugh"`)
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "search"), "search needs words")
}

func TestStats_CountsTheLibrary(t *testing.T) {
	db := sampleDB(t)
	st := stats(t, db)
	if st.Quotes != len(quotertest.Sample()) || st.Authors == 0 || st.Tags == 0 {
		t.Errorf("stats = %+v, want %d quotes and some authors and tags", st, len(quotertest.Sample()))
	}
	out := cliOK(t, "--db", db, "stats", "--json")
	if !strings.HasPrefix(out, `{"quotes":`) {
		t.Errorf("stats --json = %q, want {\"quotes\":N,\"authors\":N,\"tags\":N}", out)
	}
	wantContains(t, "stats", cliOK(t, "--db", db, "stats"), "quotes:")
}

func TestAdd_StoresAQuoteOnce(t *testing.T) {
	db := emptyDB(t)
	out := cliOK(t, "--db", db, "add", "--author", "Henry David Thoreau", "--source", "Walden", "--year", "1854",
		"--tag", "life", "--tag", "Simplicity", "Simplify,", "simplify.")
	wantContains(t, "add output", out, "added quote 1 to ")
	got := decodeQuote(t, cliOK(t, "--db", db, "today", "--json"))
	want := jsonQuote{ID: 1, Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Tags: []string{"life", "simplicity"}, Lang: "en"}
	if !equalJSONQuote(got, want) {
		t.Errorf("today after add = %+v, want %+v", got, want)
	}
	text := cliOK(t, "--db", db, "today")
	if want := "Simplify, simplify.\n    -- Henry David Thoreau, Walden (1854)\n"; text != want {
		t.Errorf("today = %q, want %q", text, want)
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", db, "add", "--author", "Someone", "SIMPLIFY,   simplify."), "already")
	if st := stats(t, db); st.Quotes != 1 {
		t.Errorf("after a duplicate add: %d quotes, want 1", st.Quotes)
	}
}

func equalJSONQuote(a, b jsonQuote) bool {
	return a.ID == b.ID && a.Text == b.Text && a.Author == b.Author && a.Source == b.Source &&
		a.Year == b.Year && slices.Equal(a.Tags, b.Tags) && a.Lang == b.Lang
}

func TestAdd_ReadsTextFromStdin(t *testing.T) {
	db := emptyDB(t)
	if _, errOut, code := cli(t, "Line one\r\nline two\r\n", "--db", db, "add", "--author", "Anon", "-"); code != 0 {
		t.Fatalf("add -: exit %d: %s", code, errOut)
	}
	if q := decodeQuote(t, cliOK(t, "--db", db, "today", "--json")); q.Text != "Line one\nline two" {
		t.Errorf("text = %q, want %q", q.Text, "Line one\nline two")
	}
}

func TestAdd_RejectsBadInputAndLosesNothing(t *testing.T) {
	db := sampleDB(t)
	before := stats(t, db)
	for _, tt := range []struct {
		name  string
		code  int
		stdin string
		args  []string
		want  string
	}{
		{"no author", 2, "", []string{"add", "text"}, "add needs --author"},
		{"no text", 2, "", []string{"add", "--author", "A"}, "add needs the quote's text"},
		{"empty text", 1, "", []string{"add", "--author", "A", "  "}, "text is empty"},
		{"empty stdin", 1, "\n\n", []string{"add", "--author", "A", "-"}, "text is empty"},
		{"too long", 1, "", []string{"add", "--author", "A", strings.Repeat("x", quoter.MaxTextLen+1)}, "over the limit of 4096"},
		{"invalid UTF-8", 1, "caf\xe9", []string{"add", "--author", "A", "-"}, "text is not valid UTF-8"},
		{"control characters", 1, "", []string{"add", "--author", "A", "ring \a the bell"}, "control characters"},
		{"bad tag", 1, "", []string{"add", "--author", "A", "--tag", "two words", "text"}, `tag "two words"`},
		{"bidi override", 1, "", []string{"add", "--author", "Ada \u202eecalevoL", "text"}, "author contains U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"bad year", 2, "", []string{"add", "--author", "A", "--year", "MMXX", "text"}, `invalid value "MMXX" for --year: want a whole number`},
		{"unknown flag", 2, "", []string{"add", "--writer", "A", "text"}, "add: unknown flag --writer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantContains(t, "stderr", cliFail(t, tt.code, tt.stdin, append([]string{"--db", db}, tt.args...)...), tt.want)
		})
	}
	if after := stats(t, db); after != before {
		t.Errorf("stats after rejected adds = %+v, want %+v", after, before)
	}
}

// writeFile writes a file into dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	fortuneFile = "Simplify, simplify.\n\t\t-- Henry David Thoreau, \"Walden\", 1854\n%\nA day for firm decisions!!!!!  Or is it?\n%\n"
	csvFile     = "text,author,source,year,tags,lang\n\"Veni, vidi, vici.\",Julius Caesar,,-47,victory;latin,la\n"
	jsonFile    = `[{"content": "Be yourself; everyone else is already taken.", "author": "Anonymous", "tags": ["self"]}]`
)

func TestImport_ReadsEveryFormatOnceInOneGo(t *testing.T) {
	db := emptyDB(t)
	dir := t.TempDir()
	files := []string{
		writeFile(t, dir, "quotes", fortuneFile),
		writeFile(t, dir, "quotes.csv", csvFile),
		writeFile(t, dir, "quotes.json", jsonFile),
	}
	out := cliOK(t, append([]string{"--db", db, "import"}, files...)...)
	wantContains(t, "import output", out, "imported 4 quotes")
	if st := stats(t, db); st.Quotes != 4 {
		t.Errorf("after import: %d quotes, want 4", st.Quotes)
	}
	out = cliOK(t, append([]string{"--db", db, "import"}, files...)...)
	wantContains(t, "second import output", out, "imported 0 quotes")
	wantContains(t, "second import output", out, "(4 already there or repeated)")
	if st := stats(t, db); st.Quotes != 4 {
		t.Errorf("after importing again: %d quotes, want still 4", st.Quotes)
	}
	q := decodeQuote(t, cliOK(t, "--db", db, "random", "--json", "--lang", "la"))
	if q.Author != "Julius Caesar" || q.Year != -47 || !slices.Equal(q.Tags, []string{"latin", "victory"}) {
		t.Errorf("CSV quote = %+v", q)
	}
	text := cliOK(t, "--db", db, "random", "--author", "henry david thoreau")
	if want := "Simplify, simplify.\n    -- Henry David Thoreau, Walden (1854)\n"; text != want {
		t.Errorf("fortune quote = %q, want %q", text, want)
	}
}

func TestImport_StdinAndForcedFormat(t *testing.T) {
	db := emptyDB(t)
	if _, errOut, code := cli(t, csvFile, "--db", db, "import", "-"); code != 0 {
		t.Fatalf("import - (CSV guessed from content): exit %d: %s", code, errOut)
	}
	// Forced to fortune, the same CSV is two unattributed records.
	if _, errOut, code := cli(t, "a,b\nc,d\n", "--db", db, "import", "--format", "fortune", "-"); code != 0 {
		t.Fatalf("import --format fortune -: exit %d: %s", code, errOut)
	}
	if st := stats(t, db); st.Quotes != 2 {
		t.Errorf("%d quotes, want 2", st.Quotes)
	}
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "import", "--format", "xml", "-"), `unknown format "xml"`)
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", db, "import"), "import needs one or more files")
}

func TestImport_BadInputNamesTheSpotAndAddsNothing(t *testing.T) {
	db := sampleDB(t)
	before := stats(t, db)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", csvFile)
	for _, tt := range []struct {
		name, file, content, want string
	}{
		{"empty CSV text", "bad.csv", "text,author\nfine,A\n,B\n", "bad.csv:3: text is empty"},
		{"JSON record", "bad.json", "[\n{\"text\": \"ok\", \"author\": \"A\"},\n{\"text\": \"x\"}\n]", "bad.json:3: record 2: author is empty"},
		{"over-long fortune", "long.txt", "ok\n%\n" + strings.Repeat("y", 5000) + "\n", "long.txt:3: text is 5000 bytes, over the limit of 4096"},
		{"binary junk", "fortunes.dat", "\x00\x00\x00\x02\x00\x00\x01\xa3", "fortunes.dat:1: binary data (a NUL byte)"},
		{"Latin-1", "latin1", "Caf\xe9\n", "latin1:1: invalid UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := writeFile(t, dir, tt.file, tt.content)
			errOut := cliFail(t, 1, "", "--db", db, "import", good, bad)
			wantContains(t, "stderr", errOut, tt.want)
			wantContains(t, "stderr", errOut, "nothing was imported")
		})
	}
	errOut := cliFail(t, 1, "", "--db", db, "import", good, filepath.Join(dir, "missing.txt"))
	wantContains(t, "stderr", errOut, "missing.txt: no such file or directory")
	if after := stats(t, db); after != before {
		t.Errorf("stats after failed imports = %+v, want %+v", after, before)
	}
}

func TestExport_RoundTripsThroughImport(t *testing.T) {
	src := sampleDB(t)
	for _, format := range []string{"json", "csv"} {
		t.Run(format, func(t *testing.T) {
			first := cliOK(t, "--db", src, "export", "--format", format)
			dst := emptyDB(t)
			if _, errOut, code := cli(t, first, "--db", dst, "import", "--format", format, "-"); code != 0 {
				t.Fatalf("import of the export: exit %d: %s", code, errOut)
			}
			second := cliOK(t, "--db", dst, "export", "--format", format)
			if first != second {
				t.Errorf("export of the re-imported library differs:\nfirst:  %.300q\nsecond: %.300q", first, second)
			}
			if stats(t, dst) != stats(t, src) {
				t.Errorf("stats differ: %+v vs %+v", stats(t, dst), stats(t, src))
			}
			srcToday := decodeQuote(t, cliOK(t, "--db", src, "random", "--json", "--author", quotertest.Sample()[0].Author))
			if out := cliOK(t, "--db", dst, "search", "--json", strings.Fields(srcToday.Text)[0]); !strings.Contains(out, srcToday.Author) {
				t.Errorf("re-imported library cannot find %q", srcToday.Text)
			}
		})
	}
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", src, "export", "--format", "xml"), `unknown export format "xml"`)
}

func TestExport_EmptyLibraryIsAnEmptyArray(t *testing.T) {
	db := emptyDB(t)
	if out := cliOK(t, "--db", db, "export"); out != "[]\n" {
		t.Errorf("export of an empty library = %q, want []", out)
	}
	if out := cliOK(t, "--db", db, "export", "--format", "csv"); out != "text,author,source,year,tags,lang,collection,added_by,edited_by,author_bio,author_link\n" {
		t.Errorf("CSV export of an empty library = %q, want the header only", out)
	}
}

func TestExport_KeepsMarkupAsIs(t *testing.T) {
	db := sampleDB(t)
	wantContains(t, "export", cliOK(t, "--db", db, "export"), "<script>alert(1)</script>")
}

func TestInit_CopiesTheShippedLibraryOrMakesAnEmptyOne(t *testing.T) {
	db := shippedDB(t)
	got, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, quotesd.Library) {
		t.Errorf("init wrote %d bytes that are not the shipped library (%d bytes)", len(got), len(quotesd.Library))
	}
	if st := stats(t, db); st.Quotes == 0 {
		t.Errorf("the shipped library has no quotes")
	}
	if st := stats(t, emptyDB(t)); st.Quotes != 0 {
		t.Errorf("init --empty: %d quotes, want 0", st.Quotes)
	}
}

func TestInit_RefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	for _, empty := range []bool{false, true} {
		path := writeFile(t, dir, "precious.db", "my data")
		args := []string{"--db", path, "init"}
		if empty {
			args = append(args, "--empty")
		}
		wantContains(t, "stderr", cliFail(t, 1, "", args...), "precious.db already exists: remove it first or choose another --db")
		if b, _ := os.ReadFile(path); string(b) != "my data" {
			t.Errorf("init --empty=%v changed an existing file to %q", empty, b)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("init left files behind: %v", entries)
	}
}

// Commands that only read must not change the library file in any way, nor
// leave -wal, -shm or journal files: the shipped quotes.db is in git.
func TestReadOnlyCommands_LeaveTheFileUntouched(t *testing.T) {
	db := shippedDB(t)
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"today"}, {"today", "--json", "--date", "2020-02-29"}, {"random"}, {"random", "--max-len", "200"},
		{"search", "life"}, {"export"}, {"export", "--format", "csv"}, {"stats", "--json"},
	} {
		out, errOut, code := cli(t, "", append([]string{"--db", db}, args...)...)
		if code != 0 && !(args[0] == "search" && code == 1) {
			t.Fatalf("quotesd %v: exit %d: %s%s", args, code, out, errOut)
		}
	}
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("reading the library changed the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(db))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files beside the library after reading it: %v, want only quotes.db", names)
	}
}

func TestMissingLibrary_AtAChosenPathIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	for _, cmd := range []string{"today", "random", "stats", "export"} {
		errOut := cliFail(t, 1, "", "--db", path, cmd)
		wantContains(t, "stderr", errOut, "typo.db does not exist: create it with 'quotesd --db ")
	}
	cliFail(t, 1, "", "--db", path, "add", "--author", "A", "text")
	if _, err := os.Stat(path); err == nil {
		t.Errorf("a command created %s, which the user did not ask for", path)
	}
}

// Without quotes.db in the current directory, which may be anyone's, the
// commands that only read read the shipped library and create nothing; the
// commands that write create quotes.db from it.
func TestMissingLibrary_AtTheDefaultPathReadsTheShippedOneAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv("QUOTESD_DB", "") // restored after the test...
	os.Unsetenv("QUOTESD_DB")  // ...and unset during it
	for _, args := range [][]string{{"today"}, {"random"}, {"search", "life"}, {"stats"}, {"export"}} {
		out, errOut, code := cli(t, "", args...)
		if code != 0 {
			t.Fatalf("%v without quotes.db: exit %d: %s", args, code, errOut)
		}
		if strings.Count(errOut, "reading the shipped library") != 1 {
			t.Errorf("%v: stderr = %q, want one note that the shipped library is read", args, errOut)
		}
		wantContains(t, "stderr", errOut, "'quotesd init' writes a copy of your own")
		if out == "" {
			t.Errorf("%v: nothing on stdout", args)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%v created %v in the current directory", args, entries[0].Name())
		}
		if entries, _ := os.ReadDir(os.Getenv("TMPDIR")); len(entries) != 0 {
			t.Fatalf("%v left %v in TMPDIR", args, entries[0].Name())
		}
	}

	out, errOut, code := cli(t, "", "add", "--author", "A", "a quote of my own")
	if code != 0 {
		t.Fatalf("add without quotes.db: exit %d: %s", code, errOut)
	}
	wantContains(t, "stderr", errOut, "created quotes.db from the shipped library")
	wantContains(t, "stdout", out, "added quote")
	if _, errOut, _ := cli(t, "", "today"); errOut != "" {
		t.Errorf("today with quotes.db: stderr = %q, want nothing", errOut)
	}
}

// A library quotesd has written is in WAL mode; reading it must not leave
// the -wal and -shm files SQLite needs to read such a file.
func TestReadOnlyCommands_OnAWALLibraryLeaveNoFilesBehind(t *testing.T) {
	db := shippedDB(t)
	cliOK(t, "--db", db, "add", "--author", "A", "a quote that switches the file to WAL")
	if h, _ := os.ReadFile(db); len(h) < 20 || h[18] != 2 {
		t.Fatalf("the library is not in WAL mode after add")
	}
	for _, args := range [][]string{{"today"}, {"random"}, {"search", "life"}, {"stats"}, {"export"}} {
		cliOK(t, append([]string{"--db", db}, args...)...)
		var names []string
		entries, _ := os.ReadDir(filepath.Dir(db))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) != 1 {
			t.Fatalf("files beside a WAL library after %v: %v, want only %s", args, names, filepath.Base(db))
		}
	}
}

func TestBadLibraryFiles_GiveClearErrors(t *testing.T) {
	dir := t.TempDir()
	junk := writeFile(t, dir, "junk.db", "this is not a database, just text\n")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", junk, "today"), "junk.db is not a SQLite database")
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", junk, "add", "--author", "A", "t"), "junk.db is not a SQLite database")
	if b, _ := os.ReadFile(junk); string(b) != "this is not a database, just text\n" {
		t.Errorf("the junk file was changed to %q", b)
	}
	wantContains(t, "stderr", cliFail(t, 1, "", "--db", dir, "today"), "is a directory")

	newer := shippedDB(t)
	raw, err := sql.Open("sqlite3", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (999, '999_future.sql', '2099-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, args := range [][]string{{"today"}, {"add", "--author", "A", "brand new text"}} {
		wantContains(t, "stderr", cliFail(t, 1, "", append([]string{"--db", newer}, args...)...), "newer than this quotesd supports")
	}

	if os.Getuid() != 0 { // root reads any file
		unreadable := shippedDB(t)
		if err := os.Chmod(unreadable, 0); err != nil {
			t.Fatal(err)
		}
		wantContains(t, "stderr", cliFail(t, 1, "", "--db", unreadable, "today"), "cannot read")
	}
}

func TestUsage_UnknownCommandsAndFlags(t *testing.T) {
	wantContains(t, "stderr", cliFail(t, 2, "", "--db", "", "today"), "--db (or QUOTESD_DB) is empty")
	wantContains(t, "stderr", cliFail(t, 2, "", "fortune"), `unknown command "fortune"`)
	wantContains(t, "stderr", cliFail(t, 2, "", "--dbx", "x", "today"), "unknown flag --dbx: did you mean --db?")
	wantContains(t, "stderr", cliFail(t, 2, "", "today", "--color"), "today: unknown flag --color")
	wantContains(t, "quotesd today -h", cliOK(t, "today", "-h"), "usage: quotesd today")
	for _, asked := range []string{"help", "-h", "--help", "-help"} {
		help := cliOK(t, asked)
		for _, cmd := range []string{"today", "random", "search", "add", "import", "export", "stats", "init", "version"} {
			wantContains(t, "quotesd "+asked, help, "  "+cmd+" ")
		}
	}
}
