package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkImport_100kFortunes measures `quotesd import` of a 100,000-record
// fortune file into an empty library, end to end in-process: read, parse,
// validate, and one store transaction.
func BenchmarkImport_100kFortunes(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&sb, "Quote number %d says something worth\nremembering about day %d.\n\t-- Author %d, \"Work %d\"\n%%\n", i, i%365, i%5000, i%300)
	}
	file := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		db := filepath.Join(dir, fmt.Sprintf("lib%d.db", n))
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"--db", db, "init", "--empty"}, nil, &out, &errOut); code != 0 {
			b.Fatalf("init: %s", errOut.String())
		}
		b.StartTimer()
		if code := run(context.Background(), []string{"--db", db, "import", file}, nil, &out, &errOut); code != 0 {
			b.Fatalf("import: %s", errOut.String())
		}
	}
}
