package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/snapshot"
)

// Export reads the whole library, schedule included, from one snapshot of
// the database, for `quotesd migrate`.
func (db *DB) Export(ctx context.Context) (*snapshot.Library, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, quoter.Internal("export: begin", err)
	}
	defer tx.Rollback(ctx)
	lib := &snapshot.Library{}
	var seed int64
	if err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&seed); err != nil {
		return nil, quoter.Internal("export: seed", err)
	}
	lib.Seed = uint64(seed)
	if err := exportRows(ctx, tx, `SELECT `+quoteCols+`, q.rank FROM quotes q ORDER BY q.id`, func(r pgx.Rows) error {
		var q snapshot.Quote
		p, err := scanQuote(r, &q.Rank)
		if err != nil {
			return err
		}
		q.Quote = *p
		lib.Quotes = append(lib.Quotes, q)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT `+removedCols+`, r.removed, r.purged FROM removed_quotes r ORDER BY r.id`, func(r pgx.Rows) error {
		var q snapshot.Removed
		p, err := scanQuote(r, &q.RemovedAt, &q.Purged)
		if err != nil {
			return err
		}
		q.Quote = *p
		q.Removed = true
		q.RemovedAt = q.RemovedAt.UTC()
		lib.Removed = append(lib.Removed, q)
		return nil
	}); err != nil {
		return nil, err
	}
	ids := map[int64]int{} // cycle id -> index in lib.Cycles
	if err := exportRows(ctx, tx, `SELECT id, key, slots, origin_n, origin_end, epoch_start, epoch_pos FROM cycles ORDER BY key COLLATE "C"`, func(r pgx.Rows) error {
		var c snapshot.Cycle
		var id int64
		if err := r.Scan(&id, &c.Key, &c.Slots, &c.OriginN, &c.OriginEnd, &c.EpochStart, &c.EpochPos); err != nil {
			return err
		}
		ids[id] = len(lib.Cycles)
		lib.Cycles = append(lib.Cycles, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT cycle, slot, quote_id, origin, live FROM cycle_slots ORDER BY cycle, slot`, func(r pgx.Rows) error {
		var s snapshot.Slot
		var cycle int64
		if err := r.Scan(&cycle, &s.Slot, &s.Quote, &s.Origin, &s.Live); err != nil {
			return err
		}
		c := &lib.Cycles[ids[cycle]]
		c.Slot = append(c.Slot, s)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT cycle, day, quote_id FROM cycle_days ORDER BY cycle, day`, func(r pgx.Rows) error {
		var d snapshot.Day
		var cycle int64
		if err := r.Scan(&cycle, &d.Day, &d.Quote); err != nil {
			return err
		}
		c := &lib.Cycles[ids[cycle]]
		c.Days = append(c.Days, d)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT day, quote_id FROM pins ORDER BY day`, func(r pgx.Rows) error {
		var p snapshot.Pin
		err := r.Scan(&p.Day, &p.Quote)
		lib.Pins = append(lib.Pins, p)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT name, title, private FROM collections ORDER BY name COLLATE "C"`, func(r pgx.Rows) error {
		var c quoter.Collection
		err := r.Scan(&c.Name, &c.Title, &c.Private)
		lib.Collections = append(lib.Collections, c)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT `+submissionCols+` FROM submissions ORDER BY id`, func(r pgx.Rows) error {
		s, err := scanSubmission(r)
		if err == nil {
			lib.Submissions = append(lib.Submissions, *s)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT name, hash, changed FROM curators ORDER BY name COLLATE "C"`, func(r pgx.Rows) error {
		var c snapshot.Curator
		err := r.Scan(&c.Name, &c.Hash, &c.Changed)
		c.Changed = c.Changed.UTC()
		lib.Curators = append(lib.Curators, c)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT slug, bio, link FROM authors ORDER BY slug COLLATE "C"`, func(r pgx.Rows) error {
		var a quoter.Author
		err := r.Scan(&a.Slug, &a.Bio, &a.Link)
		lib.Authors = append(lib.Authors, a)
		return err
	}); err != nil {
		return nil, err
	}
	return lib, nil
}

func exportRows(ctx context.Context, tx pgx.Tx, query string, scan func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return quoter.Internal("export", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return quoter.Internal("export", err)
		}
	}
	if err := rows.Err(); err != nil {
		return quoter.Internal("export", err)
	}
	return nil
}

// Restore fills an empty library with lib, in one transaction, with COPY:
// the same ids, ranks, removed quotes, pins, seed and schedule, so that
// every day shows the same quote as where lib was exported. Errors:
// ECONFLICT when the library is not empty.
func (db *DB) Restore(ctx context.Context, lib *snapshot.Library) error {
	return db.write(ctx, "restore", func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM quotes) + (SELECT count(*) FROM removed_quotes) + (SELECT count(*) FROM cycles)
			+ (SELECT count(*) FROM submissions) + (SELECT count(*) FROM curators) + (SELECT count(*) FROM authors)`).Scan(&n); err != nil {
			return quoter.Internal("restore: count", err)
		}
		if n > 0 {
			return quoter.Errorf(quoter.ECONFLICT, "%s is not empty: restore a library only into a new one", db.url)
		}
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'seed'`, int64(lib.Seed)); err != nil {
			return quoter.Internal("restore: seed", err)
		}
		for start := 0; start < len(lib.Quotes); start += importBatch {
			var b importRows
			for i := start; i < min(start+importBatch, len(lib.Quotes)); i++ {
				q := &lib.Quotes[i]
				fp := quoter.Fingerprint(q.Text)
				b.add(&q.Quote, fp[:], q.Rank)
			}
			if err := b.write(ctx, tx); err != nil {
				return err
			}
		}
		var modIDs []int64
		var mods []time.Time
		for _, q := range lib.Quotes {
			if !q.Modified.IsZero() {
				modIDs, mods = append(modIDs, q.ID), append(mods, q.Modified)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE quotes q SET modified = u.m FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, m) WHERE q.id = u.id`, modIDs, mods); err != nil {
			return quoter.Internal("restore: modified times", err)
		}
		if err := copyRows(ctx, tx, "removed_quotes", []string{"id", "text", "author", "source", "year", "lang", "added", "modified", "tag_list", "removed", "purged",
			"collection", "added_by", "edited_by"}, len(lib.Removed), func(i int) []any {
			q := lib.Removed[i]
			var modified any
			if !q.Modified.IsZero() {
				modified = q.Modified
			}
			return []any{q.ID, q.Text, q.Author, q.Source, int32(q.Year), q.Lang, q.Added, modified, strings.Join(q.Tags, " "), q.RemovedAt, q.Purged,
				q.Collection, provenanceJSON(q.AddedBy), provenanceJSON(q.EditedBy)}
		}); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "cycles", []string{"id", "key", "slots", "origin_n", "origin_end", "epoch_start", "epoch_pos"}, len(lib.Cycles), func(i int) []any {
			c := lib.Cycles[i]
			return []any{int64(i + 1), c.Key, int32(c.Slots), int32(c.OriginN), c.OriginEnd, c.EpochStart, int32(c.EpochPos)}
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('cycles', 'id'), greatest((SELECT max(id) FROM cycles), 1), (SELECT count(*) > 0 FROM cycles))`); err != nil {
			return quoter.Internal("restore: cycle ids", err)
		}
		var slots, days [][]any
		for i, c := range lib.Cycles {
			for _, s := range c.Slot {
				var origin any
				if s.Origin != nil {
					origin = int32(*s.Origin)
				}
				slots = append(slots, []any{int64(i + 1), int32(s.Slot), s.Quote, origin, s.Live})
			}
			for _, d := range c.Days {
				days = append(days, []any{int64(i + 1), d.Day, d.Quote})
			}
		}
		if err := copyRows(ctx, tx, "cycle_slots", []string{"cycle", "slot", "quote_id", "origin", "live"}, len(slots), func(i int) []any { return slots[i] }); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "cycle_days", []string{"cycle", "day", "quote_id"}, len(days), func(i int) []any { return days[i] }); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "pins", []string{"day", "quote_id"}, len(lib.Pins), func(i int) []any {
			return []any{lib.Pins[i].Day, lib.Pins[i].Quote}
		}); err != nil {
			return err
		}
		for _, c := range lib.Collections {
			if _, err := tx.Exec(ctx, `INSERT INTO collections (name, title, private) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET title = excluded.title, private = excluded.private`, c.Name, c.Title, c.Private); err != nil {
				return quoter.Internal("restore collections", err)
			}
		}
		subs := make([][]any, len(lib.Submissions))
		for i, s := range lib.Submissions {
			body, err := json.Marshal(s.Quote)
			if err != nil {
				return quoter.Internal("restore submissions", err)
			}
			var fp []byte
			if s.Corrects == 0 {
				sum := quoter.Fingerprint(s.Quote.Text)
				fp = sum[:]
			}
			var decided any
			if !s.Decided.IsZero() {
				decided = s.Decided
			}
			subs[i] = []any{s.ID, string(body), fp, s.Corrects, s.Note, provenanceJSON(s.From), s.Submitted, s.Status,
				decided, provenanceJSON(s.DecidedBy), s.Reason, s.QuoteID}
		}
		if err := copyRows(ctx, tx, "submissions", []string{"id", "quote", "fingerprint", "corrects", "note", "from_by", "submitted", "status",
			"decided", "decided_by", "reason", "quote_id"}, len(subs), func(i int) []any { return subs[i] }); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('submissions', 'id'), greatest((SELECT max(id) FROM submissions), 1), (SELECT count(*) > 0 FROM submissions))`); err != nil {
			return quoter.Internal("restore: submission ids", err)
		}
		if err := copyRows(ctx, tx, "curators", []string{"name", "hash", "changed"}, len(lib.Curators), func(i int) []any {
			c := lib.Curators[i]
			return []any{c.Name, c.Hash, c.Changed}
		}); err != nil {
			return err
		}
		return copyRows(ctx, tx, "authors", []string{"slug", "bio", "link"}, len(lib.Authors), func(i int) []any {
			a := lib.Authors[i]
			return []any{a.Slug, a.Bio, a.Link}
		})
	})
}

func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, n int, row func(int) []any) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil })); err != nil {
		return quoter.Internal(fmt.Sprintf("restore %s", table), err)
	}
	return nil
}
