package queue

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// migrations are the schema, one step each, applied in order in their own
// transaction and recorded in PRAGMA user_version. Never edit a released
// step: append a new one.
var migrations = []string{
	// 1: messages waiting for or done with delivery; daily reply counts per
	// recipient and per sending IP; decisions not to reply.
	`CREATE TABLE messages (
		id           INTEGER PRIMARY KEY,          -- arrival order
		rcpt         TEXT    NOT NULL,             -- envelope recipient of the reply
		domain       TEXT    NOT NULL,             -- its domain, lower case: a destination without a relay
		created      INTEGER NOT NULL,             -- unix milliseconds
		next_attempt INTEGER NOT NULL,             -- unix milliseconds
		attempts     INTEGER NOT NULL DEFAULT 0,
		state        TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
		done_at      INTEGER,                      -- when sent or given up, unix milliseconds
		last_error   TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX messages_due ON messages (state, next_attempt, id);
	-- The text of a reply lives apart from its small, often updated state
	-- row, so that recording an attempt does not rewrite the text, and is
	-- deleted once the reply is sent or dropped.
	CREATE TABLE bodies (
		id   INTEGER PRIMARY KEY REFERENCES messages (id),
		data BLOB    NOT NULL                      -- the complete reply, signed if DKIM is on
	);
	CREATE TABLE reply_counts (
		key TEXT NOT NULL,                         -- "rcpt:<address>" or "ip:<address>"
		day TEXT NOT NULL,                         -- YYYY-MM-DD, UTC
		n   INTEGER NOT NULL,
		PRIMARY KEY (key, day)
	) WITHOUT ROWID;
	CREATE TABLE skipped (
		id     INTEGER PRIMARY KEY,
		at     INTEGER NOT NULL,                   -- unix milliseconds
		ip     TEXT    NOT NULL,
		sender TEXT    NOT NULL,
		reason TEXT    NOT NULL
	);`,
	// 2: the part of a reply that many replies share (the body of today's
	// quote is the same for every request of the day) is stored once, not
	// once per reply: a reply's own part (its header) is a few hundred
	// bytes, the body a few kilobytes, and writing a page of it per reply
	// was most of what recording a reply wrote.
	`CREATE TABLE texts (
		id   INTEGER PRIMARY KEY,
		hash BLOB    NOT NULL UNIQUE,              -- SHA-256 of data
		data BLOB    NOT NULL
	);
	ALTER TABLE bodies ADD COLUMN text_id INTEGER REFERENCES texts (id); -- what follows data in the reply; NULL: nothing`,
	// 3: a mark committed before each attempt to send a reply, and the
	// count of attempts whose outcome a run never recorded, so that a
	// reply is sent at most once more than it is known to have been,
	// however many restarts follow (see sendmark.go).
	`ALTER TABLE messages ADD COLUMN sending_since INTEGER; -- unix milliseconds: an attempt began, its outcome not recorded yet; NULL: none
	ALTER TABLE messages ADD COLUMN lost_outcomes INTEGER NOT NULL DEFAULT 0; -- attempts of earlier runs whose outcome was never recorded`,
	// 4: the daily reply counts per IP count per client, an IPv6 /64 as
	// one: "ip:<address>" keys become "ip:<client>" (see clientKey), and
	// the counts of one /64's addresses are added up (goSteps[4]).
	`-- the keys are computed in Go: see foldClientCounts`,
	// 5: mail subscriptions (subscribers.go): the subscribers; the keys
	// of what is sent at most once (a subscriber's daily mail of a day,
	// an address's confirmation request of a day), committed with the
	// queued message; and the envelope sender of a message, which is the
	// null reverse path for replies and a per-subscriber bounce address
	// (VERP) for the daily mail.
	`ALTER TABLE messages ADD COLUMN sender TEXT NOT NULL DEFAULT ''; -- envelope sender; '': the null reverse path
	CREATE TABLE subscribers (
		id        INTEGER PRIMARY KEY,
		address   TEXT    NOT NULL UNIQUE,         -- lower case
		tag       TEXT    NOT NULL DEFAULT '',     -- the daily quote of this tag; '': the quote of the day
		token     TEXT    NOT NULL UNIQUE,         -- random, secret: confirms, unsubscribes, names bounces
		state     TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
		created   INTEGER NOT NULL,                -- unix milliseconds
		changed   INTEGER NOT NULL,                -- unix milliseconds: the last change of state
		bounces   INTEGER NOT NULL DEFAULT 0       -- hard bounces (5.x.x DSNs) of its daily mail
	);
	CREATE INDEX subscribers_confirmed ON subscribers (state, id);
	CREATE TABLE once_keys (
		key TEXT    NOT NULL PRIMARY KEY,          -- "daily:<subscriber id>:<day>", "confirm:<address>:<day>"
		day TEXT    NOT NULL                       -- YYYY-MM-DD: pruned a week later
	) WITHOUT ROWID;
	CREATE INDEX once_keys_day ON once_keys (day);`,
	// 6: when a subscriber's last hard bounce was counted, so that
	// bounces more than bounceStale apart do not add up (subscribers.go).
	`ALTER TABLE subscribers ADD COLUMN bounced INTEGER; -- unix milliseconds of the last hard bounce counted; NULL: none`,
}

// goSteps are the parts of migrations that SQL cannot express, run in the
// same transaction after the step's SQL, by step number.
var goSteps = map[int]func(*sql.Tx) error{4: foldClientCounts}

// checkVersion refuses a queue written by a newer quotesd before anything
// writes to it: opening it read-write would switch it to WAL and so rewrite
// its header, which a downgrade must not do to a file it cannot use.
func checkVersion(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	return newerError(version)
}

func newerError(version int) error {
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this quotesd knows (%d); upgrade quotesd", version, len(migrations))
	}
	return nil
}

func (q *Queue) migrate() error {
	var version int
	if err := q.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if err := newerError(version); err != nil {
		return err
	}
	for i := version; i < len(migrations); i++ {
		tx, err := q.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if step := goSteps[i+1]; step != nil {
			if err := step(tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}
