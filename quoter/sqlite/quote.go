package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"quotesd/quoter"
)

// quoteCols are the columns scanQuote reads, for a quotes table aliased q.
// Tags come as one space-separated string (a tag never holds a space): the
// tag_list column since schema version 3, collected from tags before it
// (read-only opens read older libraries as they are).
func quoteCols(version int) string {
	tags := `q.tag_list`
	if version < 3 {
		tags = `coalesce((SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.quote_id = q.id), '')`
	}
	return `q.id, q.text, q.author, q.source, q.year, q.lang, q.added, ` + tags
}

// timeLayout stores times in UTC at a fixed width, so they sort as text.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type scanner interface{ Scan(dest ...any) error }

func scanQuote(s scanner) (*quoter.Quote, error) {
	var q quoter.Quote
	var added, tags string
	if err := s.Scan(&q.ID, &q.Text, &q.Author, &q.Source, &q.Year, &q.Lang, &added, &tags); err != nil {
		return nil, err
	}
	q.Added, _ = time.Parse(timeLayout, added)
	q.Tags = splitTags(tags)
	return &q, nil
}

func splitTags(s string) []string {
	if s == "" {
		return []string{}
	}
	tags := strings.Split(s, " ")
	slices.Sort(tags)
	return tags
}

// filterConds are the SQL conditions, over quotes q, for the fields of a
// Filter, in the order filterArgs binds them. They are the only definition
// of what passing a filter means in SQL, used by counts, listings and the
// checks in Today and Random alike, so these can never disagree.
var filterConds = [...]string{
	"q.rendered_len >= ?",
	"q.rendered_len <= ?",
	"q.author = ? COLLATE NOCASE",
	"q.lang = ? COLLATE NOCASE",
	"EXISTS (SELECT 1 FROM tags t WHERE t.quote_id = q.id AND t.tag = ?)",
}

// condSQL[mask] is the conjunction of the filterConds whose bits are set in
// mask, built once so that the hot paths concatenate no SQL.
var condSQL = func() (c [1 << len(filterConds)]string) {
	for mask := range c {
		var conds []string
		for i, cond := range filterConds {
			if mask&(1<<i) != 0 {
				conds = append(conds, cond)
			}
		}
		c[mask] = "1"
		if len(conds) > 0 {
			c[mask] = strings.Join(conds, " AND ")
		}
	}
	return c
}()

// filterArgs returns which filterConds apply to f, as a bit mask, and the
// arguments they bind, after lead.
func filterArgs(f quoter.Filter, lead ...any) (mask int, args []any) {
	args = lead
	if f.MinLen > 0 {
		mask |= 1 << 0
		args = append(args, f.MinLen)
	}
	if f.MaxLen > 0 {
		mask |= 1 << 1
		args = append(args, f.MaxLen)
	}
	if f.Author != "" {
		mask |= 1 << 2
		args = append(args, f.Author)
	}
	if f.Lang != "" {
		mask |= 1 << 3
		args = append(args, f.Lang)
	}
	if f.Tag != "" {
		mask |= 1 << 4
		args = append(args, strings.ToLower(f.Tag))
	}
	return mask, args
}

// where is the SQL condition and arguments for f.
func where(f quoter.Filter) (string, []any) {
	mask, args := filterArgs(f)
	return condSQL[mask], args
}

// checkFilter rejects filters no quote could sensibly pass.
func checkFilter(f quoter.Filter) error {
	if f.MinLen < 0 || f.MaxLen < 0 {
		return quoter.Errorf(quoter.EINVALID, "length bounds must not be negative (min %d, max %d)", f.MinLen, f.MaxLen)
	}
	return nil
}

// Quote returns the quote with the given id. Errors: ENOTFOUND.
func (db *DB) Quote(ctx context.Context, id int64) (*quoter.Quote, error) {
	q, err := db.byID(ctx, id)
	if err == nil && q == nil {
		return nil, quoter.Errorf(quoter.ENOTFOUND, "no quote with id %d", id)
	}
	return q, err
}

// sortColumns maps Page.Sort to ORDER BY keys; id breaks ties so pages are
// stable.
var sortColumns = map[string]string{
	"":                "q.id",
	quoter.SortID:     "q.id",
	quoter.SortAdded:  "q.added %[1]s, q.id",
	quoter.SortAuthor: "q.author COLLATE NOCASE %[1]s, q.id",
	quoter.SortLength: "q.rendered_len %[1]s, q.id",
}

