package importer_test

import (
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
)

func TestCollectionOfFile_IsTheFileNameAsACollectionName(t *testing.T) {
	for name, want := range map[string]string{
		"/usr/share/games/fortunes/literature": "literature",
		"Literature.u8":                        "literature",
		"my riddles (old).txt":                 "my-riddles-old",
		"--.txt":                               quoter.DefaultCollection,
		"-":                                    quoter.DefaultCollection,
		"a-very-long-file-name-of-fortunes-indeed.txt": "a-very-long-file-name-of-fortune",
	} {
		got := importer.CollectionOfFile(name)
		if got != want {
			t.Errorf("CollectionOfFile(%q) = %q, want %q", name, got, want)
		}
		if err := quoter.ValidCollection(got); err != nil {
			t.Errorf("CollectionOfFile(%q) = %q, not a valid name: %v", name, got, err)
		}
	}
}
