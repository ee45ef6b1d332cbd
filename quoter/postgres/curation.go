package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
)

// This file is the quoter.Curator part of the store, as in the SQLite
// store (quoter/sqlite/curation.go): collections, the moderation queue and
// the curators' password hashes.

// Compile-time check that *DB is a whole library.
var _ quoter.Library = (*DB)(nil)

// collectionInfo is a collection as the filters need it: whether it holds
// any quote, which one lookup in the collection index tells. Its Quotes
// is not counted (see counted).
type collectionInfo struct {
	quoter.Collection
	used bool
}

// collectionList returns every collection, by name, as of generation
// st.gen: read once per generation, at a cost in the number of
// collections, not of quotes.
func (db *DB) collectionList(ctx context.Context, st libState) ([]collectionInfo, error) {
	if cols, ok := db.cache.Collections(st.gen); ok {
		return cols, nil
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, quoter.Internal("list collections: begin", err)
	}
	defer tx.Rollback(ctx)
	var gen int64
	if err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'generation'`).Scan(&gen); err != nil {
		return nil, quoter.Internal("list collections: generation", err)
	}
	rows, err := tx.Query(ctx, `SELECT c.name, c.title, c.private,
		EXISTS (SELECT 1 FROM quotes q WHERE q.collection = c.name) FROM collections c ORDER BY c.name COLLATE "C"`)
	if err != nil {
		return nil, quoter.Internal("list collections", err)
	}
	defer rows.Close()
	cols := []collectionInfo{}
	for rows.Next() {
		var c collectionInfo
		if err := rows.Scan(&c.Name, &c.Title, &c.Private, &c.used); err != nil {
			return nil, quoter.Internal("list collections", err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, quoter.Internal("list collections", err)
	}
	if gen == st.gen {
		db.cache.SetCollections(st.gen, cols)
	}
	return cols, nil
}

// scope resolves the collections f may draw from: the names f.Collection
// lists, or every public collection when it lists none. It returns them as
// the names filterArgs binds, or nil when they hold every quote of the
// library, so that the common case (no private collection, or none with
// quotes) costs no condition at all. Errors: EINVALID for a malformed
// name, ENOTFOUND naming a collection the library does not have.
func (db *DB) scope(ctx context.Context, st libState, f quoter.Filter) ([]string, error) {
	names, err := quoter.Collections(f.Collection)
	if err != nil {
		return nil, err
	}
	cols, err := db.collectionList(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, found := slices.BinarySearchFunc(cols, name, func(c collectionInfo, n string) int { return strings.Compare(c.Name, n) }); !found {
			return nil, quoter.Errorf(quoter.ENOTFOUND, "no collection is named %q", name)
		}
	}
	if names == nil {
		for _, c := range cols {
			if !c.Private {
				names = append(names, c.Name)
			}
		}
	}
	all := true
	for _, c := range cols {
		if c.used && !slices.Contains(names, c.Name) {
			all = false
			break
		}
	}
	if all {
		return nil, nil
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// counted returns every collection with its number of quotes: a pass over
// the collection index, for the listings and counts that want them (Stats
// is counted once per generation, Collections is for curators).
func (db *DB) counted(ctx context.Context, st libState) ([]quoter.Collection, error) {
	infos, err := db.collectionList(ctx, st)
	if err != nil {
		return nil, err
	}
	cols := make([]quoter.Collection, len(infos))
	for i, c := range infos {
		cols[i] = c.Collection
	}
	rows, err := db.pool.Query(ctx, `SELECT collection, count(*) FROM quotes GROUP BY collection`)
	if err != nil {
		return nil, quoter.Internal("count the quotes of each collection", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, quoter.Internal("count the quotes of each collection", err)
		}
		if i, found := slices.BinarySearchFunc(cols, name, func(c quoter.Collection, n string) int { return strings.Compare(c.Name, n) }); found {
			cols[i].Quotes = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, quoter.Internal("count the quotes of each collection", err)
	}
	return cols, nil
}

// publicCount is the number of quotes in public collections: the library's
// size while no private collection holds any.
func (db *DB) publicCount(ctx context.Context, st libState) (int, error) {
	infos, err := db.collectionList(ctx, st)
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(infos, func(c collectionInfo) bool { return c.Private && c.used }) {
		return st.n, nil
	}
	cols, err := db.counted(ctx, st)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cols {
		if !c.Private {
			n += c.Quotes
		}
	}
	return n, nil
}

// Collections lists every collection, private ones included, by name, with
// its number of quotes.
func (db *DB) Collections(ctx context.Context) ([]quoter.Collection, error) {
	st, err := db.state(ctx)
	if err != nil {
		return nil, err
	}
	return db.counted(ctx, st)
}

// maxTitleLen bounds a collection's title.
const maxTitleLen = 100

// SetCollection creates c or changes its title and privacy. A change of
// privacy moves the collection's quotes out of (or into) the cycles of
// public quotes (the library's, the tags', the languages') from the day
// after the frontier, in the same transaction; the days that have begun
// keep their quotes. Pins of its quotes on days to come are dropped when a
// collection turns private: pins belong to the library's cycle, which is
// public.
func (db *DB) SetCollection(ctx context.Context, c quoter.Collection) error {
	if err := quoter.ValidCollection(c.Name); err != nil {
		return err
	}
	c.Title = strings.Join(strings.Fields(c.Title), " ")
	if len(c.Title) > maxTitleLen || !utf8.ValidString(c.Title) || hasControl(c.Title) {
		return quoter.Errorf(quoter.EINVALID, "collection title: want at most %d bytes of single-line UTF-8", maxTitleLen)
	}
	return db.change(ctx, "set collection "+c.Name, func(tx pgx.Tx, sched *scheduleTx) error {
		public, err := sched.public(c.Name) // creates it public when new
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE collections SET title = $1, private = $2 WHERE name = $3`, c.Title, c.Private, c.Name); err != nil {
			return quoter.Internal("set collection "+c.Name, err)
		}
		if public == !c.Private {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT `+quoteCols+` FROM quotes q WHERE q.collection = $1 ORDER BY q.id`, c.Name)
		if err != nil {
			return quoter.Internal("list the quotes of collection "+c.Name, err)
		}
		qs, err := scanQuotes(rows)
		if err != nil {
			return quoter.Internal("list the quotes of collection "+c.Name, err)
		}
		for _, q := range qs {
			for _, key := range publicKeys(q) {
				if c.Private {
					err = sched.remove(key, q.ID)
				} else {
					err = sched.insert(key, q.ID)
				}
				if err != nil {
					return err
				}
			}
		}
		if c.Private {
			if _, err := tx.Exec(ctx, `DELETE FROM pins WHERE day > $1 AND quote_id IN (SELECT id FROM quotes WHERE collection = $2)`,
				sched.frontier, c.Name); err != nil {
				return quoter.Internal("unpin the quotes of collection "+c.Name, err)
			}
		}
		sched.private[c.Name] = c.Private
		return nil
	})
}

// hasControl reports control characters other than LF and TAB.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f })
}

// checkNote refuses a note or reason that is too long or not text.
func checkNote(what, s string) error {
	if len(s) > quoter.MaxNoteLen || !utf8.ValidString(s) || hasControl(s) {
		return quoter.Errorf(quoter.EINVALID, "%s: want at most %d bytes of UTF-8 text", what, quoter.MaxNoteLen)
	}
	return nil
}

// Submit validates s and queues it as pending (see quoter.Curator.Submit).
// A new quote's text must be neither in the library (ECONFLICT "already
// quote #42") nor pending already (ECONFLICT "already submitted as s12").
// A correction keeps only the author, source and year it suggests, checked
// against the quote it corrects.
func (db *DB) Submit(ctx context.Context, s *quoter.Submission) error {
	if err := checkNote("note", s.Note); err != nil {
		return err
	}
	if err := s.From.Validate(); err != nil {
		return err
	}
	if s.Corrects == 0 {
		s.Quote.ID, s.Quote.Added, s.Quote.Modified, s.Quote.Removed = 0, time.Time{}, time.Time{}, false
		s.Quote.AddedBy, s.Quote.EditedBy = quoter.Provenance{}, quoter.Provenance{}
		if err := prepare(&s.Quote); err != nil {
			return err
		}
	} else {
		s.Quote = quoter.Quote{ID: s.Corrects, Author: s.Quote.Author, Source: s.Quote.Source, Year: s.Quote.Year, Tags: []string{}}
	}
	now := stamp(db.now())
	return db.write(ctx, "submit", func(tx pgx.Tx) error {
		var fp []byte
		if s.Corrects == 0 {
			sum := quoter.Fingerprint(s.Quote.Text)
			fp = sum[:]
			if err := conflict(ctx, tx, fp, 0); err != nil {
				return err
			}
			var other int64
			err := tx.QueryRow(ctx, `SELECT id FROM submissions WHERE fingerprint = $1 AND status = 'pending'`, fp).Scan(&other)
			if err == nil {
				return quoter.Errorf(quoter.ECONFLICT, "the same quote is already submitted as %s, waiting for review", quoter.SubmissionID(other))
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return quoter.Internal("look for pending duplicates", err)
			}
		} else {
			q, err := scanQuote(tx.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes q WHERE q.id = $1`, s.Corrects))
			if errors.Is(err, pgx.ErrNoRows) {
				return db.errNoQuote(ctx, tx, s.Corrects)
			} else if err != nil {
				return quoter.Internal(fmt.Sprintf("read quote %d", s.Corrects), err)
			}
			q.Author, q.Source, q.Year = s.Quote.Author, s.Quote.Source, s.Quote.Year
			if err := prepare(q); err != nil {
				return err
			}
			s.Quote.Author, s.Quote.Source, s.Quote.Year, s.Quote.Lang, s.Quote.Collection = q.Author, q.Source, q.Year, "", ""
		}
		body, err := json.Marshal(s.Quote)
		if err != nil {
			return quoter.Internal("submit", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO submissions (quote, fingerprint, corrects, note, from_by, submitted)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, string(body), fp, s.Corrects, s.Note, provenanceJSON(s.From), now).Scan(&s.ID); err != nil {
			return quoter.Internal("submit", err)
		}
		s.Submitted, s.Status = now, quoter.Pending
		s.Decided, s.DecidedBy, s.Reason, s.QuoteID = time.Time{}, quoter.Provenance{}, "", 0
		return nil
	})
}