// page checks p and returns its limit and offset.
func page(p quoter.Page) (limit, offset int, err error) {
	if p.Offset < 0 || p.Limit < 0 {
		return 0, 0, quoter.Errorf(quoter.EINVALID, "offset and limit must not be negative (offset %d, limit %d)", p.Offset, p.Limit)
	}
	limit = p.Limit
	if limit == 0 {
		limit = quoter.DefaultLimit
	}
	return min(limit, quoter.MaxLimit), p.Offset, nil
}

// List returns the quotes that pass f in the order p asks, and how many
// pass f in all. Errors: EINVALID for a bad page or filter.
func (db *DB) List(ctx context.Context, f quoter.Filter, p quoter.Page) ([]*quoter.Quote, int, error) {
	limit, offset, err := page(p)
	if err != nil {
		return nil, 0, err
	}
	if err := checkFilter(f); err != nil {
		return nil, 0, err
	}
	order, ok := sortColumns[p.Sort]
	if !ok {
		return nil, 0, quoter.Errorf(quoter.EINVALID, "unknown sort key %q: want id, added, author or length", p.Sort)
	}
	dir := "ASC"
	if p.Desc {
		dir = "DESC"
	}
	if strings.Contains(order, "%[1]s") {
		order = fmt.Sprintf(order, dir)
	}
	order += " " + dir
	total, err := db.count(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	cond, args := where(f)
	if f.Tag != "" && p.Sort != "" && p.Sort != quoter.SortID {
		// Scanning quotes in the sort order and checking the tag of
		// each is fast while the tag is common, and scans almost the
		// whole library for a rare tag whose quotes sort last. So a rare
		// tag drives the query from its own list, sorted afterwards:
		// cost in proportion to the quotes that carry it.
		if n, err := db.count(ctx, quoter.Filter{}); err == nil && 16*total <= n {
			cond = strings.Replace(cond, filterConds[4], `q.id IN (SELECT quote_id FROM tags WHERE tag = ?)`, 1)
		}
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+db.sql.cols+` FROM quotes q WHERE `+cond+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, quoter.Internal("list quotes", err)
	}
	qs, err := scanQuotes(rows)
	if err != nil {
		return nil, 0, quoter.Internal("list quotes", err)
	}
	return qs, total, nil
}

func scanQuotes(rows *sql.Rows) ([]*quoter.Quote, error) {
	defer rows.Close()
	qs := []*quoter.Quote{}
	for rows.Next() {
		q, err := scanQuote(rows)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, rows.Err()
}

// maxCachedCounts bounds the listings of authors and tags kept in memory:
// a library with more distinct names is asked each time instead.
const maxCachedCounts = 20_000

// Authors returns authors with their quote counts, most quoted first, then
// by name. Names that differ only in ASCII case count as one author. The
// full listing is counted once per library generation (it is a pass over
// the whole library) unless there are over maxCachedCounts authors.
func (db *DB) Authors(ctx context.Context, p quoter.Page) ([]quoter.Count, int, error) {
	limit, offset, err := page(p)
	if err != nil {
		return nil, 0, err
	}
	st, err := db.state(ctx)
	if err != nil {
		return nil, 0, err
	}
	stats, err := db.Stats(ctx)
	if err != nil {
		return nil, 0, err
	}
	const byCount = `SELECT min(author), count(*) AS n FROM quotes
		GROUP BY author COLLATE NOCASE ORDER BY n DESC, author COLLATE NOCASE`
	if stats.Authors > maxCachedCounts {
		cs, err := db.counts(ctx, byCount+` LIMIT ? OFFSET ?`, limit, offset)
		if err != nil {
			return nil, 0, quoter.Internal("list authors", err)
		}
		return cs, stats.Authors, nil
	}
	all, ok := db.cache.countList(st.gen, "authors")
	if !ok {
		if all, err = db.counts(ctx, byCount); err != nil {
			return nil, 0, quoter.Internal("list authors", err)
		}
		db.cache.setCountList(st.gen, "authors", all)
	}
	lo, hi := min(offset, len(all)), min(offset+limit, len(all))
	return slices.Clone(all[lo:hi]), stats.Authors, nil
}

// Tags returns every tag with its quote count, most used first. The
// listing is counted once per library generation.
func (db *DB) Tags(ctx context.Context) ([]quoter.Count, error) {
	st, err := db.state(ctx)
	if err != nil {
		return nil, err
	}
	if all, ok := db.cache.countList(st.gen, "tags"); ok {
		return slices.Clone(all), nil
	}
	all, err := db.counts(ctx, `SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY n DESC, tag`)
	if err != nil {
		return nil, quoter.Internal("list tags", err)
	}
	if len(all) <= maxCachedCounts {
		db.cache.setCountList(st.gen, "tags", all)
	}
	return slices.Clone(all), nil
}

// counts runs a query of (name, count) rows.
func (db *DB) counts(ctx context.Context, query string, args ...any) ([]quoter.Count, error) {
	rows, err := db.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanCounts(rows)
}

func scanCounts(rows *sql.Rows) ([]quoter.Count, error) {
	defer rows.Close()
	cs := []quoter.Count{}
	for rows.Next() {
		var c quoter.Count
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// Stats counts quotes, authors and tags. The counts are kept until the
// library changes.
func (db *DB) Stats(ctx context.Context) (quoter.Stats, error) {
	st, err := db.state(ctx)
	if err != nil {
		return quoter.Stats{}, err
	}
	if s, ok := db.cache.stats(st.gen); ok {
		return s, nil
	}
	s := quoter.Stats{Quotes: st.n}
	err = db.rdb.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM quotes GROUP BY author COLLATE NOCASE)),
		(SELECT count(DISTINCT tag) FROM tags)`).Scan(&s.Authors, &s.Tags)
	if err != nil {
		return quoter.Stats{}, quoter.Internal("count authors and tags", err)
	}
	db.cache.setStats(st.gen, s)
	return s, nil
}

// errReadOnly is returned by writes to a library opened ReadOnly.
func (db *DB) errReadOnly() error {
	return quoter.Errorf(quoter.EINVALID, "the library %s is open read-only", db.path)
}

// prepare normalizes and validates q for storage and sorts its tags, the
// order in which they are read back.
func prepare(q *quoter.Quote) error {
	quoter.Normalize(q)
	if err := q.Validate(); err != nil {
		return err
	}
	slices.Sort(q.Tags)
	return nil
}

// write runs fn in a write transaction, bumps the generation counter in the
// same transaction (so other processes notice the change) and commits.
func (db *DB) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if db.wdb == nil {
		return db.errReadOnly()
	}
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return quoter.Internal(what+": begin", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'generation'`); err != nil {
		return quoter.Internal(what+": bump generation", err)
	}
	if err := tx.Commit(); err != nil {
		return quoter.Internal(what+": commit", err)
	}
	db.cache.invalidate()
	return nil
}

// Add validates and stores q, setting q.ID and q.Added.
// Errors: EINVALID; ECONFLICT when the same text is already stored.
func (db *DB) Add(ctx context.Context, q *quoter.Quote) error {
	if db.wdb == nil {
		return db.errReadOnly()
	}
	if err := prepare(q); err != nil {
		return err
	}
	q.Added = db.now().UTC().Truncate(time.Millisecond)
	return db.write(ctx, "add quote", func(tx *sql.Tx) error {
		fp := quoter.Fingerprint(q.Text)
		if err := conflict(ctx, tx, fp[:], 0); err != nil {
			return err
		}
		n, err := nextRank(ctx, tx)
		if err != nil {
			return err
		}
		id, err := insertQuote(ctx, tx, q, fp[:], n)
		if err != nil {
			return err
		}
		q.ID = id
		return insertTags(ctx, tx, id, q.Tags)
	})
}

// conflict returns ECONFLICT when a quote other than id has fingerprint fp.
func conflict(ctx context.Context, tx *sql.Tx, fp []byte, id int64) error {
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM quotes WHERE fingerprint = ? AND id != ?`, fp, id).Scan(&other)
	switch {
	case err == nil:
		return quoter.Errorf(quoter.ECONFLICT, "the same quote is already stored as #%d", other)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	default:
		return quoter.Internal("look for duplicates", err)
	}
}

// nextRank is the rank a new quote takes: the number of quotes, since ranks
// are dense. max(rank) is one step down the rank index.
func nextRank(ctx context.Context, tx *sql.Tx) (int64, error) {
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(rank) + 1, 0) FROM quotes`).Scan(&n); err != nil {
		return 0, quoter.Internal("count quotes", err)
	}
	return n, nil
}

