package sqlite_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// searchPins are the ranked first ten results and the totals that Search
// gave on the shipped library (quotes.db at the top of the repository)
// when they were recorded, before search was reworked for large
// libraries: words, prefixes and phrases (words joined by punctuation).
// A change to how search finds or ranks quotes must keep them, or change
// them on purpose and say by which measure the new ranking is better.
var searchPins = []struct {
	query string
	total int
	top   []int64
}{
	{"wit", 3, []int64{4, 140, 199}},
	{"love", 15, []int64{21, 241, 14, 17, 54, 72, 73, 114, 198, 223}},
	{"life", 36, []int64{148, 153, 149, 150, 151, 152, 154, 254, 334, 339}},
	{"man", 56, []int64{270, 142, 143, 144, 116, 145, 350, 371, 330, 375}},
	{"time", 17, []int64{279, 324, 6, 7, 49, 73, 125, 165, 198, 233}},
	{"world", 28, []int64{220, 431, 432, 32, 106, 6, 40, 75, 82, 100}},
	{"god", 14, []int64{305, 62, 143, 144, 194, 204, 236, 239, 285, 306}},
	{"truth", 13, []int64{335, 131, 211, 54, 76, 110, 115, 145, 183, 213}},
	{"death", 9, []int64{209, 208, 8, 75, 136, 162, 207, 246, 358}},
	{"twain", 20, []int64{258, 118, 119, 120, 121, 122, 123, 124, 125, 126}},
	{"shakespeare", 25, []int64{280, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	{"william", 45, []int64{280, 324, 1, 2, 3, 4, 5, 6, 7, 8}},
	{"the world", 26, []int64{220, 431, 432, 106, 32, 380, 262, 101, 350, 40}},
	{"life death", 1, []int64{358}},
	{"love hate", 1, []int64{356}},
	{"man nature", 1, []int64{196}},
	{"know thyself", 1, []int64{143}},
	{"wis*", 13, []int64{264, 116, 176, 44, 59, 67, 89, 226, 273, 284}},
	{"kno*", 20, []int64{179, 152, 191, 211, 88, 90, 96, 103, 133, 143}},
	{"tru*", 30, []int64{335, 31, 131, 211, 230, 2, 17, 21, 26, 35}},
	{"li*", 102, []int64{314, 322, 315, 316, 317, 318, 319, 320, 321, 148}},
	{"a*", 416, []int64{362, 253, 308, 343, 314, 76, 80, 363, 165, 232}},
	{"the wor*", 48, []int64{220, 432, 380, 431, 224, 221, 222, 106, 101, 32}},
	{"lov* life", 2, []int64{73, 223}},
	{"to-be", 27, []int64{331, 1, 30, 97, 157, 224, 368, 37, 75, 83}},
	{"the-world", 23, []int64{220, 431, 432, 32, 106, 6, 40, 82, 101, 217}},
	{"of-the", 41, []int64{360, 302, 155, 156, 225, 234, 290, 339, 343, 353}},
	{"it-is", 27, []int64{32, 90, 166, 197, 12, 16, 22, 24, 47, 76}},
	{"in-the", 27, []int64{311, 363, 32, 9, 34, 53, 101, 107, 112, 120}},
	{"all-men", 6, []int64{31, 173, 190, 314, 323, 344}},
}

// copyShipped copies the shipped library into the test's temp dir, so a
// test may open it read-write (and upgrade it) without touching the file
// in git.
func copyShipped(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "quotes.db"))
	if err != nil {
		t.Fatalf("reading the shipped library: %v", err)
	}
	path := filepath.Join(t.TempDir(), "quotes.db")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Search on the shipped library returns the pinned top ten and totals,
// both as shipped (read-only, at the schema it was built with) and after
// an upgrade to the newest schema.
func TestSearch_ShippedLibraryKeepsItsRanking(t *testing.T) {
	for _, open := range []struct {
		name string
		opts []sqlite.Option
	}{
		{"ReadOnly", []sqlite.Option{sqlite.ReadOnly()}},
		{"Upgraded", nil},
	} {
		t.Run(open.name, func(t *testing.T) {
			db := mustOpen(t, copyShipped(t), open.opts...)
			for _, pin := range searchPins {
				qs, total, err := db.Search(ctx, pin.query, quoter.Page{Limit: 10})
				if err != nil {
					t.Errorf("Search(%q): %v", pin.query, err)
					continue
				}
				ids := make([]int64, len(qs))
				for i, q := range qs {
					ids[i] = q.ID
				}
				if total != pin.total || !slices.Equal(ids, pin.top) {
					t.Errorf("Search(%q) = %v, total %d; want %v, total %d", pin.query, ids, total, pin.top, pin.total)
				}
			}
		})
	}
}
