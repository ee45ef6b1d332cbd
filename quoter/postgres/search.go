package postgres

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/quotesd/quotesd/quoter"
)

// Limits on search queries, so one request cannot make the database work
// hard; the same as the SQLite store's.
const (
	maxQueryLen   = 1000 // bytes
	maxQueryWords = 16
)

// Full-text search works as in the SQLite store, whose FTS4 index uses the
// unicode61 tokenizer with diacritics removed: a token is a run of
// letters, digits and marks, compared without case or accents, and never
// stemmed. PostgreSQL's parsers and dictionaries would tokenize by the
// database's locale and stem by language, so the store builds both sides
// itself: each quote's document is a tsvector literal of its tokens
// (folded as unicode61 folds them) with their positions, and each query a
// tsquery literal. The parser is never involved, and any token of any
// script is found.
//
// The columns are told apart by weight (text D, source C, author B: see
// rankWeights) and by position: the author's tokens start after
// authorBase, the source's after sourceBase, so that no phrase spans two
// columns (a text of MaxTextLen bytes has fewer than 2100 tokens).
const (
	authorBase = 8000
	sourceBase = 12000
)

// Weights of the columns, as tsvector labels, and as ts_rank's weight
// array {D, C, B, A}: an author hit (someone searching "Twain") ranks above
// the same word in a quote's text, the source in between, in the
// proportions of the SQLite store's columnWeights (1, 2, 1.5).
const (
	textLabel   = "D"
	sourceLabel = "C"
	authorLabel = "B"
	rankWeights = "{0.5, 0.75, 1.0, 1.0}"
)

// fold turns text into the tokens unicode61 with remove_diacritics would
// index: split at every rune that is not a letter, digit or mark, lower
// case, without combining marks.
func fold(s string) []string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	return strings.FieldsFunc(strings.ToLower(folded), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
}

// lexeme quotes a token for a tsvector or tsquery literal.
func lexeme(tok string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(tok, `\`, `\\`), "'", "''") + "'"
}

// searchDoc is the tsvector literal of q's text, author and source.
func searchDoc(q *quoter.Quote) string {
	var b strings.Builder
	col := func(s string, base int, label string) {
		for i, tok := range fold(s) {
			pos := min(base+i+1, 16383) // PostgreSQL's highest position
			fmt.Fprintf(&b, "%s:%d%s ", lexeme(tok), pos, label)
		}
	}
	col(q.Text, 0, textLabel)
	col(q.Author, authorBase, authorLabel)
	col(q.Source, sourceBase, sourceLabel)
	return b.String()
}

// tsQueries turns what a person typed into tsquery literals, one per word
// (its tokens as a phrase, the last a prefix when the word ends in '*'),
// which Search ANDs. User input never reaches tsquery syntax: every token
// is a quoted lexeme, so operators and punctuation are plain words or
// dropped.
func tsQueries(query string) ([]string, error) {
	if len(query) > maxQueryLen {
		return nil, quoter.Errorf(quoter.EINVALID, "search query is over %d bytes", maxQueryLen)
	}
	var phrases []string
	for _, word := range strings.Fields(query) {
		prefix := strings.HasSuffix(word, "*")
		tokens := fold(word)
		if len(tokens) == 0 {
			continue
		}
		for i, t := range tokens {
			tokens[i] = lexeme(t)
		}
		if prefix {
			tokens[len(tokens)-1] += ":*"
		}
		phrases = append(phrases, strings.Join(tokens, " <-> "))
	}
	switch {
	case len(phrases) == 0:
		return nil, quoter.Errorf(quoter.EINVALID, "search query has no words to look for")
	case len(phrases) > maxQueryWords:
		return nil, quoter.Errorf(quoter.EINVALID, "search query has %d words, over the limit of %d", len(phrases), maxQueryWords)
	}
	return phrases, nil
}

// Search returns the quotes whose text, author or source contain every
// word of query, best matches first, and how many match in all.
//
// The ranking follows the SQLite store's (FTS4's documented ranking: for
// each word, its hits in a row relative to its hits in the library, with
// column weights): each word's ts_rank in the row, weighted by column, is
// divided by the number of quotes that hold the word, so that a rare word
// found counts for more than a common one. The matches come from the GIN
// index on the documents. Only public collections are searched. Errors:
// EINVALID for a query with no words or too many.
func (db *DB) Search(ctx context.Context, query string, p quoter.Page) ([]*quoter.Quote, int, error) {
	return db.SearchIn(ctx, query, quoter.Filter{}, p)
}

// SearchIn is Search among the quotes that pass f: the collections it
// names (the public ones when it names none), and its other fields.
// Errors: those of Search; EINVALID or ENOTFOUND for f as for List.
func (db *DB) SearchIn(ctx context.Context, query string, f quoter.Filter, p quoter.Page) ([]*quoter.Quote, int, error) {
	limit, offset, err := page(p)
	if err != nil {
		return nil, 0, err
	}
	words, err := tsQueries(query)
	if err != nil {
		return nil, 0, err
	}
	if err := checkFilter(f); err != nil {
		return nil, 0, err
	}
	all := "(" + strings.Join(words, ") & (") + ")"
	st, err := db.state(ctx)
	if err != nil {
		return nil, 0, err
	}
	scope, err := db.scope(ctx, st, f)
	if err != nil {
		return nil, 0, err
	}
	cond, args := filterArgs(f, scope, all, words, limit, offset)
	// w is MATERIALIZED: referenced once, PostgreSQL would otherwise
	// inline it into the ranking subquery and count each word's quotes
	// again for every match (at 1k quotes, 36 matches of two prefixes
	// took 288 ms instead of 2.5 ms).
	rows, err := db.pool.Query(ctx, `WITH w AS MATERIALIZED (
			SELECT t::tsquery AS t, (SELECT count(*) FROM quotes WHERE search @@ t::tsquery) AS n
			FROM unnest($2::text[]) AS t
		)
		SELECT `+quoteCols+`, count(*) OVER () FROM quotes q
		WHERE q.search @@ $1::tsquery AND `+cond+`
		ORDER BY (SELECT sum(ts_rank('`+rankWeights+`', q.search, w.t) / greatest(w.n, 1)) FROM w) DESC, q.id
		LIMIT $3 OFFSET $4`, args...)
	if err != nil {
		return nil, 0, quoter.Internal("search", err)
	}
	defer rows.Close()
	qs := []*quoter.Quote{}
	total := 0
	for rows.Next() {
		q, err := scanQuote(rows, &total)
		if err != nil {
			return nil, 0, quoter.Internal("search", err)
		}
		qs = append(qs, q)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, quoter.Internal("search", err)
	}
	if len(qs) == 0 && offset > 0 {
		// A page past the end has no row to carry the total.
		cond, args := filterArgs(f, scope, all)
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM quotes q WHERE q.search @@ $1::tsquery AND `+cond, args...).Scan(&total); err != nil {
			return nil, 0, quoter.Internal("count search results", err)
		}
	}
	return qs, total, nil
}
