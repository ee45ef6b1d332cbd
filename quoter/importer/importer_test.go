package importer_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
)

// brief is what a test compares: the fields a parser fills, with the line.
type brief struct {
	Line   int
	Text   string
	Author string
	Source string
	Year   int
	Tags   []string
	Lang   string
}

func briefs(rs []importer.Record) []brief {
	out := make([]brief, len(rs))
	for i, r := range rs {
		q := r.Quote
		out[i] = brief{r.Pos.Line, q.Text, q.Author, q.Source, q.Year, q.Tags, q.Lang}
	}
	return out
}

func mustParse(t *testing.T, name, data string, f importer.Format) []importer.Record {
	t.Helper()
	rs, err := importer.Parse(name, []byte(data), f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return rs
}

// wantError checks that parsing fails with an EINVALID error whose user
// message is exactly want.
func wantError(t *testing.T, name, data string, f importer.Format, want string) {
	t.Helper()
	rs, err := importer.Parse(name, []byte(data), f)
	if err == nil {
		t.Fatalf("Parse(%s) = %d records, want error %q", name, len(rs), want)
	}
	if got := quoter.ErrorCode(err); got != quoter.EINVALID {
		t.Errorf("error code = %q, want %q", got, quoter.EINVALID)
	}
	if got := quoter.ErrorMessage(err); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestFortune_SplitsRecordsAndAttributions(t *testing.T) {
	in := "\n\n" + // leading blank lines
		"Simplify, simplify.\r\n" +
		"\t\t-- Henry David Thoreau, \"Walden\", 1854\r\n" +
		"%\r\n" +
		"A day for firm decisions!!!!!  Or is it?\n" +
		"%\n" +
		"%\n" + // an empty record
		"Two roads diverged in a wood, and I --\n" +
		"I took the one less traveled by.\n" +
		"    ― Robert Frost, The Road Not Taken (1916)\n" +
		"%\n" +
		"Be yourself.\n" +
		"~ Oscar Wilde\n" +
		"%\n" // trailing %
	got := briefs(mustParse(t, "q.fortune", in, importer.Fortune))
	want := []brief{
		{3, "Simplify, simplify.", "Henry David Thoreau", "Walden", 1854, []string{}, "en"},
		{6, "A day for firm decisions!!!!!  Or is it?", "Anonymous", "", 0, []string{}, "en"},
		{9, "Two roads diverged in a wood, and I --\nI took the one less traveled by.", "Robert Frost", "The Road Not Taken", 1916, []string{}, "en"},
		{13, "Be yourself.", "Oscar Wilde", "", 0, []string{}, "en"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestFortune_AttributionContinuesOnDeeperIndentedLines(t *testing.T) {
	in := "It was a dark and stormy night.\n" +
		"\t\t-- Grand Panjandrum's Special Award, 1984 Bulwer-Lytton\n" +
		"\t\t   bad fiction contest.\n"
	got := briefs(mustParse(t, "f", in, importer.Fortune))
	want := []brief{{1, "It was a dark and stormy night.", "Grand Panjandrum's Special Award", "1984 Bulwer-Lytton bad fiction contest.", 0, []string{}, "en"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestFortune_DashLinesInsideTheTextAreText(t *testing.T) {
	in := "A Tale of Two Cities LITE(tm)\n" +
		"\t-- by Charles Dickens\n" +
		"\n" +
		"\tA lawyer who looks like a French Nobleman is executed in his place.\n" +
		"%\n" +
		"Here is a letter, read it at your leisure.\n" +
		"\t\t-- Shakespeare, \"Merchant of Venice\" 5,1\n" +
		"\t[Quoted in \"VMS Internals and Data Structures\"]\n" +
		"%\n" +
		"-- I mean negative capability, that is, when a man is\n" +
		"capable of being in uncertainties.\n"
	rs := mustParse(t, "f", in, importer.Fortune)
	if len(rs) != 3 {
		t.Fatalf("got %d records, want 3", len(rs))
	}
	for i, r := range rs {
		if r.Quote.Author != importer.Unattributed {
			t.Errorf("record %d: author = %q, want %q (the dash line is not the last)", i+1, r.Quote.Author, importer.Unattributed)
		}
	}
	if !strings.Contains(rs[0].Quote.Text, "-- by Charles Dickens") {
		t.Errorf("record 1 lost its inner dash line: %q", rs[0].Quote.Text)
	}
}

func TestFortune_SplitsAttributionAtFirstCommaOutsideQuotes(t *testing.T) {
	for _, tt := range []struct{ line, author, source string }{
		{"-- Mark Twain", "Mark Twain", ""},
		{"-- Mark Twain, \"The Disappearance of Literature\"", "Mark Twain", "The Disappearance of Literature"},
		{"-- Harry Peck (Editor, \"The Bookman\"), January 1901.", "Harry Peck (Editor, \"The Bookman\")", "January 1901."},
		{"-- Bilbo Baggins [J.R.R. Tolkien, \"The Hobbit\"]", "Bilbo Baggins [J.R.R. Tolkien, \"The Hobbit\"]", ""},
		{"— Seneca, Letters", "Seneca", "Letters"},
		{"--Confucius", "Confucius", ""},
		{"-- , Anonymous work", "Anonymous", "Anonymous work"},
		{"-- \"Mark Twain, Pudd'nhead Wilson's Calendar\"", "Mark Twain", "Pudd'nhead Wilson's Calendar"},
		{"-- Mark Twain \"A Connecticut Yankee\"", "Mark Twain", "A Connecticut Yankee"},
		{"-- Emily Dickinson “Hope”", "Emily Dickinson", "Hope"},
		{"-- \"Quoted\" Person", "\"Quoted\" Person", ""},
	} {
		rs := mustParse(t, "f", "Words.\n"+tt.line+"\n", importer.Fortune)
		if q := rs[0].Quote; q.Author != tt.author || q.Source != tt.source {
			t.Errorf("%q: author, source = %q, %q; want %q, %q", tt.line, q.Author, q.Source, tt.author, tt.source)
		}
	}
}

func TestFortune_AppliesBackspaceOverstriking(t *testing.T) {
	rs := mustParse(t, "f", "It's a very *__\b\bUN*lucky week.\n", importer.Fortune)
	if got, want := rs[0].Quote.Text, "It's a very *UN*lucky week."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

func TestFortune_RejectsBinaryJunk(t *testing.T) {
	wantError(t, "fortunes.dat", "A quote\n%\n\x00\x00\x02\x13\xff", importer.Fortune,
		"fortunes.dat:3: binary data (a NUL byte): this is not a text file of quotes")
	wantError(t, "latin1", "Ok\n%\nCaf\xe9 au lait\n", importer.Fortune,
		"latin1:3: invalid UTF-8: convert the file first, e.g. iconv -f LATIN1 -t UTF-8")
}

func TestFortune_NamesTheLineOfAnInvalidRecord(t *testing.T) {
	long := strings.Repeat("word ", quoter.MaxTextLen/5+1)
	wantError(t, "big", "fine\n%\n\n"+long+"\n", importer.Fortune,
		"big:4: text is 4099 bytes, over the limit of 4096")
	wantError(t, "ctl", "fine\n%\nbell \x07 here\n", importer.Fortune,
		"ctl:3: text contains control characters")
}

// Every importer refuses what Quote.Validate refuses, with the same
// message at the spot: here a bidi override (display spoofing), escaped in
// JSON as in the file, and a mid-file byte order mark.
func TestImporters_RefuseInvisibleFormatCharacters(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		f        importer.Format
		want     string
	}{
		{"q.fortune", "fine\n%\nA quote\n    -- Ada \u202eecalevoL\n", importer.Fortune, "q.fortune:3: author contains U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"q.csv", "text,author\nfine,A\n\"a\u2066b\",B\n", importer.CSV, "q.csv:3: text contains U+2066 LEFT-TO-RIGHT ISOLATE"},
		{"q.json", `[{"text": "a", "author": "A", "source": "\u200fWork"}]`, importer.JSON, "q.json:1: record 1: source contains U+200F RIGHT-TO-LEFT MARK"},
		{"joined.fortune", "fine\n%\n\ufeffsecond file\n", importer.Fortune, "joined.fortune:3: text contains U+FEFF ZERO WIDTH NO-BREAK SPACE"},
	} {
		wantError(t, tt.name, tt.in, tt.f, tt.want)
	}
}

func TestFortune_EmptyInputHasNoRecords(t *testing.T) {
	for _, in := range []string{"", "\n\n", "%\n%\n", "\ufeff"} {
		if rs := mustParse(t, "f", in, importer.Fortune); len(rs) != 0 {
			t.Errorf("%q: got %d records, want none", in, len(rs))
		}
	}
}

func TestCSV_ReadsHeaderColumnsInAnyOrder(t *testing.T) {
	in := "\ufeffAuthor,Text,tags,year,source,lang,extra\r\n" +
		"Seneca,\"Luck is what happens when preparation meets opportunity.\",luck;work,65,Letters,la,1\r\n" +
		"Sappho,\"Multi\nline\",\"love, poetry|greek\",-600,,,\r\n" +
		"Aesop,No act of kindness is ever wasted.,,,,,\r\n"
	got := briefs(mustParse(t, "q.csv", in, ""))
	want := []brief{
		{2, "Luck is what happens when preparation meets opportunity.", "Seneca", "Letters", 65, []string{"luck", "work"}, "la"},
		{3, "Multi\nline", "Sappho", "", -600, []string{"love", "poetry", "greek"}, "en"},
		{5, "No act of kindness is ever wasted.", "Aesop", "", 0, []string{}, "en"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestCSV_ErrorsNameFileAndLine(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"no-text.csv", "author,source\nA,B\n", "no-text.csv:1: the header has no text column: want a first row such as text,author,source,year,tags,lang"},
		{"empty.csv", "text,author\nfine,A\n\"\",B\n", "empty.csv:3: text is empty"},
		{"fields.csv", "text,author\nfine,A\nx,y,z\n", "fields.csv:3: wrong number of fields"},
		{"year.csv", "text,author,year\nfine,A,1850s\n", `year.csv:2: year "1850s" is not a number (write -500 for 500 BC)`},
		{"quote.csv", "text,author\n\"unclosed,A\n", `quote.csv:2: extraneous or missing " in quoted-field`},
		{"tag.csv", "text,author,tags\nfine,A,Has Space;c++\n", `tag.csv:2: tag "c++": want lower-case letters, digits and dashes, at most 32 bytes`},
	} {
		wantError(t, tt.name, tt.in, importer.CSV, tt.want)
	}
}

func TestJSON_ReadsOwnAndQuotableShapes(t *testing.T) {
	in := `[
  {"text": "Simplify, simplify.", "author": "Henry David Thoreau", "source": "Walden", "year": 1854, "tags": ["life"], "lang": "en"},
  {"_id": "abc", "content": "Be yourself.", "author": "Oscar Wilde", "authorSlug": "oscar-wilde", "length": 12, "tags": ["Famous Quotes"]},
  {"text": "Carpe diem.", "author": "Horace", "year": "-23", "tags": "time;latin", "language": "la", "source": null}
]`
	want := []brief{
		{2, "Simplify, simplify.", "Henry David Thoreau", "Walden", 1854, []string{"life"}, "en"},
		{3, "Be yourself.", "Oscar Wilde", "", 0, []string{"famous-quotes"}, "en"},
		{4, "Carpe diem.", "Horace", "", -23, []string{"time", "latin"}, "la"},
	}
	// quotable's tags have spaces and capitals; they become the library's
	// tag syntax.
	got := briefs(mustParse(t, "q.json", in, ""))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestJSON_ErrorsNameRecordAndLine(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"obj.json", `{"text": "x"}`, `obj.json:1: want a JSON array of quote objects, [{"text": ..., "author": ...}, ...]`},
		{"empty.json", "[\n{\"text\": \"a\", \"author\": \"A\"},\n{\"text\": \" \", \"author\": \"B\"}\n]", "empty.json:3: record 2: text is empty"},
		{"noauthor.json", `[{"text": "a"}]`, "noauthor.json:1: record 1: author is empty"},
		{"type.json", `[{"text": 5, "author": "A"}]`, "type.json:1: record 1: text: want a string"},
		{"tags.json", `[{"text": "t", "author": "A", "tags": [1]}]`, "tags.json:1: record 1: tags: want an array of strings"},
		{"year.json", `[{"text": "t", "author": "A", "year": 1.5}]`, "year.json:1: record 1: year: want a whole number (-500 for 500 BC)"},
		{"notobj.json", "[\n\"just text\"]", "notobj.json:2: record 1: want an object with text and author"},
		{"null.json", "[null]", "null.json:1: record 1: want an object with text and author, not null"},
		{"syntax.json", "[\n{\"text\": \"a\", \"author\": \"A\"},\n{\"text\" \"b\"}]", "syntax.json:3: record 2: invalid character '\"' after object key"},
		{"open.json", "[{\"text\": \"a\", \"author\": \"A\"}", "open.json:1: unexpected end of file: the JSON array is not closed"},
		{"trailing.json", "[]\n[]", "trailing.json:2: unexpected data after the array"},
		{"utf8.json", "[{\"text\": \"caf\xe9\", \"author\": \"A\"}]", "utf8.json:1: invalid UTF-8: convert the file first, e.g. iconv -f LATIN1 -t UTF-8"},
	} {
		wantError(t, tt.name, tt.in, importer.JSON, tt.want)
	}
}

func TestGuess_ByExtensionThenContent(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		want       importer.Format
	}{
		{"a.csv", "[", importer.CSV},
		{"a.JSON", "x", importer.JSON},
		{"a.txt", "[", importer.Fortune},
		{"-", "  \n[{}]", importer.JSON},
		{"-", "\ufefftext,author\nx,y", importer.CSV},
		{"quotes", "Quote,Author\r\nx,y", importer.CSV},
		{"fortunes", "Some words, with a comma\n%\n", importer.Fortune},
		{"literature", "", importer.Fortune},
	} {
		if got := importer.Guess(tt.name, []byte(tt.data)); got != tt.want {
			t.Errorf("Guess(%q, %q) = %q, want %q", tt.name, tt.data, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"", "fortune", "CSV", "json"} {
		if _, err := importer.ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := importer.ParseFormat("xml"); quoter.ErrorMessage(err) != `unknown format "xml": want fortune, csv or json` {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}

// CSV and JSON carry a quote's collection and provenance, as exports write
// them; a record without a collection leaves it for the caller to choose.
func TestImporters_ReadCollectionAndProvenance(t *testing.T) {
	added := quoter.Provenance{By: "alice", Via: quoter.ViaIRC, Channel: "#club", Account: "alice"}
	edited := quoter.Provenance{By: "carol", Via: quoter.ViaWeb}
	for _, tt := range []struct{ name, in string }{
		{"p.json", `[
  {"text": "In the club.", "author": "A", "collection": "club", "added_by": {"by": "alice", "via": "irc", "channel": "#club", "account": "alice"}, "edited_by": {"by": "carol", "via": "web"}},
  {"text": "Anywhere.", "author": "B", "added_by": null}
]`},
		{"p.csv", "text,author,collection,added_by,edited_by\n" +
			`In the club.,A,club,"{""by"":""alice"",""via"":""irc"",""channel"":""#club"",""account"":""alice""}","{""by"":""carol"",""via"":""web""}"` + "\n" +
			"Anywhere.,B,,,\n"},
	} {
		rs := mustParse(t, tt.name, tt.in, "")
		if len(rs) != 2 {
			t.Fatalf("%s: %d records", tt.name, len(rs))
		}
		if q := rs[0].Quote; q.Collection != "club" || q.AddedBy != added || q.EditedBy != edited {
			t.Errorf("%s: record 1 = collection %q, added by %+v, edited by %+v", tt.name, q.Collection, q.AddedBy, q.EditedBy)
		}
		if q := rs[1].Quote; q.Collection != "" || !q.AddedBy.IsZero() || !q.EditedBy.IsZero() {
			t.Errorf("%s: record 2 = collection %q, added by %+v; want neither", tt.name, q.Collection, q.AddedBy)
		}
		if !rs[0].Provenance || rs[1].Provenance != strings.HasSuffix(tt.name, ".csv") {
			t.Errorf("%s: records carry provenance %v, %v; want true, and for the second what its file has (a column, a null)",
				tt.name, rs[0].Provenance, rs[1].Provenance)
		}
	}
	wantError(t, "bad.json", `[{"text": "t", "author": "A", "collection": "Not Valid"}]`, importer.JSON,
		`bad.json:1: record 1: collection name "Not Valid": want lower-case letters, digits and inner hyphens`)
	wantError(t, "bad.json", `[{"text": "t", "author": "A", "added_by": "alice"}]`, importer.JSON,
		`bad.json:1: record 1: added_by: want an object such as {"by":"alice","via":"irc"}`)
	wantError(t, "bad.csv", "text,author,added_by\nt,A,alice\n", importer.CSV,
		`bad.csv:2: added_by: want an object such as {"by":"alice","via":"irc"}`)
}

func TestCollectionOf_NamesAFortuneFilesCollection(t *testing.T) {
	for name, want := range map[string]string{
		"/usr/share/games/fortunes/literature": "literature",
		"Riddles.u8":                           "riddles",
		"my fortunes/Famous Quotes.txt":        "famous-quotes",
		"--odd__name--":                        "odd-name",
		"-":                                    quoter.DefaultCollection,
		"...":                                  quoter.DefaultCollection,
		"été":                                  "t",
		strings.Repeat("ab-", 20):              "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab",
	} {
		got := importer.CollectionOf(name)
		if got != want {
			t.Errorf("CollectionOf(%q) = %q, want %q", name, got, want)
		}
		if err := quoter.ValidCollection(got); err != nil {
			t.Errorf("CollectionOf(%q) = %q: %v", name, got, err)
		}
	}
}

// Origin gives the records of a file their collection and provenance as
// `quotesd import` does: the file and line, unless a record carries its
// own; the fortune file's name, unless a collection is chosen.
func TestOrigin_StampsCollectionAndProvenance(t *testing.T) {
	by := quoter.Provenance{By: "carol", Via: quoter.ViaWeb}
	fortune := mustParse(t, "riddles", "One.\n\t-- A\n%\nTwo.\n\t-- B\n", importer.Fortune)
	qs := importer.Origin{By: by}.Quotes("/tmp/riddles", importer.Fortune, fortune)
	if len(qs) != 2 || qs[0].Collection != "riddles" || qs[1].AddedBy != (quoter.Provenance{By: "carol", Via: quoter.ViaWeb, File: "riddles", Line: 4}) {
		t.Errorf("fortune quotes = %+v", qs)
	}
	qs = importer.Origin{By: by, Collection: "club"}.Quotes("riddles", importer.Fortune, fortune)
	if qs[0].Collection != "club" || qs[1].Collection != "club" {
		t.Errorf("with a collection chosen: %+v", qs)
	}
	export := mustParse(t, "x.json", `[{"text": "Kept.", "author": "A", "collection": "mine", "added_by": {}}, {"text": "Stamped.", "author": "B"}]`, importer.JSON)
	qs = importer.Origin{By: by}.Quotes("-", importer.JSON, export)
	if qs[0].Collection != "mine" || !qs[0].AddedBy.IsZero() || qs[1].Collection != "" || qs[1].AddedBy.File != "stdin" || qs[1].AddedBy.Line != 1 {
		t.Errorf("JSON quotes = %+v", qs)
	}
}

func TestAuthors_NotesComeFromTheFirstRecordOfEachAuthor(t *testing.T) {
	csvData := "text,author,author_bio,author_link\n" +
		"First.,Lao Tzu,Legendary sage.,https://example.org/lao\n" +
		"Second.,Lao Tzu,,\n" +
		"Third.,Nobody Noted,,\n"
	jsonData := `[{"text":"First.","author":"Lao Tzu","author_bio":"Legendary sage.","authorLink":"https://example.org/lao"},
		{"text":"Second.","author":"Lao Tzu"},{"text":"Third.","author":"Nobody Noted"}]`
	for name, data := range map[string]string{"a.csv": csvData, "a.json": jsonData} {
		rs, err := importer.Parse(name, []byte(data), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		as, err := importer.Authors(rs)
		if err != nil {
			t.Fatalf("%s: Authors: %v", name, err)
		}
		if len(as) != 1 || as[0].Slug != "lao-tzu" || as[0].Bio != "Legendary sage." || as[0].Link != "https://example.org/lao" {
			t.Errorf("%s: Authors = %+v, want Lao Tzu's notes alone", name, as)
		}
	}
	rs, err := importer.Parse("bad.csv", []byte("text,author,author_link\nA quote.,Someone,javascript:alert(1)\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Authors(rs); quoter.ErrorCode(err) != quoter.EINVALID || !strings.Contains(err.Error(), "bad.csv:2") {
		t.Errorf("a bad link: %v, want EINVALID at bad.csv:2", err)
	}
}
