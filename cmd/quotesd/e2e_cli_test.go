package main

// End-to-end tests of the CLI through the real binary: exit codes, files on
// disk, the environment, and real fortune files from Debian.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// e2eDataDir returns dir, a directory of outside test data an e2e test
// reads (installed by a Debian package, say). Like e2eTool, it skips the
// test when the directory is missing, or fails it when QUOTESD_E2E=require.
func e2eDataDir(t testing.TB, dir, pkg string) string {
	t.Helper()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("%s is missing, and QUOTESD_E2E=require: apt-get install %s (see .ci/run)", dir, pkg)
		}
		t.Skipf("%s is missing: apt-get install %s (set QUOTESD_E2E=require to fail instead)", dir, pkg)
	}
	return dir
}

// quotesdOK runs the binary and fails the test unless it exits 0.
func quotesdOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := runQuotesd(t, env, args...)
	if code != 0 {
		t.Fatalf("quotesd %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func e2eStats(t *testing.T, db string) quoter.Stats {
	t.Helper()
	var st quoter.Stats
	if err := json.Unmarshal([]byte(quotesdOK(t, nil, "--db", db, "stats", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestE2E_CLI_TodayIsTodayWithTodaysDate(t *testing.T) {
	db := tempLibrary(t)
	// Another zone may be on another day, but its today is its own date.
	for _, zone := range []string{"UTC", "Pacific/Kiritimati"} {
		onOneDay(t, zone, func(day string) (got, want string) {
			return quotesdOK(t, nil, "--db", db, "--tz", zone, "today"),
				quotesdOK(t, nil, "--db", db, "today", "--date", day)
		})
	}
}

// onOneDay calls run with today's date in zone and checks that it returns
// the same quote twice (today, and the quote of that date). It tries again
// when the date changed while run ran, so a test at midnight cannot flake.
func onOneDay(t *testing.T, zone string, run func(day string) (got, want string)) {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 2; try++ {
		day := quoter.DateOf(time.Now().In(loc)).String()
		got, want := run(day)
		if quoter.DateOf(time.Now().In(loc)).String() != day {
			continue
		}
		if got != want || !strings.Contains(got, "\n    -- ") {
			t.Errorf("--tz %s today = %q, today --date %s = %q", zone, got, day, want)
		}
		return
	}
}

func TestE2E_CLI_RandomAndSearchOnTheShippedLibrary(t *testing.T) {
	db := tempLibrary(t)
	for i := 0; i < 5; i++ {
		out := quotesdOK(t, nil, "--db", db, "random", "--max-len", "120")
		if n := len(strings.TrimSuffix(out, "\n")); n > 120 || n == 0 {
			t.Errorf("random --max-len 120 printed %d bytes", n)
		}
	}
	var q jsonQuote
	if err := json.Unmarshal([]byte(quotesdOK(t, nil, "--db", db, "random", "--json", "--lang", "en", "--min-len", "10")), &q); err != nil {
		t.Fatal(err)
	}
	if q.Lang != "en" || q.Text == "" || q.Author == "" || q.ID == 0 {
		t.Errorf("random --json = %+v", q)
	}
	found := quotesdOK(t, nil, "--db", db, "search", "--json", strings.Fields(q.Text)[0])
	if !strings.Contains(found, `"id":`) {
		t.Errorf("search for a word of a shipped quote found nothing: %s", found)
	}
	if _, _, code := runQuotesd(t, nil, "--db", db, "search", "qwxzptlk"); code != 1 {
		t.Errorf("search without matches: exit %d, want 1", code)
	}
}

func TestE2E_CLI_ImportsEveryFormatIdempotently(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mine.db")
	quotesdOK(t, nil, "--db", db, "init", "--empty")
	files := []string{
		writeFile(t, dir, "fortunes", fortuneFile),
		writeFile(t, dir, "quotes.csv", csvFile),
		writeFile(t, dir, "quotes.json", jsonFile),
	}
	out := quotesdOK(t, nil, append([]string{"--db", db, "import"}, files...)...)
	if !strings.Contains(out, "imported 4 quotes") {
		t.Errorf("import: %q", out)
	}
	out = quotesdOK(t, nil, append([]string{"--db", db, "import"}, files...)...)
	if !strings.Contains(out, "imported 0 quotes") {
		t.Errorf("second import: %q, want nothing added", out)
	}
	if st := e2eStats(t, db); st.Quotes != 4 {
		t.Errorf("stats = %+v, want 4 quotes", st)
	}
	// stdin, with the format forced.
	cmd := exec.Command(quotesdBinary(t), "--db", db, "import", "--format", "json", "-")
	cmd.Stdin = strings.NewReader(`[{"text": "From a pipe.", "author": "Anonymous"}]`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import - : %v\n%s", err, out)
	}
	if st := e2eStats(t, db); st.Quotes != 5 {
		t.Errorf("after stdin import: %d quotes, want 5", st.Quotes)
	}
}

func TestE2E_CLI_ExportThenImportRoundTrips(t *testing.T) {
	src := tempLibrary(t)
	for _, format := range []string{"json", "csv"} {
		first := quotesdOK(t, nil, "--db", src, "export", "--format", format)
		dir := t.TempDir()
		file := writeFile(t, dir, "export."+format, first)
		dst := filepath.Join(dir, "copy.db")
		quotesdOK(t, nil, "--db", dst, "init", "--empty")
		quotesdOK(t, nil, "--db", dst, "import", file)
		if second := quotesdOK(t, nil, "--db", dst, "export", "--format", format); second != first {
			t.Errorf("%s: the export of the re-imported library differs from the original export", format)
		}
	}
}

func TestE2E_CLI_InitCopiesEmptiesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	out := quotesdOK(t, nil, "--db", db, "init")
	if !strings.Contains(out, "created "+db) {
		t.Errorf("init: %q", out)
	}
	if st := e2eStats(t, db); st.Quotes < 300 {
		t.Errorf("init gave %d quotes, want the shipped library (300 or more)", st.Quotes)
	}
	before, _ := os.ReadFile(db)
	for _, args := range [][]string{{"init"}, {"init", "--empty"}} {
		_, errOut, code := runQuotesd(t, nil, append([]string{"--db", db}, args...)...)
		if code != 1 || !strings.Contains(errOut, "already exists") {
			t.Errorf("%v on an existing file: exit %d, %q", args, code, errOut)
		}
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Errorf("a refused init changed the file")
	}
	empty := filepath.Join(dir, "empty.db")
	quotesdOK(t, nil, "--db", empty, "init", "--empty")
	if st := e2eStats(t, empty); st.Quotes != 0 {
		t.Errorf("init --empty: %d quotes", st.Quotes)
	}
	if _, errOut, code := runQuotesd(t, nil, "--db", empty, "today"); code != 1 || !strings.Contains(errOut, "holds no quotes") {
		t.Errorf("today on an empty library: exit %d, %q", code, errOut)
	}
}

func TestE2E_CLI_BadInputGetsAClearErrorAndExitStatus(t *testing.T) {
	dir := t.TempDir()
	db := tempLibrary(t)
	junk := writeFile(t, dir, "junk.db", "not a database\n")
	badCSV := writeFile(t, dir, "bad.csv", "text,author\nok,A\n\"\",B\n")
	binary := writeFile(t, dir, "fortunes.dat", "\x00\x00\x00\x02\x00\x00\x01\xa3\x00")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--db", filepath.Join(dir, "none.db"), "today"}, 1, "none.db does not exist: create it with"},
		{[]string{"--db", junk, "today"}, 1, "junk.db is not a SQLite database"},
		{[]string{"--db", db, "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"--db", db, "random", "--colour"}, 2, "random: unknown flag --colour"},
		{[]string{"--db", db, "today", "--date", "2025-13-01"}, 2, "want YYYY-MM-DD"},
		{[]string{"--db", db, "--tz", "Nowhere/Land", "today"}, 2, `unknown time zone "Nowhere/Land"`},
		{[]string{"--db", db, "add", "--author", "A", ""}, 1, "text is empty"},
		{[]string{"--db", db, "add", "--author", "A", strings.Repeat("long ", 1000)}, 1, "over the limit of 4096"},
		{[]string{"--db", db, "import", badCSV}, 1, "bad.csv:3: text is empty"},
		{[]string{"--db", db, "import", binary}, 1, "fortunes.dat:1: binary data"},
	} {
		_, errOut, code := runQuotesd(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("quotesd %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
	if b, _ := os.ReadFile(junk); string(b) != "not a database\n" {
		t.Errorf("the junk file was changed")
	}
}

func TestE2E_CLI_DBFromTheEnvironment(t *testing.T) {
	db := tempLibrary(t)
	env := []string{"QUOTESD_DB=" + db, "QUOTESD_TZ=UTC"}
	quotesdOK(t, env, "add", "--author", "Test Person", "A quote only this library has.")
	out := quotesdOK(t, env, "random", "--author", "test person")
	if !strings.Contains(out, "A quote only this library has.") {
		t.Errorf("with QUOTESD_DB, random --author = %q", out)
	}
	if out := quotesdOK(t, append(env, "QUOTESD_JSON=1"), "stats"); !strings.HasPrefix(out, `{"quotes":`) {
		t.Errorf("QUOTESD_JSON=1 stats = %q, want JSON", out)
	}
}

// Running the commands that only read on the repository's own quotes.db,
// the way the README's first command would, changes nothing git can see.
func TestE2E_CLI_ReadingTheShippedLibraryKeepsGitStatusClean(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	shipped := filepath.Join(root, "quotes.db")
	before, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--ignored", "--", "quotes.db*").CombinedOutput()
		if err != nil {
			t.Fatalf("git status: %v\n%s", err, out)
		}
		return string(out)
	}
	gitBefore := status()
	for _, args := range [][]string{
		{"today"}, {"today", "--date", "1999-12-31", "--json"}, {"random"}, {"random", "--tag", "life"},
		{"search", "love"}, {"stats", "--json"}, {"export"}, {"export", "--format", "csv"},
	} {
		cmd := exec.Command(quotesdBinary(t), args...) // the default --db: ./quotes.db
		cmd.Dir = root
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "QUOTESD_DB=") })
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("quotesd %v in %s: %v\n%.500s", args, root, err, out)
		}
	}
	after, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("reading the shipped library changed quotes.db")
	}
	if got := status(); got != gitBefore {
		t.Errorf("git status of quotes.db* was %q, is %q after reading", gitBefore, got)
	}
	litter, _ := filepath.Glob(shipped + "-*")
	if len(litter) > 0 {
		t.Errorf("files left beside quotes.db: %v", litter)
	}
}

// The real fortune files Debian ships import cleanly, keep their
// attributions, and their binary .dat indexes are refused.
func TestE2E_CLI_ImportsDebianFortunes(t *testing.T) {
	dir := e2eDataDir(t, "/usr/share/games/fortunes", "fortunes-min")
	var files []string
	records := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// fortune files have no extension; .dat are strfile indexes and
		// .u8 are symlinks to the same files.
		if !e.Type().IsRegular() || filepath.Ext(e.Name()) != "" {
			continue
		}
		p := filepath.Join(dir, e.Name())
		files = append(files, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n%\n") {
			if strings.TrimSpace(strings.Trim(r, "%")) != "" {
				records++
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("no fortune files in %s", dir)
	}
	db := filepath.Join(t.TempDir(), "fortunes.db")
	quotesdOK(t, nil, "--db", db, "init", "--empty")
	out := quotesdOK(t, nil, append([]string{"--db", db, "import"}, files...)...)
	st := e2eStats(t, db)
	if st.Quotes == 0 || st.Quotes > records {
		t.Fatalf("imported %d quotes from %d records in %v: %s", st.Quotes, records, files, out)
	}
	if !strings.Contains(out, "imported ") {
		t.Errorf("import output %q", out)
	}
	if again := quotesdOK(t, nil, append([]string{"--db", db, "import"}, files...)...); !strings.Contains(again, "imported 0 quotes") {
		t.Errorf("second import of the Debian files: %q, want nothing added", again)
	}
	if st.Authors < 10 {
		t.Errorf("only %d authors: attributions were lost", st.Authors)
	}
	// Every record is there, as a quote or as a duplicate of one.
	if added, skipped, ok := parseImported(out); !ok || added+skipped != records {
		t.Errorf("import said %q; want added + repeated = %d records", out, records)
	}
	if slices.Contains(files, filepath.Join(dir, "literature")) {
		out := quotesdOK(t, nil, "--db", db, "search", "--json", "umbrella", "banker")
		if !strings.Contains(out, `"author":"Mark Twain"`) {
			t.Errorf("the banker's umbrella is not credited to Mark Twain: %s", out)
		}
		if out := quotesdOK(t, nil, "--db", db, "random", "--author", "wm. shakespeare", "--json"); !strings.Contains(out, `"source":"`) {
			t.Errorf("a Shakespeare fortune lost its play: %s", out)
		}
	}
	dats, _ := filepath.Glob(filepath.Join(dir, "*.dat"))
	if len(dats) > 0 {
		_, errOut, code := runQuotesd(t, nil, "--db", db, "import", dats[0])
		if code != 1 || !strings.Contains(errOut, filepath.Base(dats[0])) || !strings.Contains(errOut, "binary data") {
			t.Errorf("import of %s: exit %d, %q; want exit 1 and a binary data error naming it", dats[0], code, errOut)
		}
	}
	if st2 := e2eStats(t, db); st2 != st {
		t.Errorf("stats changed after a refused import: %+v, want %+v", st2, st)
	}
}

var importedRE = regexp.MustCompile(`imported (\d+) quotes into .* \((\d+) already there or repeated\)`)

// parseImported reads the counts from the output of quotesd import.
func parseImported(out string) (added, skipped int, ok bool) {
	m := importedRE.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, false
	}
	added, _ = strconv.Atoi(m[1])
	skipped, _ = strconv.Atoi(m[2])
	return added, skipped, true
}

// A `go install`ed binary run in a directory without a library reads its
// built-in copy and creates nothing, saying how to get a file of one's own;
// the first command that writes creates quotes.db there, which is used from
// then on.
func TestE2E_CLI_FirstRunAnywhereReadsTheShippedLibrary(t *testing.T) {
	dir := t.TempDir()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "QUOTESD_") })
	runIn := func(args ...string) (string, string, int) {
		cmd := exec.Command(quotesdBinary(t), args...)
		cmd.Dir, cmd.Env = dir, env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}
	out, errOut, code := runIn("random")
	if code != 0 || !strings.Contains(errOut, "reading the shipped library; 'quotesd init'") || !strings.Contains(out, "    -- ") {
		t.Fatalf("first run: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("random created %s in the current directory", entries[0].Name())
	}
	out, errOut, _ = runIn("add", "--author", "Me", "Something only I said.")
	if !strings.Contains(out, "added quote") || !strings.Contains(errOut, "created quotes.db from the shipped library") {
		t.Errorf("add without a library: stdout %q, stderr %q", out, errOut)
	}
	if out, errOut, code := runIn("search", "only I said"); code != 0 || errOut != "" || !strings.Contains(out, "Something only I said.") {
		t.Errorf("search after add: exit %d, stdout %q, stderr %q; want the quote and no note", code, out, errOut)
	}
}