const submissionCols = `id, quote, corrects, note, from_by, submitted, status, decided, decided_by, reason, quote_id`

func scanSubmission(sc pgx.Row) (*quoter.Submission, error) {
	var s quoter.Submission
	var body, from, decidedBy string
	var decided *time.Time
	if err := sc.Scan(&s.ID, &body, &s.Corrects, &s.Note, &from, &s.Submitted, &s.Status, &decided, &decidedBy, &s.Reason, &s.QuoteID); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(body), &s.Quote); err != nil {
		return nil, fmt.Errorf("submission %d: %w", s.ID, err)
	}
	if s.Quote.Tags == nil {
		s.Quote.Tags = []string{}
	}
	s.From, s.DecidedBy = parseProvenance(from), parseProvenance(decidedBy)
	s.Submitted = s.Submitted.UTC()
	if decided != nil {
		s.Decided = decided.UTC()
	}
	return &s, nil
}

// Submissions lists the submissions in status ("" for all), newest first,
// and how many there are in that status.
func (db *DB) Submissions(ctx context.Context, status string, p quoter.Page) ([]*quoter.Submission, int, error) {
	limit, offset, err := page(p)
	if err != nil {
		return nil, 0, err
	}
	switch status {
	case "", quoter.Pending, quoter.Approved, quoter.Rejected:
	default:
		return nil, 0, quoter.Errorf(quoter.EINVALID, "unknown submission status %q: want pending, approved or rejected", status)
	}
	subs := []*quoter.Submission{}
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM submissions WHERE $1 = '' OR status = $1`, status).Scan(&total); err != nil {
		return nil, 0, quoter.Internal("count submissions", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+submissionCols+` FROM submissions WHERE $1 = '' OR status = $1
		ORDER BY id DESC LIMIT $2 OFFSET $3`, status, limit, offset)
	if err != nil {
		return nil, 0, quoter.Internal("list submissions", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSubmission(rows)
		if err != nil {
			return nil, 0, quoter.Internal("list submissions", err)
		}
		subs = append(subs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, quoter.Internal("list submissions", err)
	}
	return subs, total, nil
}

// Submission returns the submission with the given id. Errors: ENOTFOUND.
func (db *DB) Submission(ctx context.Context, id int64) (*quoter.Submission, error) {
	return db.submission(ctx, db.pool, id)
}

func errNoSubmission(id int64) error {
	return quoter.Errorf(quoter.ENOTFOUND, "no submission %s", quoter.SubmissionID(id))
}

func (db *DB) submission(ctx context.Context, q querier, id int64) (*quoter.Submission, error) {
	s, err := scanSubmission(q.QueryRow(ctx, `SELECT `+submissionCols+` FROM submissions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSubmission(id)
	} else if err != nil {
		return nil, quoter.Internal("read submission "+quoter.SubmissionID(id), err)
	}
	return s, nil
}

