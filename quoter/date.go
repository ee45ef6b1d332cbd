package quoter

import (
	"fmt"
	"time"
)

// Date is a calendar day, independent of any time zone. The quote of the day
// is a function of the Date, so a frontend first turns "now" into a Date in
// the configured zone (see Calendar) and then asks for that day's quote.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date written YYYY-MM-DD and rejects impossible ones
// such as 2025-02-30. Errors: EINVALID.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, Errorf(EINVALID, "invalid date %q: want YYYY-MM-DD, a real calendar day", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar day of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// DayNumber counts days since 1970-01-01 (day 0); it is negative before.
func (d Date) DayNumber() int64 {
	return d.Time(time.UTC).Unix() / 86400
}

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(d.Time(time.UTC).AddDate(0, 0, n))
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.DayNumber() < e.DayNumber() }

// Calendar knows which day it is in the configured time zone. It is the one
// place where "today" is decided, so every frontend rolls over at the same
// instant. The zero Calendar uses the local zone and the real clock.
type Calendar struct {
	Location *time.Location   // nil means time.Local
	Now      func() time.Time // nil means time.Now; tests inject a clock
}

// LoadCalendar returns a Calendar for the named IANA zone ("" or "Local"
// for the machine's zone). Errors: EINVALID for an unknown zone.
func LoadCalendar(zone string) (*Calendar, error) {
	if zone == "" || zone == "Local" {
		return &Calendar{Location: time.Local}, nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, Errorf(EINVALID, "unknown time zone %q: use an IANA name such as Europe/Paris or UTC", zone)
	}
	return &Calendar{Location: loc}, nil
}

func (c *Calendar) loc() *time.Location {
	if c == nil || c.Location == nil {
		return time.Local
	}
	return c.Location
}

// Time returns the current instant in the calendar's zone.
func (c *Calendar) Time() time.Time {
	if c != nil && c.Now != nil {
		return c.Now().In(c.loc())
	}
	return time.Now().In(c.loc())
}

// Today returns the current calendar day in the calendar's zone.
func (c *Calendar) Today() Date { return DateOf(c.Time()) }

// Rollover returns the instant the day after d begins in the calendar's
// zone: when the quote of day d stops being today's. HTTP caching uses it.
func (c *Calendar) Rollover(d Date) time.Time {
	return d.AddDays(1).Time(c.loc())
}

// Zone returns the calendar's time zone.
func (c *Calendar) Zone() *time.Location { return c.loc() }

// DateOfDay is the inverse of DayNumber.
func DateOfDay(n int64) Date {
	return DateOf(time.Unix(n*86400, 0).UTC())
}

// MarshalText writes d as YYYY-MM-DD, in JSON too.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date written YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// earliestZone is the time zone that starts each calendar day first
// (Kiribati's Line Islands, UTC+14).
var earliestZone = time.FixedZone("UTC+14", 14*3600)

// Frontier returns the latest date that has begun somewhere on Earth at
// the instant now: the date in UTC+14. Every date up to it may have been
// shown as "today" by some server, in some zone, so the schedule never
// changes it; changes to the library take effect the day after.
func Frontier(now time.Time) Date { return DateOf(now.In(earliestZone)) }
