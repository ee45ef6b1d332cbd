-- Version 5: curation (see docs/ARCHITECTURE.md, "Collections"). Every
-- quote belongs to a collection; the quotes of a library from before this
-- version go to 'classics', which is public, so nothing served changes.
-- The Go step of this migration (curationMigration) gives 'classics' its
-- own cycle of quotes of the day, a copy of the library's.

-- collections: a named part of the library. A private one is served only
-- where a filter names it; the library's, tags' and languages' cycles hold
-- public quotes only.
CREATE TABLE collections (
	name    TEXT    PRIMARY KEY,
	title   TEXT    NOT NULL DEFAULT '',
	private INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO collections (name) VALUES ('classics');

-- Provenance (quoter.Provenance) is stored as JSON, '' when nothing is
-- known: it is read with the quote and never searched by its parts.
ALTER TABLE quotes ADD COLUMN collection TEXT NOT NULL DEFAULT 'classics';
ALTER TABLE quotes ADD COLUMN added_by   TEXT NOT NULL DEFAULT '';
ALTER TABLE quotes ADD COLUMN edited_by  TEXT NOT NULL DEFAULT '';
CREATE INDEX quotes_collection ON quotes (collection);

ALTER TABLE removed_quotes ADD COLUMN collection TEXT NOT NULL DEFAULT 'classics';
ALTER TABLE removed_quotes ADD COLUMN added_by   TEXT NOT NULL DEFAULT '';
ALTER TABLE removed_quotes ADD COLUMN edited_by  TEXT NOT NULL DEFAULT '';

-- submissions: the moderation queue. quote is the proposed quoter.Quote as
-- JSON; fingerprint is its text's (NULL for a correction), so that the same
-- text is not queued twice. Ids are their own sequence ("s12"), never
-- reused.
CREATE TABLE submissions (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	quote       TEXT    NOT NULL,
	fingerprint BLOB,
	corrects    INTEGER NOT NULL DEFAULT 0,
	note        TEXT    NOT NULL DEFAULT '',
	from_by     TEXT    NOT NULL DEFAULT '',
	submitted   TEXT    NOT NULL,
	status      TEXT    NOT NULL DEFAULT 'pending',
	decided     TEXT,
	decided_by  TEXT    NOT NULL DEFAULT '',
	reason      TEXT    NOT NULL DEFAULT '',
	quote_id    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX submissions_status ON submissions (status, id);
CREATE INDEX submissions_pending ON submissions (fingerprint) WHERE status = 'pending';

-- curators: who may sign in to curate, with a PHC-format password hash
-- (argon2id); the store never sees a password.
CREATE TABLE curators (
	name    TEXT PRIMARY KEY,
	hash    TEXT NOT NULL,
	changed TEXT NOT NULL
) WITHOUT ROWID;
