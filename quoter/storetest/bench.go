package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// BenchWords is a vocabulary of 8000 made-up words, so synthetic quotes
// give the full-text index a realistic spread of terms.
var BenchWords = func() []string {
	syl := []string{"ka", "lo", "mi", "ren", "sa", "tor", "vel", "qu", "ni", "der", "pa", "sto", "be", "ga", "fi", "mu", "zo", "ran", "te", "wy"}
	var ws []string
	for _, a := range syl {
		for _, b := range syl {
			for _, c := range syl {
				ws = append(ws, a+b+c)
			}
		}
	}
	return ws
}()

// BenchQuotes returns quotes [from, to) of the synthetic benchmark library:
// 8 to 24 words each, one in ten long (over 512 bytes rendered, so a QOTD
// length filter rejects it), 50 authors, one in twenty tagged "rare".
func BenchQuotes(from, to int) []quoter.Quote {
	qs := make([]quoter.Quote, 0, to-from)
	for i := from; i < to; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		n := 8 + r.IntN(17)
		if i%10 == 0 {
			n = 90
		}
		var sb strings.Builder
		for w := range n {
			if w > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(BenchWords[r.IntN(len(BenchWords))])
		}
		fmt.Fprintf(&sb, " (%d).", i) // unique text whatever the words
		q := quoter.Quote{Text: sb.String(), Author: fmt.Sprintf("Author %d", i%50), Lang: "en", Tags: []string{"bench"}}
		if i%20 == 0 {
			q.Tags = append(q.Tags, "rare")
		}
		qs = append(qs, q)
	}
	return qs
}