// pending reads submission id for a decision: it must be pending.
func (db *DB) pending(ctx context.Context, tx pgx.Tx, id int64) (*quoter.Submission, error) {
	s, err := db.submission(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if s.Status != quoter.Pending {
		return nil, quoter.Errorf(quoter.EINVALID, "submission %s is %s already", quoter.SubmissionID(id), s.Status)
	}
	return s, nil
}

// decide records the decision on submission id.
func decide(ctx context.Context, tx pgx.Tx, id int64, status string, now time.Time, by quoter.Provenance, reason string, quoteID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE submissions SET status = $1, decided = $2, decided_by = $3, reason = $4, quote_id = $5 WHERE id = $6`,
		status, now, provenanceJSON(by), reason, quoteID, id); err != nil {
		return quoter.Internal("record the decision on "+quoter.SubmissionID(id), err)
	}
	return nil
}

// Approve publishes pending submission id, with edit applied to what it
// proposes, in one transaction. A new quote is added with the submitter
// (s.From) as its AddedBy; when the curator edited it, the curator is its
// EditedBy (an approval as proposed leaves EditedBy zero: the curator's
// decision is on the submission, DecidedBy). A correction updates its
// quote's author, source and year (and whatever edit changes) as Update
// does, with the curator as EditedBy.
func (db *DB) Approve(ctx context.Context, id int64, by quoter.Provenance, edit *quoter.Update) (*quoter.Quote, error) {
	if err := by.Validate(); err != nil {
		return nil, err
	}
	var q *quoter.Quote
	now := stamp(db.now())
	err := db.change(ctx, "approve "+quoter.SubmissionID(id), func(tx pgx.Tx, sched *scheduleTx) error {
		s, err := db.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		if s.Corrects == 0 {
			q = &s.Quote
			q.Tags = slices.Clone(q.Tags)
			q.AddedBy, q.EditedBy = s.From, quoter.Provenance{}
			if edit != nil {
				apply(q, *edit)
				q.EditedBy = by
			}
			if err := prepare(q); err != nil {
				return err
			}
			q.Added = now
			if err := db.insert(ctx, tx, sched, q); err != nil {
				return err
			}
		} else {
			u := quoter.Update{Author: &s.Quote.Author, Source: &s.Quote.Source, Year: &s.Quote.Year}
			if edit != nil {
				u = merge(u, *edit)
			}
			u.By = by
			if q, err = db.update(ctx, tx, sched, s.Corrects, u, now); err != nil {
				return err
			}
		}
		return decide(ctx, tx, id, quoter.Approved, now, by, "", q.ID)
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// merge is u with the fields that edit sets replaced by edit's.
func merge(u, edit quoter.Update) quoter.Update {
	if edit.Text != nil {
		u.Text = edit.Text
	}
	if edit.Author != nil {
		u.Author = edit.Author
	}
	if edit.Source != nil {
		u.Source = edit.Source
	}
	if edit.Year != nil {
		u.Year = edit.Year
	}
	if edit.Tags != nil {
		u.Tags = edit.Tags
	}
	if edit.Lang != nil {
		u.Lang = edit.Lang
	}
	if edit.Collection != nil {
		u.Collection = edit.Collection
	}
	return u
}

// Reject closes pending submission id without publishing it.
func (db *DB) Reject(ctx context.Context, id int64, by quoter.Provenance, reason string) error {
	if err := checkNote("reason", reason); err != nil {
		return err
	}
	if err := by.Validate(); err != nil {
		return err
	}
	now := stamp(db.now())
	return db.write(ctx, "reject "+quoter.SubmissionID(id), func(tx pgx.Tx) error {
		if _, err := db.pending(ctx, tx, id); err != nil {
			return err
		}
		return decide(ctx, tx, id, quoter.Rejected, now, by, reason, 0)
	})
}

// maxHashLen bounds a stored password hash (an argon2id PHC string is
// about a hundred bytes).
const maxHashLen = 512

// SetPassword stores curator's password hash, a PHC string ("$argon2id$..."),
// or removes the curator when hash is empty.
func (db *DB) SetPassword(ctx context.Context, curator, hash string) error {
	if err := quoter.ValidCurator(curator); err != nil {
		return err
	}
	if hash != "" && (!strings.HasPrefix(hash, "$") || len(hash) > maxHashLen || strings.ContainsFunc(hash, func(r rune) bool { return r <= ' ' || r > '~' })) {
		return quoter.Errorf(quoter.EINVALID, "the password hash of %s is not a PHC string such as $argon2id$v=19$...", curator)
	}
	now := stamp(db.now())
	return db.write(ctx, "set the password of "+curator, func(tx pgx.Tx) error {
		var err error
		if hash == "" {
			_, err = tx.Exec(ctx, `DELETE FROM curators WHERE name = $1`, curator)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO curators (name, hash, changed) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, changed = excluded.changed`, curator, hash, now)
		}
		if err != nil {
			return quoter.Internal("set the password of "+curator, err)
		}
		return nil
	})
}

// PasswordHash returns curator's password hash. Errors: ENOTFOUND.
func (db *DB) PasswordHash(ctx context.Context, curator string) (string, error) {
	var hash string
	err := db.pool.QueryRow(ctx, `SELECT hash FROM curators WHERE name = $1`, curator).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", quoter.Errorf(quoter.ENOTFOUND, "no curator is named %q", curator)
	} else if err != nil {
		return "", quoter.Internal("read the password of "+curator, err)
	}
	return hash, nil
}
