-- The mail queue shared by quotesd's replicas: the same tables as the
-- SQLite queue, in a schema of their own (mailqueue), plus the lease of
-- each reply that a replica's delivery has claimed.
CREATE TABLE messages (
	id            BIGSERIAL PRIMARY KEY,        -- arrival order (ids are taken from the sequence by the writer)
	rcpt          TEXT    NOT NULL,             -- envelope recipient of the reply
	domain        TEXT    NOT NULL,             -- its domain, lower case: a destination without a relay
	created       BIGINT  NOT NULL,             -- unix milliseconds
	next_attempt  BIGINT  NOT NULL,             -- unix milliseconds
	attempts      INTEGER NOT NULL DEFAULT 0,
	state         TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
	done_at       BIGINT,                       -- when sent or given up, unix milliseconds
	last_error    TEXT    NOT NULL DEFAULT '',
	sending_since BIGINT,                       -- an attempt began, its outcome not recorded yet (sendmark.go)
	lost_outcomes INTEGER NOT NULL DEFAULT 0,   -- attempts whose outcome was never recorded
	lease_owner   TEXT,                         -- the replica whose delivery claimed the reply; NULL: none
	lease_until   BIGINT                        -- unix milliseconds: the claim ends unless renewed
);
CREATE INDEX messages_due ON messages (next_attempt, id) WHERE state = 'queued';
CREATE INDEX messages_leased ON messages (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX messages_done ON messages (done_at) WHERE state <> 'queued';

-- The text many replies share (today's quote), stored once.
CREATE TABLE texts (
	id   BIGSERIAL PRIMARY KEY,
	hash BYTEA NOT NULL UNIQUE,                 -- SHA-256 of data
	data BYTEA NOT NULL
);

-- A reply's own text, apart from its often updated state row; deleted
-- once the reply is sent or dropped.
CREATE TABLE bodies (
	id      BIGINT PRIMARY KEY REFERENCES messages (id),
	data    BYTEA  NOT NULL,
	text_id BIGINT REFERENCES texts (id)        -- what follows data in the reply; NULL: nothing
);
CREATE INDEX bodies_text ON bodies (text_id) WHERE text_id IS NOT NULL;

CREATE TABLE reply_counts (
	key TEXT    NOT NULL,                       -- "rcpt:<mailbox>" or "ip:<client>"
	day TEXT    NOT NULL,                       -- YYYY-MM-DD, UTC
	n   INTEGER NOT NULL,
	PRIMARY KEY (key, day)
);

CREATE TABLE skipped (
	id     BIGSERIAL PRIMARY KEY,
	at     BIGINT NOT NULL,                     -- unix milliseconds
	ip     TEXT   NOT NULL,
	sender TEXT   NOT NULL,
	reason TEXT   NOT NULL
);
CREATE INDEX skipped_at ON skipped (at);
