-- Version 6: notes on authors. An author is known by its slug
-- (quoter.Slug of the name its quotes carry), so the notes outlive a
-- correction of the name's case or accents, and may come before the
-- author's first quote (an import brings them with the quotes).
CREATE TABLE authors (
	slug TEXT PRIMARY KEY,
	bio  TEXT NOT NULL DEFAULT '',
	link TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
