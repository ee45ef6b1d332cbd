package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/snapshot"
)

// Export reads the whole library, schedule included, in one read
// transaction, for `quotesd migrate`. A library of a schema older than
// version 4 has no recorded schedule: open it for writing once to upgrade
// it first.
func (db *DB) Export(ctx context.Context) (*snapshot.Library, error) {
	if db.schema < SchemaVersion() {
		return nil, quoter.Errorf(quoter.EINVALID, "%s: library schema version %d is older than this quotesd's (%d); open it for writing once (quotesd pin, unpin or add) to upgrade it", db.path, db.schema, SchemaVersion())
	}
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, quoter.Internal("export: begin", err)
	}
	defer tx.Rollback()
	lib := &snapshot.Library{}
	var seed int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&seed); err != nil {
		return nil, quoter.Internal("export: seed", err)
	}
	lib.Seed = uint64(seed)
	if err := exportRows(ctx, tx, `SELECT `+db.sql.cols+`, q.rank FROM quotes q ORDER BY q.id`, func(r *sql.Rows) error {
		var q snapshot.Quote
		p, err := scanQuote(r, &q.Rank)
		q.Quote = *p
		lib.Quotes = append(lib.Quotes, q)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT `+db.sql.removedCols+`, r.removed, r.purged FROM removed_quotes r ORDER BY r.id`, func(r *sql.Rows) error {
		var q snapshot.Removed
		var removed string
		p, err := scanQuote(r, &removed, &q.Purged)
		if err != nil {
			return err
		}
		q.Quote = *p
		q.Removed = true
		q.RemovedAt, _ = time.Parse(timeLayout, removed)
		lib.Removed = append(lib.Removed, q)
		return nil
	}); err != nil {
		return nil, err
	}
	ids := map[int64]int{} // cycle id -> index in lib.Cycles
	if err := exportRows(ctx, tx, `SELECT id, key, slots, origin_n, origin_end, epoch_start, epoch_pos FROM cycles ORDER BY key`, func(r *sql.Rows) error {
		var c snapshot.Cycle
		var id int64
		var end sql.NullInt64
		if err := r.Scan(&id, &c.Key, &c.Slots, &c.OriginN, &end, &c.EpochStart, &c.EpochPos); err != nil {
			return err
		}
		if end.Valid {
			c.OriginEnd = &end.Int64
		}
		ids[id] = len(lib.Cycles)
		lib.Cycles = append(lib.Cycles, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT cycle, slot, quote_id, origin, live FROM cycle_slots ORDER BY cycle, slot`, func(r *sql.Rows) error {
		var s snapshot.Slot
		var cycle int64
		var origin sql.NullInt64
		if err := r.Scan(&cycle, &s.Slot, &s.Quote, &origin, &s.Live); err != nil {
			return err
		}
		if origin.Valid {
			o := int(origin.Int64)
			s.Origin = &o
		}
		c := &lib.Cycles[ids[cycle]]
		c.Slot = append(c.Slot, s)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT cycle, day, quote_id FROM cycle_days ORDER BY cycle, day`, func(r *sql.Rows) error {
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
	if err := exportRows(ctx, tx, `SELECT day, quote_id FROM pins ORDER BY day`, func(r *sql.Rows) error {
		var p snapshot.Pin
		err := r.Scan(&p.Day, &p.Quote)
		lib.Pins = append(lib.Pins, p)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT name, title, private FROM collections ORDER BY name`, func(r *sql.Rows) error {
		var c quoter.Collection
		err := r.Scan(&c.Name, &c.Title, &c.Private)
		lib.Collections = append(lib.Collections, c)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT `+submissionCols+` FROM submissions ORDER BY id`, func(r *sql.Rows) error {
		s, err := scanSubmission(r)
		if err == nil {
			lib.Submissions = append(lib.Submissions, *s)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT name, hash, changed FROM curators ORDER BY name`, func(r *sql.Rows) error {
		var c snapshot.Curator
		var changed string
		err := r.Scan(&c.Name, &c.Hash, &changed)
		c.Changed, _ = time.Parse(timeLayout, changed)
		lib.Curators = append(lib.Curators, c)
		return err
	}); err != nil {
		return nil, err
	}
	if err := exportRows(ctx, tx, `SELECT slug, bio, link FROM authors ORDER BY slug`, func(r *sql.Rows) error {
		var a quoter.Author
		err := r.Scan(&a.Slug, &a.Bio, &a.Link)
		lib.Authors = append(lib.Authors, a)
		return err
	}); err != nil {
		return nil, err
	}
	return lib, nil
}

func exportRows(ctx context.Context, tx *sql.Tx, query string, scan func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query)
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

// Restore fills an empty library with lib, in one transaction: the same
// ids, ranks, removed quotes, pins, seed and schedule, so that every day
// shows the same quote as where lib was exported. Errors: ECONFLICT when
// the library is not empty.
func (db *DB) Restore(ctx context.Context, lib *snapshot.Library) error {
	return db.write(ctx, "restore", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM quotes) + (SELECT count(*) FROM removed_quotes) + (SELECT count(*) FROM cycles)
			+ (SELECT count(*) FROM submissions) + (SELECT count(*) FROM curators) + (SELECT count(*) FROM authors)`).Scan(&n); err != nil {
			return quoter.Internal("restore: count", err)
		}
		if n > 0 {
			return quoter.Errorf(quoter.ECONFLICT, "%s is not empty: restore a library only into a new one", db.path)
		}
		steps := []struct {
			query string
			rows  func(yield func(...any) error) error
		}{
			{`UPDATE meta SET value = ? WHERE key = 'seed'`, func(y func(...any) error) error { return y(int64(lib.Seed)) }},
			{insertQuoteSQL, func(y func(...any) error) error {
				for _, q := range lib.Quotes {
					fp := quoter.Fingerprint(q.Text)
					if err := y(q.ID, q.Text, q.Author, q.Source, q.Year, q.Lang, formatTime(q.Added), q.Len(), fp[:], q.Rank, strings.Join(q.Tags, " "),
						q.Collection, provenanceJSON(q.AddedBy), provenanceJSON(q.EditedBy)); err != nil {
						return err
					}
				}
				return nil
			}},
			{`UPDATE quotes SET modified = ? WHERE id = ?`, func(y func(...any) error) error {
				for _, q := range lib.Quotes {
					if !q.Modified.IsZero() {
						if err := y(formatTime(q.Modified), q.ID); err != nil {
							return err
						}
					}
				}
				return nil
			}},
			{`INSERT INTO tags (quote_id, tag) VALUES (?, ?)`, func(y func(...any) error) error {
				for _, q := range lib.Quotes {
					for _, t := range q.Tags {
						if err := y(q.ID, t); err != nil {
							return err
						}
					}
				}
				return nil
			}},
			{`INSERT INTO removed_quotes (id, text, author, source, year, lang, added, modified, tag_list, removed, purged,
				collection, added_by, edited_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, func(y func(...any) error) error {
				for _, q := range lib.Removed {
					var modified any
					if !q.Modified.IsZero() {
						modified = formatTime(q.Modified)
					}
					if err := y(q.ID, q.Text, q.Author, q.Source, q.Year, q.Lang, formatTime(q.Added), modified,
						strings.Join(q.Tags, " "), formatTime(q.RemovedAt), q.Purged,
						q.Collection, provenanceJSON(q.AddedBy), provenanceJSON(q.EditedBy)); err != nil {
						return err
					}
				}
				return nil
			}},
			{`INSERT INTO cycles (id, key, slots, origin_n, origin_end, epoch_start, epoch_pos) VALUES (?, ?, ?, ?, ?, ?, ?)`, func(y func(...any) error) error {
				for i, c := range lib.Cycles {
					if err := y(i+1, c.Key, c.Slots, c.OriginN, c.OriginEnd, c.EpochStart, c.EpochPos); err != nil {
						return err
					}
				}
				return nil
			}},
			{`INSERT INTO cycle_slots (cycle, slot, quote_id, origin, live) VALUES (?, ?, ?, ?, ?)`, func(y func(...any) error) error {
				for i, c := range lib.Cycles {
					for _, s := range c.Slot {
						if err := y(i+1, s.Slot, s.Quote, s.Origin, s.Live); err != nil {
							return err
						}
					}
				}
				return nil
			}},
			{`INSERT INTO cycle_days (cycle, day, quote_id) VALUES (?, ?, ?)`, func(y func(...any) error) error {
				for i, c := range lib.Cycles {
					for _, d := range c.Days {
						if err := y(i+1, d.Day, d.Quote); err != nil {
							return err
						}
					}
				}
				return nil
			}},
			{`INSERT INTO pins (day, quote_id) VALUES (?, ?)`, func(y func(...any) error) error {
				for _, p := range lib.Pins {
					if err := y(p.Day, p.Quote); err != nil {
						return err
					}
				}
				return nil
			}},
			{`INSERT INTO collections (name, title, private) VALUES (?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET title = excluded.title, private = excluded.private`, func(y func(...any) error) error {
				for _, c := range lib.Collections {
					if err := y(c.Name, c.Title, c.Private); err != nil {
						return err
					}
				}
				return nil
			}},
			{`INSERT INTO submissions (id, quote, fingerprint, corrects, note, from_by, submitted, status, decided, decided_by, reason, quote_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, func(y func(...any) error) error {
				for _, s := range lib.Submissions {
					row, err := submissionRow(s)
					if err != nil {
						return err
					}
					if err := y(row...); err != nil {
						return err
					}
				}
				return nil
			}},
			{`INSERT INTO curators (name, hash, changed) VALUES (?, ?, ?)`, func(y func(...any) error) error {
				for _, c := range lib.Curators {
					if err := y(c.Name, c.Hash, formatTime(c.Changed)); err != nil {
						return err
					}
				}
				return nil
			}},
			{`INSERT INTO authors (slug, bio, link) VALUES (?, ?, ?)`, func(y func(...any) error) error {
				for _, a := range lib.Authors {
					if err := y(a.Slug, a.Bio, a.Link); err != nil {
						return err
					}
				}
				return nil
			}},
		}
		for _, step := range steps {
			stmt, err := tx.PrepareContext(ctx, step.query)
			if err != nil {
				return quoter.Internal("restore: prepare", err)
			}
			err = step.rows(func(args ...any) error {
				_, err := stmt.ExecContext(ctx, args...)
				return err
			})
			stmt.Close()
			if err != nil {
				return quoter.Internal(fmt.Sprintf("restore: %.40s", step.query), err)
			}
		}
		return nil
	})
}

// submissionRow is s as the columns of the submissions table, in the order
// Restore inserts them.
func submissionRow(s quoter.Submission) ([]any, error) {
	body, err := json.Marshal(s.Quote)
	if err != nil {
		return nil, err
	}
	var fp []byte
	if s.Corrects == 0 {
		sum := quoter.Fingerprint(s.Quote.Text)
		fp = sum[:]
	}
	var decided any
	if !s.Decided.IsZero() {
		decided = formatTime(s.Decided)
	}
	return []any{s.ID, string(body), fp, s.Corrects, s.Note, provenanceJSON(s.From), formatTime(s.Submitted), s.Status,
		decided, provenanceJSON(s.DecidedBy), s.Reason, s.QuoteID}, nil
}
