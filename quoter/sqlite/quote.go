package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/quotesd/quotesd/quoter"
)

// quoteCols are the columns scanQuote reads, for a quotes table aliased q.
// Tags come as one space-separated string (a tag never holds a space): the
// tag_list column since schema version 3, collected from tags before it
// (read-only opens read older libraries as they are); modified exists
// since version 4.
func quoteCols(version int) string {
	tags := `q.tag_list`
	if version < 3 {
		tags = `coalesce((SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.quote_id = q.id), '')`
	}
	modified := `q.modified`
	if version < 4 {
		modified = `NULL`
	}
	curation := `q.collection, q.added_by, q.edited_by`
	if version < 5 {
		curation = `'` + quoter.DefaultCollection + `', '', ''`
	}
	return `q.id, q.text, q.author, q.source, q.year, q.lang, q.added, ` + tags + `, ` + modified + `, ` + curation
}

// removedCols are the columns scanQuote reads from removed_quotes r.
func removedCols(version int) string {
	curation := `r.collection, r.added_by, r.edited_by`
	if version < 5 {
		curation = `'` + quoter.DefaultCollection + `', '', ''`
	}
	return `r.id, r.text, r.author, r.source, r.year, r.lang, r.added, r.tag_list, r.modified, ` + curation
}

// timeLayout stores times in UTC at a fixed width, so they sort as text.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type scanner interface{ Scan(dest ...any) error }

