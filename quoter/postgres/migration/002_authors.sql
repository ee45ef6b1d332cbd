-- Version 2: notes on authors (the SQLite store's version 6). An author
-- is known by its slug (quoter.Slug of the name its quotes carry), so the
-- notes outlive a correction of the name's case or accents, and may come
-- before the author's first quote.
CREATE TABLE authors (
	slug text PRIMARY KEY,
	bio  text NOT NULL DEFAULT '',
	link text NOT NULL DEFAULT ''
);
