package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quotesd/quotesd/quoter"
)

// querier is what the pool and a transaction both offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// quoteCols are the columns scanQuote reads, for a quotes table aliased q.
// Tags come as one space-separated string (a tag never holds a space).
const quoteCols = `q.id, q.text, q.author, q.source, q.year, q.lang, q.added, q.tag_list, q.modified, q.collection, q.added_by, q.edited_by`

// scanQuote reads the columns of quoteCols, then any extra ones.
func scanQuote(s pgx.Row, extra ...any) (*quoter.Quote, error) {
	var q quoter.Quote
	var tags, addedBy, editedBy string
	var modified *time.Time
	dest := append([]any{&q.ID, &q.Text, &q.Author, &q.Source, &q.Year, &q.Lang, &q.Added, &tags, &modified,
		&q.Collection, &addedBy, &editedBy}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	q.AddedBy, q.EditedBy = parseProvenance(addedBy), parseProvenance(editedBy)
	q.Added = q.Added.UTC()
	if modified != nil {
		q.Modified = modified.UTC()
	}
	q.Tags = splitTags(tags)
	return &q, nil
}

// provenanceJSON is how a Provenance is stored, as in the SQLite store:
// JSON, or ” for the zero one.
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

// stamp is the time a change records: UTC, to the millisecond, as the
// SQLite store keeps it, so that a library copied between the stores
// reads back the same.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// filterConds are the SQL conditions, over quotes q, for the fields of a
// Filter, in the order filterArgs binds them; %d is the number of the
// parameter. They are the only definition of what passing a filter means
// in SQL. Names compare by lower(), as the SQLite store's NOCASE.
var filterConds = [...]string{
	"q.rendered_len >= $%d",
	"q.rendered_len <= $%d",
	"lower(q.author) = lower($%d)",
	"lower(q.lang) = lower($%d)",
	"EXISTS (SELECT 1 FROM tags t WHERE t.quote_id = q.id AND t.tag = $%d)",
	"q.collection = ANY($%d)",
}

// filterArgs returns the SQL condition for f and the arguments it binds,
// after lead (which take the first parameter numbers). scope is the
// collections the quotes must be in (see DB.scope); nil when any will do.
func filterArgs(f quoter.Filter, scope []string, lead ...any) (string, []any) {
	args := lead
	var conds []string
	add := func(i int, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(filterConds[i], len(args)))
	}
	if f.MinLen > 0 {
		add(0, f.MinLen)
	}
	if f.MaxLen > 0 {
		add(1, f.MaxLen)
	}
	if f.Author != "" {
		add(2, f.Author)
	}
	if f.Lang != "" {
		add(3, f.Lang)
	}
	if f.Tag != "" {
		add(4, strings.ToLower(f.Tag))
	}
	if scope != nil {
		add(5, scope)
	}
	if len(conds) == 0 {
		return "true", args
	}
	return strings.Join(conds, " AND "), args
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
		return nil, db.errNoQuote(ctx, db.pool, id)
	}
	return q, err
}

// sortColumns maps Page.Sort to ORDER BY keys; id breaks ties so pages are
// stable. Author names sort as the SQLite store sorts them: folded to
// lower case, then byte by byte.
var sortColumns = map[string]string{
	"":                "q.id",
	quoter.SortID:     "q.id",
	quoter.SortAdded:  "q.added %[1]s, q.id",
	quoter.SortAuthor: `lower(q.author) COLLATE "C" %[1]s, q.id`,
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
	cond, args := filterArgs(f, scope)
	n := len(args)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT `+quoteCols+` FROM quotes q WHERE `+cond+
		` ORDER BY `+order+` LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, limit, offset)...)
	if err != nil {
		return nil, 0, quoter.Internal("list quotes", err)
	}
	qs, err := scanQuotes(rows)
	if err != nil {
		return nil, 0, quoter.Internal("list quotes", err)
	}
	return qs, total, nil
}

