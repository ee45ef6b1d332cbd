package irc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// daily remembers, per channel, the last day whose quote was posted there,
// so that the daily post happens once per day whatever the connection does:
// a session that comes up after the posting time catches up, and one that
// comes up again the same day does not repeat it. With a state file the
// memory also survives restarts; without one, a process that starts after
// the day's posting time counts the day as done (a restart must not post a
// second time). With claims, the record several replicas share takes the
// file's place (DailyClaims).
type daily struct {
	cal     *quoter.Calendar
	file    string
	claims  DailyClaims // nil: this process's memory and file are the record
	log     *slog.Logger
	changed chan struct{} // the posting time moved: the timer must look again

	mu           sync.Mutex
	hour, minute int
	last         map[string]quoter.Date // channel (lower case) -> day last posted
}

// DailyClaims is the record of the daily posts when several replicas share
// one (the lease's claims on PostgreSQL, in cmd/quotesd): a post is
// claimed there before it is sent, so that each channel gets each day's
// post from one replica only, whichever leads and however often they
// restart. A post is sent at most once: a process that dies between the
// claim and the send leaves that channel without that day's post.
type DailyClaims interface {
	// ClaimDaily records that channel (in lower case) gets day's post
	// and reports whether this call is the one to send it: false when it,
	// or a later day's, was claimed already. An error claims nothing; the
	// bot tries again a minute later.
	ClaimDaily(ctx context.Context, channel string, day quoter.Date) (bool, error)
}

// dailyRetry is how long after a failed claim the bot tries again.
const dailyRetry = time.Minute

func newDaily(clock, file string, claims DailyClaims, channels []Channel, cal *quoter.Calendar, log *slog.Logger) (*daily, error) {
	h, m, err := parseClock(clock)
	if err != nil {
		return nil, fmt.Errorf("irc daily time %q: %w", clock, err)
	}
	d := &daily{hour: h, minute: m, cal: cal, file: file, claims: claims, log: log, last: make(map[string]quoter.Date), changed: make(chan struct{}, 1)}
	if claims != nil {
		// The shared record knows what was posted, by any replica: a
		// channel it has no post of today for gets one, even from a
		// process started after the posting time.
		return d, nil
	}
	loaded := false
	if file != "" {
		loaded, err = d.load()
		if err != nil {
			return nil, err
		}
	}
	if !loaded {
		today := cal.Today()
		if !cal.Time().Before(d.at(today)) {
			for _, c := range channels {
				d.last[strings.ToLower(c.Name)] = today
			}
		}
	}
	return d, nil
}

// at returns the posting instant of day in the calendar's zone.
func (d *daily) at(day quoter.Date) time.Time {
	d.mu.Lock()
	h, m := d.hour, d.minute
	d.mu.Unlock()
	return time.Date(day.Year, day.Month, day.Day, h, m, 0, 0, d.cal.Zone())
}

// setClock moves the posting time (on SIGHUP). Channels that had today's
// post keep it: moving the time later does not post twice.
func (d *daily) setClock(hour, minute int) {
	d.mu.Lock()
	d.hour, d.minute = hour, minute
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// due reports whether channel still needs today's post, and which day that is.
func (d *daily) due(channel string) (quoter.Date, bool) {
	today := d.cal.Today()
	if d.cal.Time().Before(d.at(today)) {
		return today, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	last, ok := d.last[strings.ToLower(channel)]
	return today, !ok || last.Before(today)
}

// claim asks the shared record, when there is one, whether this process
// is to send channel's post of day; without one it is. A post claimed
// elsewhere counts as done here. A failure leaves the post due, and
// reports retry.
func (d *daily) claim(ctx context.Context, channel string, day quoter.Date) (send, retry bool) {
	if d.claims == nil {
		return true, false
	}
	ok, err := d.claims.ClaimDaily(ctx, strings.ToLower(channel), day)
	if err != nil {
		d.log.Warn("irc daily post not claimed: trying again later", "channel", channel, "day", day.String(), "err", err, "retry_in", dailyRetry.String())
		return false, true
	}
	if !ok {
		d.remember(channel, day)
	}
	return ok, false
}

// remember records, in this process only, that channel has had day's post.
func (d *daily) remember(channel string, day quoter.Date) {
	d.mu.Lock()
	d.last[strings.ToLower(channel)] = day
	d.mu.Unlock()
}

// done records that channel got day's post.
func (d *daily) done(channel string, day quoter.Date) {
	d.remember(channel, day)
	if d.file != "" {
		if err := d.save(); err != nil {
			d.log.Error("irc daily state not saved", "file", d.file, "err", err)
		}
	}
}

// next returns when a post will next be due: today's posting time, or
// tomorrow's once that has passed.
func (d *daily) next() time.Time {
	today := d.cal.Today()
	if t := d.at(today); d.cal.Time().Before(t) {
		return t
	}
	return d.at(today.AddDays(1))
}

func (d *daily) load() (bool, error) {
	b, err := os.ReadFile(d.file)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		d.log.Warn("irc daily state unreadable: starting afresh", "file", d.file, "err", err)
		return false, nil
	}
	for ch, s := range m {
		if day, err := quoter.ParseDate(s); err == nil {
			d.last[strings.ToLower(ch)] = day
		}
	}
	return true, nil
}

// save writes the state to a temporary file and renames it into place, so
// a crash leaves the old state or the new one, never half of one.
func (d *daily) save() error {
	d.mu.Lock()
	m := make(map[string]string, len(d.last))
	for ch, day := range d.last {
		m[ch] = day.String()
	}
	d.mu.Unlock()
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.file), ".irc-daily-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), d.file)
}

// checkDaily asks the writer to post the daily quote where it is due.
func (s *session) checkDaily() {
	if s.b.daily == nil {
		return
	}
	select {
	case s.dailyC <- struct{}{}:
	default:
	}
}

// dailyTimer wakes the writer at the posting time. It sleeps at most an
// hour at a time, so a clock change (DST) costs at most that much delay.
func (s *session) dailyTimer() {
	for {
		wait := min(s.b.daily.next().Sub(s.b.cal.Time()), time.Hour)
		t := time.NewTimer(max(wait, 0) + 100*time.Millisecond)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-s.b.daily.changed:
			t.Stop()
			s.checkDaily()
		case <-t.C:
			s.checkDaily()
		}
	}
}

// postDaily posts the quote of the day in every joined channel that has
// not had it today, and records each success.
func (s *session) postDaily() {
	d := s.b.daily
	s.mu.Lock()
	chans := make([]string, 0, len(s.joined))
	for _, name := range s.joined {
		chans = append(chans, name)
	}
	s.mu.Unlock()
	retrying := false
	for _, ch := range chans {
		day, due := d.due(ch)
		if !due {
			continue
		}
		lines := s.quoteOfDay(ch, day)
		if len(lines) == 0 {
			continue
		}
		send, retry := d.claim(s.ctx, ch, day)
		if retry && !retrying {
			retrying = true
			time.AfterFunc(dailyRetry, s.checkDaily)
		}
		if !send {
			continue
		}
		for _, l := range lines {
			if err := s.privmsgLine(ch, l); err != nil {
				return
			}
		}
		d.done(ch, day)
		s.b.log.Info("irc daily quote posted", "channel", ch, "day", day.String())
	}
}
