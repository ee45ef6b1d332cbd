package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"strings"
	"unicode"

	"github.com/quotesd/quotesd/quoter"
)

// Limits on search queries, so one request cannot make SQLite work hard.
const (
	maxQueryLen   = 1000 // bytes
	maxQueryWords = 16
)

// Search returns the quotes whose text, author or source contain every
// word of query, best matches first, and how many match in all.
//
// User input never reaches FTS syntax: each word is split into the tokens
// the index holds (letters, digits and marks) and written as a quoted
// phrase, so quotes, stars, dashes, parentheses and the operators OR, AND,
// NOT and NEAR are searched for as plain words, or dropped when they are
// punctuation. A word ending in '*' matches as a prefix.
// Only public collections are searched.
// Errors: EINVALID for a query with no words or too many.
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
	match, err := ftsQuery(query)
	if err != nil {
		return nil, 0, err
	}
	if err := checkFilter(f); err != nil {
		return nil, 0, err
	}
	st, err := db.state(ctx)
	if err != nil {
		return nil, 0, err
	}
	scope, err := db.scope(ctx, st, f)
	if err != nil {
		return nil, 0, err
	}
	cond, args := where(f, scope)
	// The matches are ranked and counted (the window count is taken
	// before LIMIT applies) from the index alone, and only the page's
	// quotes are read: at a million quotes a prefix matches hundreds,
	// each on a page of its own. A filter or a collection left out needs
	// each match's row; with neither, every indexed docid is a quote (the
	// triggers and Import keep the index in step in the same
	// transactions).
	matches := `SELECT docid, quotesd_rank(matchinfo(quotes_fts, 'pcx')) AS score
		FROM quotes_fts WHERE quotes_fts MATCH ?`
	if cond != condSQL[0] {
		matches = `SELECT m.docid, m.score FROM (` + matches + `) m
			JOIN quotes q ON q.id = m.docid WHERE ` + cond
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+db.sql.cols+`, top.total FROM (
			SELECT docid, score, count(*) OVER () AS total FROM (`+matches+`)
			ORDER BY score DESC, docid LIMIT ? OFFSET ?
		) top JOIN quotes q ON q.id = top.docid
		ORDER BY top.score DESC, q.id`, append(append([]any{match}, args...), limit, offset)...)
	if err != nil {
		return nil, 0, quoter.Internal("search", err)
	}
	defer rows.Close()
	qs := []*quoter.Quote{}
	total := 0
	for rows.Next() {
		var q *quoter.Quote
		if q, err = scanQuote(rowWithTotal{rows, &total}); err != nil {
			return nil, 0, quoter.Internal("search", err)
		}
		qs = append(qs, q)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, quoter.Internal("search", err)
	}
	if len(qs) == 0 && offset > 0 {
		// A page past the end has no row to carry the total.
		if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM quotes q
			WHERE q.id IN (SELECT docid FROM quotes_fts WHERE quotes_fts MATCH ?) AND `+cond, append([]any{match}, args...)...).Scan(&total); err != nil {
			return nil, 0, quoter.Internal("count search results", err)
		}
	}
	return qs, total, nil
}

// rowWithTotal scans a quote followed by one more column, the total.
type rowWithTotal struct {
	s     scanner
	total *int
}

func (r rowWithTotal) Scan(dest ...any) error { return r.s.Scan(append(dest, r.total)...) }

// ftsQuery turns what a person typed into an FTS4 MATCH expression that
// ANDs their words, each as a quoted phrase.
func ftsQuery(query string) (string, error) {
	if len(query) > maxQueryLen {
		return "", quoter.Errorf(quoter.EINVALID, "search query is over %d bytes", maxQueryLen)
	}
	var phrases []string
	for _, word := range strings.Fields(query) {
		prefix := strings.HasSuffix(word, "*")
		tokens := strings.FieldsFunc(word, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
		})
		if len(tokens) == 0 {
			continue
		}
		phrase := `"` + strings.Join(tokens, " ")
		if prefix {
			phrase += "*"
		}
		phrases = append(phrases, phrase+`"`)
	}
	switch {
	case len(phrases) == 0:
		return "", quoter.Errorf(quoter.EINVALID, "search query has no words to look for")
	case len(phrases) > maxQueryWords:
		return "", quoter.Errorf(quoter.EINVALID, "search query has %d words, over the limit of %d", len(phrases), maxQueryWords)
	}
	return strings.Join(phrases, " "), nil
}

// columnWeights rank a match in the author (someone searching "Twain")
// above the same word in a quote's text, and the source in between.
var columnWeights = [...]float64{1, 2, 1.5} // text, author, source

// matchRank scores one row from FTS4's matchinfo(…, 'pcx'): for each phrase
// and column, the hits in this row relative to the hits in all rows, so a
// rare word found counts for more than a common one, summed with column
// weights. It is the ranking function from the SQLite FTS3/4
// documentation, registered as quotesd_rank on every connection.
func matchRank(info []byte) float64 {
	if len(info) < 8 {
		return 0
	}
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(info[4*i:]) }
	phrases, cols := int(u(0)), int(u(1))
	if len(info) < 4*(2+3*phrases*cols) {
		return 0
	}
	var score float64
	for p := range phrases {
		for c := range cols {
			x := 2 + 3*(p*cols+c)
			here, all := u(x), u(x+1)
			if here > 0 && all > 0 {
				w := 1.0
				if c < len(columnWeights) {
					w = columnWeights[c]
				}
				score += w * float64(here) / float64(all)
			}
		}
	}
	return score
}

// mergeSearchIndex merges the search index's segments after an import of
// added quotes, so that a search reads each word's list of quotes from a
// few segments instead of dozens.
//
// FTS4 writes what one statement indexes as segments of about a megabyte
// and merges them only sixteen at a time, so a large import leaves tens
// of segments, and every word searched is then looked up in each: at a
// million quotes, 25 segments made a two-word search cost twice the CPU
// time of one segment. FTS4's 'merge=X,Y' command does up to X pages of
// merging among levels of at least Y segments, resuming a merge where the
// last call left it; it is done when it changes fewer than two rows (see
// "Incremental Merge" in the FTS3/4 documentation). The work is bounded by
// the size of the import, at most some 25 times what the new quotes add
// to the index, so that importing a few quotes never rewrites the index
// of a large library at once; over imports, the merging keeps up (the 1M
// benchmark library, 20 imports, ends with 3 segments; building it took
// 8% more CPU time).
func mergeSearchIndex(ctx context.Context, tx *sql.Tx, added int) error {
	const quotesPerStep = 100 // about 10 KiB of index; a step merges up to 64 pages (256 KiB)
	for range 1 + added/quotesPerStep {
		var before, after int64
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			return quoter.Internal("merge the search index", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO quotes_fts (quotes_fts) VALUES ('merge=64,2')`); err != nil {
			return quoter.Internal("merge the search index", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			return quoter.Internal("merge the search index", err)
		}
		if after-before < 2 {
			return nil
		}
	}
	return nil
}