func scanQuotes(rows pgx.Rows) ([]*quoter.Quote, error) {
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
// by name. Names that differ only in case count as one author. The full
// listing is counted once per library generation unless there are over
// maxCachedCounts authors.
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
	byCount := `SELECT min(q.author COLLATE "C"), count(*) AS n FROM quotes q WHERE ` + cond + `
		GROUP BY lower(q.author) ORDER BY n DESC, lower(q.author) COLLATE "C"`
	if stats.Authors > maxCachedCounts {
		cs, err := db.counts(ctx, byCount+fmt.Sprintf(` LIMIT $%d OFFSET $%d`, len(args)+1, len(args)+2), append(args, limit, offset)...)
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
	all, err := db.counts(ctx, `SELECT t.tag, count(*) AS n FROM tags t JOIN quotes q ON q.id = t.quote_id WHERE `+cond+`
		GROUP BY t.tag ORDER BY n DESC, t.tag COLLATE "C"`, args...)
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
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
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
// the quotes of public collections: "true" while no private collection has
// quotes.
func (db *DB) publicWhere(ctx context.Context, st libState) (string, []any, error) {
	scope, err := db.scope(ctx, st, quoter.Filter{})
	if err != nil {
		return "", nil, err
	}
	cond, args := filterArgs(quoter.Filter{}, scope)
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
	err = db.pool.QueryRow(ctx, `SELECT
		(SELECT count(DISTINCT lower(q.author)) FROM quotes q WHERE `+cond+`),
		(SELECT count(DISTINCT t.tag) FROM tags t JOIN quotes q ON q.id = t.quote_id WHERE `+cond+`)`, args...).Scan(&s.Authors, &s.Tags)
	if err != nil {
		return quoter.Stats{}, quoter.Internal("count authors and tags", err)
	}
	db.cache.SetStats(st.gen, s)
	return s, nil
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

// write runs fn in a transaction that first takes the library's write lock
// (the generation row: writers queue, as on SQLite's one writer), bumps the
// generation, notifies the other replicas in the same transaction (the
// notification goes out on commit) and commits.
func (db *DB) write(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return quoter.Internal(what+": begin", err)
	}
	defer tx.Rollback(ctx)
	var gen int64
	if err := tx.QueryRow(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value`).Scan(&gen); err != nil {
		return quoter.Internal(what+": bump generation", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, fmt.Sprint(gen)); err != nil {
		return quoter.Internal(what+": notify", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return quoter.Internal(what+": commit", err)
	}
	db.cache.Invalidate()
	return nil
}

// change is write for changes that touch the schedule: fn records what it
// does to the cycles in sched, whose new epochs start, in the same
// transaction, the day after the frontier of this instant.
func (db *DB) change(ctx context.Context, what string, fn func(tx pgx.Tx, sched *scheduleTx) error) error {
	frontier := quoter.Frontier(db.now())
	return db.write(ctx, what, func(tx pgx.Tx) error {
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

// Add validates and stores q, setting q.ID and q.Added.
// Errors: EINVALID; ECONFLICT when the same text is already stored.
func (db *DB) Add(ctx context.Context, q *quoter.Quote) error {
	if err := prepare(q); err != nil {
		return err
	}
	q.Added = stamp(db.now())
	q.Modified, q.Removed = time.Time{}, false
	return db.change(ctx, "add quote", func(tx pgx.Tx, sched *scheduleTx) error {
		return db.insert(ctx, tx, sched, q)
	})
}

// insert stores q, prepared and stamped, as a new quote of the library and
// schedules it: Add and Approve.
func (db *DB) insert(ctx context.Context, tx pgx.Tx, sched *scheduleTx, q *quoter.Quote) error {
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
	if _, err := tx.Exec(ctx, `INSERT INTO quotes (id, text, author, source, year, lang, added, rendered_len, fingerprint, rank, tag_list, search,
			collection, added_by, edited_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::tsvector, $13, $14, $15)`,
		q.ID, q.Text, q.Author, q.Source, q.Year, q.Lang, q.Added, q.Len(), fp[:], n, strings.Join(q.Tags, " "), searchDoc(q),
		q.Collection, provenanceJSON(q.AddedBy), provenanceJSON(q.EditedBy)); err != nil {
		return mapWriteError("store quote", err)
	}
	if err := insertTags(ctx, tx, []int64{id}, [][]string{q.Tags}); err != nil {
		return err
	}
	return sched.add(q)
}

// nextID is the id a new quote takes: above every id the library ever
// gave, removed quotes included, so that an id names one quote for ever.
func nextID(ctx context.Context, tx pgx.Tx) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `SELECT greatest(
		(SELECT coalesce(max(id), 0) FROM quotes),
		(SELECT coalesce(max(id), 0) FROM removed_quotes)) + 1`).Scan(&id); err != nil {
		return 0, quoter.Internal("allocate a quote id", err)
	}
	return id, nil
}

// conflict returns ECONFLICT when a quote other than id has fingerprint fp.
func conflict(ctx context.Context, tx pgx.Tx, fp []byte, id int64) error {
	var other int64
	err := tx.QueryRow(ctx, `SELECT id FROM quotes WHERE fingerprint = $1 AND id <> $2`, fp, id).Scan(&other)
	switch {
	case err == nil:
		return quoter.Errorf(quoter.ECONFLICT, "the same quote is already quote #%d", other)
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	default:
		return quoter.Internal("look for duplicates", err)
	}
}

// nextRank is the rank a new quote takes: the number of quotes, since
// ranks are dense.
func nextRank(ctx context.Context, tx pgx.Tx) (int64, error) {
	var n int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(rank) + 1, 0) FROM quotes`).Scan(&n); err != nil {
		return 0, quoter.Internal("count quotes", err)
	}
	return n, nil
}

// insertTags stores tags[i] for quote ids[i], in one statement.
func insertTags(ctx context.Context, tx pgx.Tx, ids []int64, tags [][]string) error {
	var qs []int64
	var ts []string
	for i, id := range ids {
		for _, t := range tags[i] {
			qs, ts = append(qs, id), append(ts, t)
		}
	}
	if len(qs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tags (quote_id, tag) SELECT * FROM unnest($1::bigint[], $2::text[])`, qs, ts); err != nil {
		return quoter.Internal("store tags", err)
	}
	return nil
}

// mapWriteError turns a unique violation into ECONFLICT.
func mapWriteError(what string, err error) error {
	if isUnique(err) {
		return quoter.Errorf(quoter.ECONFLICT, "the same quote is already stored")
	}
	return quoter.Internal(what, err)
}

// Update applies u to the quote with the given id and returns the result.
// Errors: ENOTFOUND, EINVALID, ECONFLICT.
func (db *DB) Update(ctx context.Context, id int64, u quoter.Update) (*quoter.Quote, error) {
	if err := u.By.Validate(); err != nil {
		return nil, err
	}
	var q *quoter.Quote
	now := stamp(db.now())
	err := db.change(ctx, "update quote", func(tx pgx.Tx, sched *scheduleTx) error {
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
func (db *DB) update(ctx context.Context, tx pgx.Tx, sched *scheduleTx, id int64, u quoter.Update, now time.Time) (*quoter.Quote, error) {
	q, err := scanQuote(tx.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes q WHERE q.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
		if _, err := tx.Exec(ctx, `DELETE FROM pins WHERE quote_id = $1 AND day > $2`, id, sched.frontier); err != nil {
			return nil, quoter.Internal(fmt.Sprintf("unpin quote %d", id), err)
		}
	}
	q.Modified = now
	if _, err := tx.Exec(ctx, `UPDATE quotes SET text = $1, author = $2, source = $3, year = $4, lang = $5,
		rendered_len = $6, fingerprint = $7, tag_list = $8, modified = $9, search = $10::tsvector,
		collection = $11, edited_by = $12 WHERE id = $13`,
		q.Text, q.Author, q.Source, q.Year, q.Lang, q.Len(), fp[:], strings.Join(q.Tags, " "), now, searchDoc(q),
		q.Collection, provenanceJSON(q.EditedBy), id); err != nil {
		return nil, mapWriteError(fmt.Sprintf("update quote %d", id), err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM tags WHERE quote_id = $1`, id); err != nil {
		return nil, quoter.Internal("replace tags", err)
	}
	if err := insertTags(ctx, tx, []int64{id}, [][]string{q.Tags}); err != nil {
		return nil, err
	}
	return q, nil
}

// errNoQuote is the error for a quote id not in the library: EGONE when it
// was removed, ENOTFOUND when there never was one.
func (db *DB) errNoQuote(ctx context.Context, q querier, id int64) error {
	var purged bool
	err := q.QueryRow(ctx, `SELECT purged FROM removed_quotes WHERE id = $1`, id).Scan(&purged)
	switch {
	case err == nil:
		return quoter.Errorf(quoter.EGONE, "quote #%d was removed from the library", id)
	case errors.Is(err, pgx.ErrNoRows):
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
// rank in the same transaction. Errors: ENOTFOUND, or EGONE for a quote
// removed already.
func (db *DB) Delete(ctx context.Context, id int64) error {
	now := db.now()
	return db.change(ctx, "delete quote", func(tx pgx.Tx, sched *scheduleTx) error {
		return db.deleteQuote(ctx, tx, sched, id, now)
	})
}

func (db *DB) deleteQuote(ctx context.Context, tx pgx.Tx, sched *scheduleTx, id int64, now time.Time) error {
	var rank int64
	q, err := scanQuote(tx.QueryRow(ctx, `SELECT `+quoteCols+`, q.rank FROM quotes q WHERE q.id = $1`, id), &rank)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if _, err := tx.Exec(ctx, `DELETE FROM pins WHERE quote_id = $1 AND day > $2`, id, sched.frontier); err != nil {
		return quoter.Internal(fmt.Sprintf("unpin quote %d", id), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO removed_quotes (id, text, author, source, year, lang, added, modified, tag_list, removed,
			collection, added_by, edited_by)
		SELECT id, text, author, source, year, lang, added, modified, tag_list, $1, collection, added_by, edited_by
		FROM quotes WHERE id = $2`, stamp(now), id); err != nil {
		return quoter.Internal(fmt.Sprintf("keep removed quote %d", id), err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM quotes WHERE id = $1`, id); err != nil {
		return quoter.Internal(fmt.Sprintf("delete quote %d", id), err)
	}
	if _, err := tx.Exec(ctx, `UPDATE quotes SET rank = $1
		WHERE rank = (SELECT max(rank) FROM quotes) AND rank > $1`, rank); err != nil {
		return quoter.Internal("move last quote into the freed rank", err)
	}
	return nil
}

// Purge erases quote id for good, deleting it first when it is in the
// library. Errors: ENOTFOUND when there is no such quote or it is purged
// already.
func (db *DB) Purge(ctx context.Context, id int64) error {
	now := db.now()
	return db.change(ctx, "purge quote", func(tx pgx.Tx, sched *scheduleTx) error {
		err := db.deleteQuote(ctx, tx, sched, id, now)
		if err != nil && quoter.ErrorCode(err) != quoter.EGONE {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE removed_quotes SET text = '', author = '', source = '', year = 0,
			tag_list = '', added_by = '', edited_by = '', purged = true WHERE id = $1 AND NOT purged`, id)
		if err != nil {
			return quoter.Internal(fmt.Sprintf("purge quote %d", id), err)
		}
		if tag.RowsAffected() == 0 {
			return quoter.Errorf(quoter.ENOTFOUND, "quote %d is purged already", id)
		}
		return nil
	})
}

// Pin pins quote id to day. Errors: EINVALID for a day that has begun
// somewhere; ENOTFOUND (or EGONE) for a quote not in the library.
func (db *DB) Pin(ctx context.Context, day quoter.Date, id int64) error {
	if err := db.checkFuture(day, "pin"); err != nil {
		return err
	}
	return db.change(ctx, "pin quote", func(tx pgx.Tx, sched *scheduleTx) error {
		var collection string
		err := tx.QueryRow(ctx, `SELECT collection FROM quotes WHERE id = $1`, id).Scan(&collection)
		if errors.Is(err, pgx.ErrNoRows) {
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
		if _, err := tx.Exec(ctx, `INSERT INTO pins (day, quote_id) VALUES ($1, $2)
			ON CONFLICT (day) DO UPDATE SET quote_id = excluded.quote_id`, day.DayNumber(), id); err != nil {
			return quoter.Internal(fmt.Sprintf("pin quote %d to %s", id, day), err)
		}
		return nil
	})
}

// Unpin removes the pin of day. Errors: EINVALID for a day that has begun
// somewhere; ENOTFOUND when it has no pin.
func (db *DB) Unpin(ctx context.Context, day quoter.Date) error {
	if err := db.checkFuture(day, "unpin"); err != nil {
		return err
	}
	return db.change(ctx, "unpin day", func(tx pgx.Tx, sched *scheduleTx) error {
		if _, err := sched.begin(libraryCycle); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM pins WHERE day = $1`, day.DayNumber())
		if err != nil {
			return quoter.Internal("unpin "+day.String(), err)
		}
		if tag.RowsAffected() == 0 {
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
	rows, err := db.pool.Query(ctx, `SELECT day, quote_id FROM pins WHERE day >= $1 ORDER BY day`, from.DayNumber())
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
		q, err := db.resolve(ctx, db.pool, ps[i].QuoteID)
		if err != nil && quoter.ErrorCode(err) != quoter.EGONE {
			return nil, err
		}
		ps[i].Quote = q
	}
	return ps, nil
}

// importBatch is how many quotes Import writes with one statement.
const importBatch = 1000

// Import stores qs in one transaction, skipping duplicates of stored quotes
// and of earlier records. Every record is validated before anything is
// written, so an invalid one fails the import with EINVALID "record N: ..."
// and adds nothing. progress, when not nil, is called every 1000 records
// or so and at the end.
func (db *DB) Import(ctx context.Context, qs []quoter.Quote, progress func(done int)) (quoter.ImportResult, error) {
	var res quoter.ImportResult
	now := stamp(db.now())
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
		q.Added = stamp(q.Added)
		prepared[i] = q
	}
	err := db.change(ctx, "import", func(tx pgx.Tx, sched *scheduleTx) error {
		res = quoter.ImportResult{}
		rank, err := nextRank(ctx, tx)
		if err != nil {
			return err
		}
		id, err := nextID(ctx, tx)
		if err != nil {
			return err
		}
		seen := map[[32]byte]bool{}
		for start := 0; start < len(prepared); start += importBatch {
			if err := ctx.Err(); err != nil {
				return quoter.Internal("import cancelled", err)
			}
			if progress != nil && start > 0 {
				progress(start)
			}
			chunk := prepared[start:min(start+importBatch, len(prepared))]
			fps := make([][]byte, len(chunk))
			for i := range chunk {
				fp := quoter.Fingerprint(chunk[i].Text)
				fps[i] = fp[:]
			}
			stored, err := storedFingerprints(ctx, tx, fps)
			if err != nil {
				return err
			}
			var b importRows
			for i := range chunk {
				q := &chunk[i]
				fp := [32]byte(fps[i])
				if seen[fp] || stored[fp] {
					res.Skipped++
					continue
				}
				seen[fp] = true
				q.ID = id
				b.add(q, fps[i], rank)
				if err := sched.add(q); err != nil {
					return err
				}
				id++
				rank++
				res.Added++
			}
			if err := b.write(ctx, tx); err != nil {
				return err
			}
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

// storedFingerprints returns which of fps belong to stored quotes.
func storedFingerprints(ctx context.Context, tx pgx.Tx, fps [][]byte) (map[[32]byte]bool, error) {
	rows, err := tx.Query(ctx, `SELECT fingerprint FROM quotes WHERE fingerprint = ANY($1)`, fps)
	if err != nil {
		return nil, quoter.Internal("import: look for duplicates", err)
	}
	defer rows.Close()
	stored := map[[32]byte]bool{}
	for rows.Next() {
		var fp []byte
		if err := rows.Scan(&fp); err != nil {
			return nil, quoter.Internal("import: look for duplicates", err)
		}
		stored[[32]byte(fp)] = true
	}
	return stored, rows.Err()
}

// importRows are quotes to insert in one statement, column by column.
type importRows struct {
	ids, ranks            []int64
	texts, authors, srcs  []string
	years, lens           []int32
	langs, tagLists, docs []string
	added                 []time.Time
	fps                   [][]byte
	tags                  [][]string
	cols, addedBy, edited []string
}

func (b *importRows) add(q *quoter.Quote, fp []byte, rank int64) {
	b.ids, b.ranks = append(b.ids, q.ID), append(b.ranks, rank)
	b.texts, b.authors, b.srcs = append(b.texts, q.Text), append(b.authors, q.Author), append(b.srcs, q.Source)
	b.years, b.lens = append(b.years, int32(q.Year)), append(b.lens, int32(q.Len()))
	b.langs, b.tagLists, b.docs = append(b.langs, q.Lang), append(b.tagLists, strings.Join(q.Tags, " ")), append(b.docs, searchDoc(q))
	b.added, b.fps, b.tags = append(b.added, q.Added), append(b.fps, fp), append(b.tags, q.Tags)
	b.cols, b.addedBy, b.edited = append(b.cols, q.Collection), append(b.addedBy, provenanceJSON(q.AddedBy)), append(b.edited, provenanceJSON(q.EditedBy))
}

func (b *importRows) write(ctx context.Context, tx pgx.Tx) error {
	if len(b.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO quotes (id, text, author, source, year, lang, added, rendered_len, fingerprint, rank, tag_list, search,
			collection, added_by, edited_by)
		SELECT id, text, author, source, year, lang, added, len, fp, rank, tags, doc::tsvector, col, ab, eb
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::timestamptz[], $8::int[], $9::bytea[], $10::bigint[], $11::text[], $12::text[],
			$13::text[], $14::text[], $15::text[])
			AS u(id, text, author, source, year, lang, added, len, fp, rank, tags, doc, col, ab, eb)`,
		b.ids, b.texts, b.authors, b.srcs, b.years, b.langs, b.added, b.lens, b.fps, b.ranks, b.tagLists, b.docs,
		b.cols, b.addedBy, b.edited); err != nil {
		return mapWriteError("import: store quotes", err)
	}
	return insertTags(ctx, tx, b.ids, b.tags)
}

// All yields every quote in id order, streaming from one query, for
// exports and for checks of a whole library, as the SQLite store's All. It
// is not part of quoter.Quoter: frontends page. An error ends the
// sequence, yielded with a nil quote.
func (db *DB) All(ctx context.Context) iter.Seq2[*quoter.Quote, error] {
	return func(yield func(*quoter.Quote, error) bool) {
		rows, err := db.pool.Query(ctx, `SELECT `+quoteCols+` FROM quotes q ORDER BY q.id`)
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
