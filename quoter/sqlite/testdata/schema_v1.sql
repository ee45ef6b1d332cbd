-- Version 1: the quote library.

-- quotes holds the library. rank is dense, 0..N-1 at all times (an insert
-- takes rank N, a delete moves the highest rank into the hole), so "the k-th
-- quote" is one lookup in the rank index: that is what keeps the quote of the
-- day and a random quote O(log N) however large the library grows.
CREATE TABLE quotes (
	id           INTEGER PRIMARY KEY,
	text         TEXT    NOT NULL,
	author       TEXT    NOT NULL,
	source       TEXT    NOT NULL DEFAULT '',
	year         INTEGER NOT NULL DEFAULT 0,
	lang         TEXT    NOT NULL DEFAULT 'en',
	added        TEXT    NOT NULL,                -- UTC, 2006-01-02T15:04:05.000Z
	rendered_len INTEGER NOT NULL,                -- len(Quote.Render()) in bytes
	fingerprint  BLOB    NOT NULL UNIQUE,         -- quoter.Fingerprint(text)
	rank         INTEGER NOT NULL UNIQUE
);
CREATE INDEX quotes_author ON quotes (author COLLATE NOCASE);
CREATE INDEX quotes_lang ON quotes (lang COLLATE NOCASE);
CREATE INDEX quotes_added ON quotes (added);
CREATE INDEX quotes_rendered_len ON quotes (rendered_len);

CREATE TABLE tags (
	quote_id INTEGER NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
	tag      TEXT    NOT NULL,
	PRIMARY KEY (quote_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags (tag);

-- meta holds the shuffle seed of the daily selection (fixed when the library
-- is created, so copies of the file agree) and a generation counter bumped by
-- every change, which lets a running server notice changes made by another
-- process with one cheap query.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('seed', random()), ('generation', 0);

-- quotes_fts indexes text, author and source for search. It is an
-- external-content FTS4 table (FTS5 is not compiled into go-sqlite3 by
-- default): the text lives once, in quotes, and triggers keep the index in
-- step. Only changes to the indexed columns touch it, so moving a quote's
-- rank costs nothing here.
CREATE VIRTUAL TABLE quotes_fts USING fts4 (
	content="quotes", text, author, source,
	tokenize=unicode61 "remove_diacritics=2"
);
CREATE TRIGGER quotes_fts_bd BEFORE DELETE ON quotes BEGIN
	DELETE FROM quotes_fts WHERE docid = old.id;
END;
CREATE TRIGGER quotes_fts_bu BEFORE UPDATE OF text, author, source ON quotes BEGIN
	DELETE FROM quotes_fts WHERE docid = old.id;
END;
CREATE TRIGGER quotes_fts_au AFTER UPDATE OF text, author, source ON quotes BEGIN
	INSERT INTO quotes_fts (docid, text, author, source) VALUES (new.id, new.text, new.author, new.source);
END;
CREATE TRIGGER quotes_fts_ai AFTER INSERT ON quotes BEGIN
	INSERT INTO quotes_fts (docid, text, author, source) VALUES (new.id, new.text, new.author, new.source);
END;
