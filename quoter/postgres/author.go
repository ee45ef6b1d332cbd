package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
)

// authors derives every author of the public quotes with the notes kept
// for them (quoter.AuthorsFrom), from the listing Authors counts, once per
// generation (a change of a note is a write: a new generation).
func (db *DB) authors(ctx context.Context) ([]quoter.Author, error) {
	st, err := db.state(ctx)
	if err != nil {
		return nil, err
	}
	if as, ok := db.cache.Authors(st.gen); ok {
		return as, nil
	}
	counts, ok := db.cache.CountList(st.gen, "authors")
	if !ok {
		cond, args, err := db.publicWhere(ctx, st)
		if err != nil {
			return nil, err
		}
		if counts, err = db.counts(ctx, `SELECT min(q.author COLLATE "C"), count(*) AS n FROM quotes q WHERE `+cond+`
			GROUP BY lower(q.author) ORDER BY n DESC, lower(q.author) COLLATE "C"`, args...); err != nil {
			return nil, quoter.Internal("list authors", err)
		}
		if len(counts) <= maxCachedCounts {
			db.cache.SetCountList(st.gen, "authors", counts)
		}
	}
	notes, err := db.authorNotes(ctx)
	if err != nil {
		return nil, err
	}
	as := quoter.AuthorsFrom(counts, notes)
	if len(counts) <= maxCachedCounts {
		// Derived once per generation, not per request: slugging every
		// name is the cost of an author's page on a large library.
		db.cache.SetAuthors(st.gen, as)
	}
	return as, nil
}

// authorNotes reads the notes on authors, by slug.
func (db *DB) authorNotes(ctx context.Context) (map[string]quoter.Author, error) {
	rows, err := db.pool.Query(ctx, `SELECT slug, bio, link FROM authors`)
	if err != nil {
		return nil, quoter.Internal("read author notes", err)
	}
	defer rows.Close()
	notes := map[string]quoter.Author{}
	for rows.Next() {
		var a quoter.Author
		if err := rows.Scan(&a.Slug, &a.Bio, &a.Link); err != nil {
			return nil, quoter.Internal("read author notes", err)
		}
		notes[a.Slug] = a
	}
	if err := rows.Err(); err != nil {
		return nil, quoter.Internal("read author notes", err)
	}
	return notes, nil
}

// Author returns the author of public quotes whose slug is slug.
// Errors: ENOTFOUND.
func (db *DB) Author(ctx context.Context, slug string) (*quoter.Author, error) {
	as, err := db.authors(ctx)
	if err != nil {
		return nil, err
	}
	return quoter.FindAuthor(as, slug)
}

// AuthorList returns the authors of public quotes in the order p asks.
// Errors: EINVALID for a bad page.
func (db *DB) AuthorList(ctx context.Context, p quoter.Page) ([]quoter.Author, int, error) {
	as, err := db.authors(ctx)
	if err != nil {
		return nil, 0, err
	}
	return quoter.PageAuthors(as, p)
}

// SetAuthor stores or, when both are empty, removes the notes of a.Slug.
// Errors: EINVALID.
func (db *DB) SetAuthor(ctx context.Context, a quoter.Author) error {
	if err := a.ValidateNotes(); err != nil {
		return err
	}
	return db.write(ctx, "set author "+a.Slug, func(tx pgx.Tx) error {
		return setAuthor(ctx, tx, a)
	})
}

func setAuthor(ctx context.Context, tx pgx.Tx, a quoter.Author) error {
	var err error
	if a.Bio == "" && a.Link == "" {
		_, err = tx.Exec(ctx, `DELETE FROM authors WHERE slug = $1`, a.Slug)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO authors (slug, bio, link) VALUES ($1, $2, $3)
			ON CONFLICT (slug) DO UPDATE SET bio = excluded.bio, link = excluded.link`, a.Slug, a.Bio, a.Link)
	}
	if err != nil {
		return quoter.Internal("set author "+a.Slug, err)
	}
	return nil
}
