-- Version 4: the quote of the day is history (see docs/ARCHITECTURE.md,
-- "Choosing the quote of the day"). Every cycle of quotes (the library,
-- each tag, each language) is recorded as slots in showing order, with the
-- epoch that maps days to them; days of ended epochs are written down, so a
-- change to the library never rewrites a day that has begun. The Go step of
-- this migration (scheduleMigration) fills the cycles from the library as
-- it is, in the order quotesd showed it until now.

-- modified: when a quote was last edited; NULL when never.
ALTER TABLE quotes ADD COLUMN modified TEXT;

-- removed_quotes keeps deleted quotes for the days they were the quote of
-- the day. A purged one keeps its id and nothing else.
CREATE TABLE removed_quotes (
	id       INTEGER PRIMARY KEY,
	text     TEXT    NOT NULL,
	author   TEXT    NOT NULL,
	source   TEXT    NOT NULL,
	year     INTEGER NOT NULL,
	lang     TEXT    NOT NULL,
	added    TEXT    NOT NULL,
	modified TEXT,
	tag_list TEXT    NOT NULL,
	removed  TEXT    NOT NULL,
	purged   INTEGER NOT NULL DEFAULT 0
);

-- cycles: one row per cycle. key is '' for the whole library, 'tag:NAME',
-- 'lang:CODE'. While origin_end is NULL the cycle is in its origin epoch:
-- day d shows the slot whose origin is d mod origin_n. After its first
-- change, days up to origin_end still do; days from origin_end+1 to
-- epoch_start-1 are in cycle_days; from epoch_start on, the live slots are
-- walked in order starting at live index epoch_pos (quoter.Cycle).
CREATE TABLE cycles (
	id          INTEGER PRIMARY KEY,
	key         TEXT    NOT NULL UNIQUE,
	slots       INTEGER NOT NULL DEFAULT 0,
	origin_n    INTEGER NOT NULL DEFAULT 0,
	origin_end  INTEGER,
	epoch_start INTEGER NOT NULL DEFAULT 0,
	epoch_pos   INTEGER NOT NULL DEFAULT 0
);

-- cycle_slots: the quote in each slot. A slot whose quote left the cycle
-- (deleted, or no longer carrying the tag) stays as a hole (live = 0), so
-- the days that showed it can still name it. origin is the slot's number in
-- the origin epoch, never changed; NULL for slots made later.
CREATE TABLE cycle_slots (
	cycle    INTEGER NOT NULL,
	slot     INTEGER NOT NULL,
	quote_id INTEGER NOT NULL,
	origin   INTEGER,
	live     INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (cycle, slot)
) WITHOUT ROWID;
CREATE INDEX cycle_slots_quote ON cycle_slots (quote_id);
CREATE UNIQUE INDEX cycle_slots_origin ON cycle_slots (cycle, origin) WHERE origin IS NOT NULL;
CREATE INDEX cycle_slots_holes ON cycle_slots (cycle, slot) WHERE live = 0;

-- cycle_days: the quote of each day of an ended epoch (at most a row per
-- day and cycle; written by the change that ended the epoch).
CREATE TABLE cycle_days (
	cycle    INTEGER NOT NULL,
	day      INTEGER NOT NULL, -- days since 1970-01-01
	quote_id INTEGER NOT NULL,
	PRIMARY KEY (cycle, day)
) WITHOUT ROWID;

-- pins: a quote pinned to a day of the library's cycle.
CREATE TABLE pins (
	day      INTEGER PRIMARY KEY, -- days since 1970-01-01
	quote_id INTEGER NOT NULL
);
CREATE INDEX pins_quote ON pins (quote_id);
