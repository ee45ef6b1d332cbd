-- When a subscriber's last hard bounce was counted, so that bounces more
-- than bounceStale apart do not add up (subscribers.go).
ALTER TABLE subscribers ADD COLUMN bounced BIGINT; -- unix milliseconds of the last hard bounce counted; NULL: none
