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

// BenchSearches are the searches the stores' BenchmarkSearchLatency time:
// two words, a word and a prefix (as in BenchmarkSearch), and a phrase,
// two words that follow each other in a quote of the library written as
// one word joined by a dash, as a person would type "wind-blown". Given
// the same source of randomness, every run and every store asks the same.
var BenchSearches = []struct {
	Name  string
	Query func(r *rand.Rand, n int) string // a query on a library of n quotes
}{
	{"Words", func(r *rand.Rand, n int) string {
		return BenchWords[r.IntN(len(BenchWords))] + " " + BenchWords[r.IntN(len(BenchWords))]
	}},
	{"Prefix", func(r *rand.Rand, n int) string {
		q := BenchWords[r.IntN(len(BenchWords))] + " " + BenchWords[r.IntN(len(BenchWords))]
		return q[:len(q)-2] + "*"
	}},
	{"Phrase", func(r *rand.Rand, n int) string {
		i := r.IntN(n)
		words := strings.Fields(BenchQuotes(i, i+1)[0].Text)
		w := r.IntN(len(words) - 2) // not the last: it is the quote's number
		return words[w] + "-" + words[w+1]
	}},
}
