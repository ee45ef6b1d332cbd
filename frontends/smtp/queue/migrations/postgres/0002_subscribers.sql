-- Mail subscriptions (subscribers.go): the subscribers; the keys of what
-- is sent at most once (a subscriber's daily mail of a day, an address's
-- confirmation request of a day), committed with the queued message; and
-- the envelope sender of a message, the null reverse path for replies and
-- a per-subscriber bounce address (VERP) for the daily mail.
ALTER TABLE messages ADD COLUMN sender TEXT NOT NULL DEFAULT ''; -- '': the null reverse path

CREATE TABLE subscribers (
	id      BIGSERIAL PRIMARY KEY,
	address TEXT    NOT NULL UNIQUE,            -- lower case
	tag     TEXT    NOT NULL DEFAULT '',        -- the daily quote of this tag; '': the quote of the day
	token   TEXT    NOT NULL UNIQUE,            -- random, secret: confirms, unsubscribes, names bounces
	state   TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
	created BIGINT  NOT NULL,                   -- unix milliseconds
	changed BIGINT  NOT NULL,                   -- unix milliseconds: the last change of state
	bounces INTEGER NOT NULL DEFAULT 0          -- hard bounces (5.x.x DSNs) of its daily mail
);
CREATE INDEX subscribers_confirmed ON subscribers (state, id);

CREATE TABLE once_keys (
	key TEXT NOT NULL PRIMARY KEY,              -- "daily:<subscriber id>:<day>", "confirm:<address>:<day>"
	day TEXT NOT NULL                           -- YYYY-MM-DD: pruned a week later
);
CREATE INDEX once_keys_day ON once_keys (day);