// scanQuote reads the columns of quoteCols, then any extra ones.
func scanQuote(s scanner, extra ...any) (*quoter.Quote, error) {
	var q quoter.Quote
	var added, tags, addedBy, editedBy string
	var modified sql.NullString
	dest := append([]any{&q.ID, &q.Text, &q.Author, &q.Source, &q.Year, &q.Lang, &added, &tags, &modified,
		&q.Collection, &addedBy, &editedBy}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	q.AddedBy, q.EditedBy = parseProvenance(addedBy), parseProvenance(editedBy)
	q.Added, _ = time.Parse(timeLayout, added)
	if modified.Valid {
		q.Modified, _ = time.Parse(timeLayout, modified.String)
	}
	q.Tags = splitTags(tags)
	return &q, nil
}

// provenanceJSON is how a Provenance is stored: JSON, or ” for the zero
// one.
func provenanceJSON(o quoter.Provenance) string {
	if o.IsZero() {
		return ""
	}
	b, _ := json.Marshal(o) // a struct of strings, an int and a time: cannot fail
	return string(b)
}

// parseProvenance reads what provenanceJSON wrote; what it cannot read
// (never written by quotesd) is no provenance.
func parseProvenance(s string) quoter.Provenance {
	var o quoter.Provenance
	if s != "" {
		json.Unmarshal([]byte(s), &o)
	}
	return o
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
	"q.collection IN (SELECT value FROM json_each(?))",
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
// arguments they bind, after lead. scope is the collections the quotes
// must be in, as a JSON array (see DB.scope); "" when any will do.
func filterArgs(f quoter.Filter, scope string, lead ...any) (mask int, args []any) {
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
	if scope != "" {
		mask |= 1 << 5
		args = append(args, scope)
	}
	return mask, args
}

// where is the SQL condition and arguments for f in scope.
func where(f quoter.Filter, scope string) (string, []any) {
	mask, args := filterArgs(f, scope)
	return condSQL[mask], args
}

// checkFilter rejects filters no quote could sensibly pass.
func checkFilter(f quoter.Filter) error {
	if f.MinLen < 0 || f.MaxLen < 0 {
		return quoter.Errorf(quoter.EINVALID, "length bounds must not be negative (min %d, max %d)", f.MinLen, f.MaxLen)
	}
	return nil
}

// Quote returns the quote with the given id. Errors: ENOTFOUND; EGONE for
// a quote removed from the library.
func (db *DB) Quote(ctx context.Context, id int64) (*quoter.Quote, error) {
	q, err := db.byID(ctx, id)
	if err == nil && q == nil {
		if db.schema < 4 {
			return nil, quoter.Errorf(quoter.ENOTFOUND, "no quote with id %d", id)
		}
		return nil, db.errNoQuote(ctx, db.rdb, id)
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
	st, err := db.state(ctx)
	if err != nil {
		return nil, 0, err
	}
	scope, err := db.scope(ctx, st, f)
	if err != nil {
		return nil, 0, err
	}
	cond, args := where(f, scope)
	if f.Tag != "" && p.Sort != "" && p.Sort != quoter.SortID {
		// Scanning quotes in the sort order and checking the tag of
		// each is fast while the tag is common, and scans almost the
		// whole library for a rare tag whose quotes sort last. So a rare
		// tag drives the query from its own list, sorted afterwards:
		// cost in proportion to the quotes that carry it.
		if 16*total <= st.n {
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
	cond, args, err := db.publicWhere(ctx, st)
	if err != nil {
		return nil, 0, err
	}
	byCount := `SELECT min(author), count(*) AS n FROM quotes q WHERE ` + cond + `
		GROUP BY author COLLATE NOCASE ORDER BY n DESC, author COLLATE NOCASE`
	if stats.Authors > maxCachedCounts {
		cs, err := db.counts(ctx, byCount+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
		if err != nil {
			return nil, 0, quoter.Internal("list authors", err)
		}
		return cs, stats.Authors, nil
	}
	all, ok := db.cache.CountList(st.gen, "authors")
	if !ok {
		if all, err = db.counts(ctx, byCount, args...); err != nil {
			return nil, 0, quoter.Internal("list authors", err)
		}
		db.cache.SetCountList(st.gen, "authors", all)
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
	if all, ok := db.cache.CountList(st.gen, "tags"); ok {
		return slices.Clone(all), nil
	}
	cond, args, err := db.publicWhere(ctx, st)
	if err != nil {
		return nil, err
	}
	query := `SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY n DESC, tag`
	if cond != "1" {
		query = `SELECT t.tag, count(*) AS n FROM tags t JOIN quotes q ON q.id = t.quote_id WHERE ` + cond + `
			GROUP BY t.tag ORDER BY n DESC, t.tag`
	}
	all, err := db.counts(ctx, query, args...)
	if err != nil {
		return nil, quoter.Internal("list tags", err)
	}
	if len(all) <= maxCachedCounts {
		db.cache.SetCountList(st.gen, "tags", all)
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

// publicWhere is the SQL condition, over quotes q, and its arguments for
// the quotes of public collections: "1" while no private collection has
// quotes.
func (db *DB) publicWhere(ctx context.Context, st libState) (string, []any, error) {
	scope, err := db.scope(ctx, st, quoter.Filter{})
	if err != nil {
		return "", nil, err
	}
	cond, args := where(quoter.Filter{}, scope)
	return cond, args, nil
}

// Stats counts the quotes, authors and tags of the public collections.
// The counts are kept until the library changes.
func (db *DB) Stats(ctx context.Context) (quoter.Stats, error) {
	st, err := db.state(ctx)
	if err != nil {
		return quoter.Stats{}, err
	}
	if s, ok := db.cache.Stats(st.gen); ok {
		return s, nil
	}
	n, err := db.publicCount(ctx, st)
	if err != nil {
		return quoter.Stats{}, err
	}
	cond, args, err := db.publicWhere(ctx, st)
	if err != nil {
		return quoter.Stats{}, err
	}
	s := quoter.Stats{Quotes: n}
	tags := `SELECT count(DISTINCT tag) FROM tags`
	if cond != "1" {
		tags += ` t WHERE t.quote_id IN (SELECT q.id FROM quotes q WHERE ` + cond + `)`
		args = append(args, args...)
	}
	err = db.rdb.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM quotes q WHERE `+cond+` GROUP BY author COLLATE NOCASE)),
		(`+tags+`)`, args...).Scan(&s.Authors, &s.Tags)
	if err != nil {
		return quoter.Stats{}, quoter.Internal("count authors and tags", err)
	}
	db.cache.SetStats(st.gen, s)
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
	db.cache.Invalidate()
	return nil
}

// change is write for changes that touch the schedule: fn records what it
// does to the cycles in sched, whose new epochs start, in the same
// transaction, the day after the frontier of this instant.
func (db *DB) change(ctx context.Context, what string, fn func(tx *sql.Tx, sched *scheduleTx) error) error {
	frontier := quoter.Frontier(db.now())
	return db.write(ctx, what, func(tx *sql.Tx) error {
		sched, err := newScheduleTx(ctx, tx, frontier)
		if err != nil {
			return err
		}
		if err := fn(tx, sched); err != nil {
			return err
		}
		return sched.finish()
	})
}

// add adds quote q, just stored, to its cycles, creating its collection
// when the library has none of that name.
func (s *scheduleTx) add(q *quoter.Quote) error {
	keys, err := s.keys(q)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := s.insert(key, q.ID); err != nil {
			return err
		}
	}
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
	q.Modified, q.Removed = time.Time{}, false
	return db.change(ctx, "add quote", func(tx *sql.Tx, sched *scheduleTx) error {
		return db.insert(ctx, tx, sched, q)
	})
}

// insert stores q, prepared and stamped, as a new quote of the library and
// schedules it: Add and Approve.
func (db *DB) insert(ctx context.Context, tx *sql.Tx, sched *scheduleTx, q *quoter.Quote) error {
	fp := quoter.Fingerprint(q.Text)
	if err := conflict(ctx, tx, fp[:], 0); err != nil {
		return err
	}
	n, err := nextRank(ctx, tx)
	if err != nil {
		return err
	}
	id, err := nextID(ctx, tx)
	if err != nil {
		return err
	}
	q.ID = id
	if err := insertQuote(ctx, tx, q, fp[:], n); err != nil {
		return err
	}
	if err := insertTags(ctx, tx, id, q.Tags); err != nil {
		return err
	}
	return sched.add(q)
}

// nextID is the id a new quote takes: above every id the library ever
// gave, removed quotes included, so that an id names one quote for ever.
func nextID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT max(
		(SELECT coalesce(max(id), 0) FROM quotes),
		(SELECT coalesce(max(id), 0) FROM removed_quotes)) + 1`).Scan(&id); err != nil {
		return 0, quoter.Internal("allocate a quote id", err)
	}
	return id, nil
}

// conflict returns ECONFLICT when a quote other than id has fingerprint fp.
func conflict(ctx context.Context, tx *sql.Tx, fp []byte, id int64) error {
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM quotes WHERE fingerprint = ? AND id != ?`, fp, id).Scan(&other)
	switch {
	case err == nil:
		return quoter.Errorf(quoter.ECONFLICT, "the same quote is already quote #%d", other)
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

const insertQuoteSQL = `INSERT INTO quotes (id, text, author, source, year, lang, added, rendered_len, fingerprint, rank, tag_list,
	collection, added_by, edited_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertQuote stores q with its id.
func insertQuote(ctx context.Context, tx *sql.Tx, q *quoter.Quote, fp []byte, rank int64) error {
	_, err := tx.ExecContext(ctx, insertQuoteSQL, q.ID, q.Text, q.Author, q.Source, q.Year, q.Lang,
		formatTime(q.Added), q.Len(), fp, rank, strings.Join(q.Tags, " "), q.Collection, provenanceJSON(q.AddedBy), provenanceJSON(q.EditedBy))
	if err != nil {
		return mapWriteError("store quote", err)
	}
	return nil
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
	if err := u.By.Validate(); err != nil {
		return nil, err
	}
	var q *quoter.Quote
	now := db.now().UTC().Truncate(time.Millisecond)
	err := db.change(ctx, "update quote", func(tx *sql.Tx, sched *scheduleTx) error {
		var err error
		q, err = db.update(ctx, tx, sched, id, u, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// update applies u to quote id at time now and reschedules it: Update and
// Approve. u.By becomes the quote's EditedBy.
func (db *DB) update(ctx context.Context, tx *sql.Tx, sched *scheduleTx, id int64, u quoter.Update, now time.Time) (*quoter.Quote, error) {
	q, err := scanQuote(tx.QueryRowContext(ctx, `SELECT `+db.sql.cols+` FROM quotes q WHERE q.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, db.errNoQuote(ctx, tx, id)
	} else if err != nil {
		return nil, quoter.Internal(fmt.Sprintf("read quote %d", id), err)
	}
	before, err := sched.keys(q)
	if err != nil {
		return nil, err
	}
	apply(q, u)
	q.EditedBy = u.By
	if err := prepare(q); err != nil {
		return nil, err
	}
	fp := quoter.Fingerprint(q.Text)
	if err := conflict(ctx, tx, fp[:], id); err != nil {
		return nil, err
	}
	// A quote that changes tags, language or collection leaves the
	// cycles it no longer belongs to and joins the new ones (creating
	// its new collection when there is none); its text alone changes no
	// cycle. The cycles are changed before the row, so that ending
	// their epochs reads the library as it was.
	after, err := sched.keys(q)
	if err != nil {
		return nil, err
	}
	for _, key := range before {
		if !slices.Contains(after, key) {
			if err := sched.remove(key, id); err != nil {
				return nil, err
			}
		}
	}
	for _, key := range after {
		if !slices.Contains(before, key) {
			if err := sched.insert(key, id); err != nil {
				return nil, err
			}
		}
	}
	if !slices.Contains(after, libraryCycle) {
		// Pins belong to the library's cycle, of public quotes.
		if _, err := tx.ExecContext(ctx, `DELETE FROM pins WHERE quote_id = ? AND day > ?`, id, sched.frontier); err != nil {
			return nil, quoter.Internal(fmt.Sprintf("unpin quote %d", id), err)
		}
	}
	q.Modified = now
	if _, err := tx.ExecContext(ctx, `UPDATE quotes SET text = ?, author = ?, source = ?, year = ?, lang = ?,
		rendered_len = ?, fingerprint = ?, tag_list = ?, modified = ?, collection = ?, edited_by = ? WHERE id = ?`,
		q.Text, q.Author, q.Source, q.Year, q.Lang, q.Len(), fp[:], strings.Join(q.Tags, " "), formatTime(now),
		q.Collection, provenanceJSON(q.EditedBy), id); err != nil {
		return nil, mapWriteError(fmt.Sprintf("update quote %d", id), err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE quote_id = ?`, id); err != nil {
		return nil, quoter.Internal("replace tags", err)
	}
	if err := insertTags(ctx, tx, id, q.Tags); err != nil {
		return nil, err
	}
	return q, nil
}

// errNoQuote is the error for a quote id not in the library: EGONE when it
// was removed, ENOTFOUND when there never was one.
func (db *DB) errNoQuote(ctx context.Context, q querier, id int64) error {
	var purged bool
	err := q.QueryRowContext(ctx, `SELECT purged FROM removed_quotes WHERE id = ?`, id).Scan(&purged)
	switch {
	case err == nil:
		return quoter.Errorf(quoter.EGONE, "quote #%d was removed from the library", id)
	case errors.Is(err, sql.ErrNoRows):
		return quoter.Errorf(quoter.ENOTFOUND, "no quote with id %d", id)
	default:
		return quoter.Internal(fmt.Sprintf("read removed quote %d", id), err)
	}
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
	if u.Collection != nil {
		q.Collection = *u.Collection
	}
}

// Delete removes the quote with the given id from the library. The quote
// moves to removed_quotes, where the days it was the quote of the day find
// it, and leaves its cycles; its pins on days after the frontier go. To
// keep ranks dense, the quote with the highest rank moves into the freed
// rank in the same transaction (swap-remove). Errors: ENOTFOUND, or EGONE
// for a quote removed already.
func (db *DB) Delete(ctx context.Context, id int64) error {
	now := db.now()
	return db.change(ctx, "delete quote", func(tx *sql.Tx, sched *scheduleTx) error {
		return db.deleteQuote(ctx, tx, sched, id, now)
	})
}

func (db *DB) deleteQuote(ctx context.Context, tx *sql.Tx, sched *scheduleTx, id int64, now time.Time) error {
	var rank int64
	q, err := scanQuote(tx.QueryRowContext(ctx, `SELECT `+db.sql.cols+`, q.rank FROM quotes q WHERE q.id = ?`, id), &rank)
	if errors.Is(err, sql.ErrNoRows) {
		return db.errNoQuote(ctx, tx, id)
	} else if err != nil {
		return quoter.Internal(fmt.Sprintf("read quote %d", id), err)
	}
	// The schedule first: ending the epochs reads the library as it was.
	keys, err := sched.keys(q)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := sched.remove(key, id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM pins WHERE quote_id = ? AND day > ?`, id, sched.frontier); err != nil {
		return quoter.Internal(fmt.Sprintf("unpin quote %d", id), err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO removed_quotes (id, text, author, source, year, lang, added, modified, tag_list, removed,
			collection, added_by, edited_by)
		SELECT id, text, author, source, year, lang, added, modified, tag_list, ?, collection, added_by, edited_by FROM quotes WHERE id = ?`, formatTime(now), id); err != nil {
		return quoter.Internal(fmt.Sprintf("keep removed quote %d", id), err)
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

// Purge erases quote id for good, deleting it first when it is in the
// library. Errors: ENOTFOUND when there is no such quote or it is purged
// already.
func (db *DB) Purge(ctx context.Context, id int64) error {
	now := db.now()
	return db.change(ctx, "purge quote", func(tx *sql.Tx, sched *scheduleTx) error {
		err := db.deleteQuote(ctx, tx, sched, id, now)
		if err != nil && quoter.ErrorCode(err) != quoter.EGONE {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE removed_quotes SET text = '', author = '', source = '', year = 0,
			tag_list = '', added_by = '', edited_by = '', purged = 1 WHERE id = ? AND purged = 0`, id)
		if err != nil {
			return quoter.Internal(fmt.Sprintf("purge quote %d", id), err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return quoter.Errorf(quoter.ENOTFOUND, "quote %d is purged already", id)
		}
		return nil
	})
}

// Pin pins quote id to day. Errors: EINVALID for a day that has begun
// somewhere; ENOTFOUND (or EGONE) for a quote not in the library.
func (db *DB) Pin(ctx context.Context, day quoter.Date, id int64) error {
	if db.wdb == nil {
		return db.errReadOnly()
	}
	if err := db.checkFuture(day, "pin"); err != nil {
		return err
	}
	return db.change(ctx, "pin quote", func(tx *sql.Tx, sched *scheduleTx) error {
		var collection string
		err := tx.QueryRowContext(ctx, `SELECT collection FROM quotes WHERE id = ?`, id).Scan(&collection)
		if errors.Is(err, sql.ErrNoRows) {
			return db.errNoQuote(ctx, tx, id)
		} else if err != nil {
			return quoter.Internal(fmt.Sprintf("read quote %d", id), err)
		}
		if public, err := sched.public(collection); err != nil {
			return err
		} else if !public {
			return quoter.Errorf(quoter.EINVALID, "quote #%d is in the private collection %q: only public quotes are the quote of the day, and can be pinned", id, collection)
		}
		if _, err := sched.begin(libraryCycle); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pins (day, quote_id) VALUES (?, ?)
			ON CONFLICT (day) DO UPDATE SET quote_id = excluded.quote_id`, day.DayNumber(), id); err != nil {
			return quoter.Internal(fmt.Sprintf("pin quote %d to %s", id, day), err)
		}
		return nil
	})
}

// Unpin removes the pin of day. Errors: EINVALID for a day that has begun
// somewhere; ENOTFOUND when it has no pin.
func (db *DB) Unpin(ctx context.Context, day quoter.Date) error {
	if db.wdb == nil {
		return db.errReadOnly()
	}
	if err := db.checkFuture(day, "unpin"); err != nil {
		return err
	}
	return db.change(ctx, "unpin day", func(tx *sql.Tx, sched *scheduleTx) error {
		if _, err := sched.begin(libraryCycle); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM pins WHERE day = ?`, day.DayNumber())
		if err != nil {
			return quoter.Internal("unpin "+day.String(), err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return quoter.Errorf(quoter.ENOTFOUND, "%s has no pinned quote", day)
		}
		return nil
	})
}

// checkFuture refuses to change the schedule of a day that has begun.
func (db *DB) checkFuture(day quoter.Date, verb string) error {
	if f := quoter.Frontier(db.now()); !f.Before(day) {
		return quoter.Errorf(quoter.EINVALID, "cannot %s %s: that day has begun (it is %s somewhere on Earth), and a day's quote never changes once it has", verb, day, f)
	}
	return nil
}

// Pins lists the pins from day from onwards, soonest first, with their
// quotes.
func (db *DB) Pins(ctx context.Context, from quoter.Date) ([]quoter.Pinned, error) {
	if db.schema < 4 {
		return nil, nil // no pins before version 4
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT day, quote_id FROM pins WHERE day >= ? ORDER BY day`, from.DayNumber())
	if err != nil {
		return nil, quoter.Internal("list pins", err)
	}
	var ps []quoter.Pinned
	for rows.Next() {
		var day int64
		var p quoter.Pinned
		if err := rows.Scan(&day, &p.QuoteID); err != nil {
			rows.Close()
			return nil, quoter.Internal("list pins", err)
		}
		p.Day = quoter.DateOfDay(day)
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, quoter.Internal("list pins", err)
	}
	for i := range ps {
		q, err := db.resolve(ctx, db.rdb, ps[i].QuoteID)
		if err != nil && quoter.ErrorCode(err) != quoter.EGONE {
			return nil, err
		}
		ps[i].Quote = q
	}
	return ps, nil
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
	err := db.change(ctx, "import", func(tx *sql.Tx, sched *scheduleTx) error {
		res = quoter.ImportResult{}
		rank, err := nextRank(ctx, tx)
		if err != nil {
			return err
		}
		// New rows get ids above every id given so far, which is how the
		// new rows are indexed for search at the end in one statement,
		// instead of row by row by the insert trigger (see
		// migration/002_bulk_fts.sql).
		id, err := nextID(ctx, tx)
		if err != nil {
			return err
		}
		lastID := id - 1
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
			r, err := ins.ExecContext(ctx, id, q.Text, q.Author, q.Source, q.Year, q.Lang,
				formatTime(q.Added), q.Len(), fp[:], rank, strings.Join(q.Tags, " "),
				q.Collection, provenanceJSON(q.AddedBy), provenanceJSON(q.EditedBy))
			if err != nil {
				return quoter.Internal(fmt.Sprintf("import: store record %d", i+1), err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				res.Skipped++
				continue
			}
			for _, t := range q.Tags {
				if _, err := tag.ExecContext(ctx, id, t); err != nil {
					return quoter.Internal(fmt.Sprintf("import: store tags of record %d", i+1), err)
				}
			}
			q.ID = id
			if err := sched.add(q); err != nil {
				return err
			}
			id++
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
		return mergeSearchIndex(ctx, tx, res.Added)
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