const insertQuoteSQL = `INSERT INTO quotes (text, author, source, year, lang, added, rendered_len, fingerprint, rank, tag_list)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insertQuote(ctx context.Context, tx *sql.Tx, q *quoter.Quote, fp []byte, rank int64) (int64, error) {
	res, err := tx.ExecContext(ctx, insertQuoteSQL, q.Text, q.Author, q.Source, q.Year, q.Lang,
		formatTime(q.Added), q.Len(), fp, rank, strings.Join(q.Tags, " "))
	if err != nil {
		return 0, mapWriteError("store quote", err)
	}
	return res.LastInsertId()
}

func insertTags(ctx context.Context, tx *sql.Tx, id int64, tags []string) error {
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tags (quote_id, tag) VALUES (?, ?)`, id, t); err != nil {
			return quoter.Internal("store tags", err)
		}
	}
	return nil
}

// mapWriteError turns a unique violation into ECONFLICT.
func mapWriteError(what string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		return quoter.Errorf(quoter.ECONFLICT, "the same quote is already stored")
	}
	return quoter.Internal(what, err)
}

// Update applies u to the quote with the given id and returns the result.
// Errors: ENOTFOUND, EINVALID, ECONFLICT.
func (db *DB) Update(ctx context.Context, id int64, u quoter.Update) (*quoter.Quote, error) {
	if db.wdb == nil {
		return nil, db.errReadOnly()
	}
	var q *quoter.Quote
	err := db.write(ctx, "update quote", func(tx *sql.Tx) error {
		var err error
		q, err = scanQuote(tx.QueryRowContext(ctx, `SELECT `+db.sql.cols+` FROM quotes q WHERE q.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return quoter.Errorf(quoter.ENOTFOUND, "no quote with id %d", id)
		} else if err != nil {
			return quoter.Internal(fmt.Sprintf("read quote %d", id), err)
		}
		apply(q, u)
		if err := prepare(q); err != nil {
			return err
		}
		fp := quoter.Fingerprint(q.Text)
		if err := conflict(ctx, tx, fp[:], id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE quotes SET text = ?, author = ?, source = ?, year = ?, lang = ?,
			rendered_len = ?, fingerprint = ?, tag_list = ? WHERE id = ?`,
			q.Text, q.Author, q.Source, q.Year, q.Lang, q.Len(), fp[:], strings.Join(q.Tags, " "), id); err != nil {
			return mapWriteError(fmt.Sprintf("update quote %d", id), err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE quote_id = ?`, id); err != nil {
			return quoter.Internal("replace tags", err)
		}
		return insertTags(ctx, tx, id, q.Tags)
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

func apply(q *quoter.Quote, u quoter.Update) {
	if u.Text != nil {
		q.Text = *u.Text
	}
	if u.Author != nil {
		q.Author = *u.Author
	}
	if u.Source != nil {
		q.Source = *u.Source
	}
	if u.Year != nil {
		q.Year = *u.Year
	}
	if u.Tags != nil {
		q.Tags = slices.Clone(*u.Tags)
	}
	if u.Lang != nil {
		q.Lang = *u.Lang
	}
}

// Delete removes the quote with the given id. To keep ranks dense, the
// quote with the highest rank moves into the freed rank in the same
// transaction (swap-remove). Errors: ENOTFOUND.
func (db *DB) Delete(ctx context.Context, id int64) error {
	return db.write(ctx, "delete quote", func(tx *sql.Tx) error {
		return deleteQuote(ctx, tx, id)
	})
}

func deleteQuote(ctx context.Context, tx *sql.Tx, id int64) error {
	var rank int64
	err := tx.QueryRowContext(ctx, `SELECT rank FROM quotes WHERE id = ?`, id).Scan(&rank)
	if errors.Is(err, sql.ErrNoRows) {
		return quoter.Errorf(quoter.ENOTFOUND, "no quote with id %d", id)
	} else if err != nil {
		return quoter.Internal(fmt.Sprintf("read quote %d", id), err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM quotes WHERE id = ?`, id); err != nil {
		return quoter.Internal(fmt.Sprintf("delete quote %d", id), err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE quotes SET rank = ?
		WHERE rank = (SELECT max(rank) FROM quotes) AND rank > ?`, rank, rank); err != nil {
		return quoter.Internal("move last quote into the freed rank", err)
	}
	return nil
}

// Import stores qs in one transaction, skipping duplicates of stored quotes
// and of earlier records. Every record is validated before anything is
// written, so an invalid one fails the import with EINVALID "record N: ..."
// and adds nothing. progress, when not nil, is called every 1000 records
// and at the end.
func (db *DB) Import(ctx context.Context, qs []quoter.Quote, progress func(done int)) (quoter.ImportResult, error) {
	var res quoter.ImportResult
	if db.wdb == nil {
		return res, db.errReadOnly()
	}
	now := db.now().UTC().Truncate(time.Millisecond)
	prepared := make([]quoter.Quote, len(qs))
	for i := range qs {
		q := qs[i]
		q.Tags = slices.Clone(q.Tags)
		if err := prepare(&q); err != nil {
			return res, quoter.Errorf(quoter.EINVALID, "record %d: %s", i+1, quoter.ErrorMessage(err))
		}
		if q.Added.IsZero() {
			q.Added = now
		}
		q.Added = q.Added.UTC().Truncate(time.Millisecond)
		prepared[i] = q
	}
	err := db.write(ctx, "import", func(tx *sql.Tx) error {
		res = quoter.ImportResult{}
		rank, err := nextRank(ctx, tx)
		if err != nil {
			return err
		}
		// New rows get ids above the highest now stored (ids are rowids,
		// allocated as max+1), which is how the new rows are indexed for
		// search at the end in one statement, instead of row by row by the
		// insert trigger (see migration/002_bulk_fts.sql).
		var lastID int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM quotes`).Scan(&lastID); err != nil {
			return quoter.Internal("import: read last id", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('fts_bulk', 1)`); err != nil {
			return quoter.Internal("import: defer indexing", err)
		}
		// INSERT OR IGNORE skips a quote whose fingerprint is stored
		// already; the rank is unique too, but always free here.
		ins, err := tx.PrepareContext(ctx, strings.Replace(insertQuoteSQL, "INSERT", "INSERT OR IGNORE", 1))
		if err != nil {
			return quoter.Internal("import: prepare", err)
		}
		defer ins.Close()
		tag, err := tx.PrepareContext(ctx, `INSERT INTO tags (quote_id, tag) VALUES (?, ?)`)
		if err != nil {
			return quoter.Internal("import: prepare", err)
		}
		defer tag.Close()
		for i := range prepared {
			q := &prepared[i]
			if i%1000 == 0 {
				if err := ctx.Err(); err != nil {
					return quoter.Internal("import cancelled", err)
				}
				if progress != nil && i > 0 {
					progress(i)
				}
			}
			fp := quoter.Fingerprint(q.Text)
			r, err := ins.ExecContext(ctx, q.Text, q.Author, q.Source, q.Year, q.Lang,
				formatTime(q.Added), q.Len(), fp[:], rank, strings.Join(q.Tags, " "))
			if err != nil {
				return quoter.Internal(fmt.Sprintf("import: store record %d", i+1), err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				res.Skipped++
				continue
			}
			id, err := r.LastInsertId()
			if err != nil {
				return quoter.Internal("import: read new id", err)
			}
			for _, t := range q.Tags {
				if _, err := tag.ExecContext(ctx, id, t); err != nil {
					return quoter.Internal(fmt.Sprintf("import: store tags of record %d", i+1), err)
				}
			}
			rank++
			res.Added++
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'fts_bulk'`); err != nil {
			return quoter.Internal("import: end deferred indexing", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO quotes_fts (docid, text, author, source)
			SELECT id, text, author, source FROM quotes WHERE id > ?`, lastID); err != nil {
			return quoter.Internal("import: index new quotes for search", err)
		}
		return nil
	})
	if err != nil {
		return quoter.ImportResult{}, err
	}
	if progress != nil {
		progress(len(qs))
	}
	return res, nil
}

// All yields every quote in id order, streaming from one query, for
// exports and for checks of a whole library (paging with List would cost
// time quadratic in the library size). It is not part of quoter.Quoter:
// frontends page. An error ends the sequence, yielded with a nil quote.
func (db *DB) All(ctx context.Context) iter.Seq2[*quoter.Quote, error] {
	return func(yield func(*quoter.Quote, error) bool) {
		rows, err := db.rdb.QueryContext(ctx, `SELECT `+db.sql.cols+` FROM quotes q ORDER BY q.id`)
		if err != nil {
			yield(nil, quoter.Internal("read all quotes", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			q, err := scanQuote(rows)
			if err != nil {
				yield(nil, quoter.Internal("read all quotes", err))
				return
			}
			if !yield(q, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, quoter.Internal("read all quotes", err))
		}
	}
}
