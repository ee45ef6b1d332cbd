package importer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter/importer"
)

// bigFortune returns a fortune file of n attributed records.
func bigFortune(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Quote number %d says something worth\nremembering about day %d.\n\t-- Author %d, \"Work %d\"\n%%\n", i, i%365, i%5000, i%300)
	}
	return []byte(b.String())
}

// BenchmarkParseFortune_100k measures parsing alone: a 100,000-record file,
// the size the import command is expected to handle in seconds.
func BenchmarkParseFortune_100k(b *testing.B) {
	data := bigFortune(100_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rs, err := importer.ParseFortune("big", data)
		if err != nil || len(rs) != 100_000 {
			b.Fatalf("%d records, %v", len(rs), err)
		}
	}
}

func BenchmarkParseCSV_100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("text,author,source,year,tags,lang\n")
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&sb, "\"Quote number %d, with a comma\",Author %d,Work %d,%d,a;b%d,en\n", i, i%5000, i%300, 1800+i%200, i%50)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if rs, err := importer.ParseCSV("big.csv", data); err != nil || len(rs) != 100_000 {
			b.Fatalf("%d records, %v", len(rs), err)
		}
	}
}
