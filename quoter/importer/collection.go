package importer

import (
	"path/filepath"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// CollectionOfFile is the collection a fortune file's quotes go to: its
// base name without extension, in the syntax of collection names
// ("Literature.u8" is literature), or classics when nothing is left. Both
// "quotesd import" and the web admin's upload put a fortune file's quotes
// that name no collection there.
func CollectionOfFile(name string) string {
	if name == "-" {
		return quoter.DefaultCollection
	}
	base := filepath.Base(name)
	base = strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
	var b strings.Builder
	dash := false
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	s := b.String()
	if len(s) > quoter.MaxCollectionLen {
		s = strings.TrimRight(s[:quoter.MaxCollectionLen], "-")
	}
	if s == "" {
		return quoter.DefaultCollection
	}
	return s
}
