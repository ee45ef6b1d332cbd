package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// Daily is the schedule of a chat frontend's daily post: at a time of day
// in the library's time zone, each target (an IRC channel, an XMPP room,
// a webhook: any string the frontend names it by) gets that day's post
// once. It remembers, per target, the last day posted there, so that the
// post happens once per day whatever the connection does: a frontend that
// comes up after the posting time catches up, and one that comes up again
// the same day does not repeat it. With a state file the memory also
// survives restarts; without one, a process that starts after the day's
// posting time counts the day as done for the targets it was given (a
// restart must not post a second time). With claims, the record several
// replicas share takes the file's place (DailyClaims).
//
// Daily knows nothing of what a post says or how it is sent: the frontend
// passes a Post to PostDue or Run.
type Daily struct {
	name   string
	cal    *quoter.Calendar
	file   string
	claims DailyClaims // nil: this process's memory and file are the record
	fold   func(string) string
	log    *slog.Logger
	wake   chan struct{} // the posting time moved, or a claim is to be tried again

	saving sync.Mutex // one save at a time, so the last renamed is the newest

	mu           sync.Mutex
	hour, minute int
	last         map[string]quoter.Date // folded target -> day last posted
}

// DailyConfig is what NewDaily needs.
type DailyConfig struct {
	// Name names the frontend in logs ("irc daily post posted") and in
	// the state file's temporary files.
	Name string
	// Clock is the posting time, "HH:MM" on a 24-hour clock (ParseClock).
	Clock string
	// StateFile is where the last day posted per target is kept across
	// restarts; "" keeps it in memory only.
	StateFile string
	// Claims, when set, is where the posts are recorded instead of
	// StateFile: a record several replicas share.
	Claims DailyClaims
	// Targets are those known at start: without a state file or claims, a
	// process started after the posting time counts them as posted today.
	Targets []string
	// Fold maps a target to the key it is remembered and claimed by, for
	// media whose names ignore case (IRC channels: strings.ToLower). Nil
	// keeps targets as they are.
	Fold func(string) string
	// Calendar says what day and time it is, and in which zone.
	Calendar *quoter.Calendar
	Log      *slog.Logger
}

// DailyClaims is the record of the daily posts when several replicas share
// one (the lease's claims on PostgreSQL, in cmd/quotesd): a post is
// claimed there before it is sent, so that each target gets each day's
// post from one replica only, whichever leads and however often they
// restart. A post is sent at most once: a process that dies between the
// claim and the send leaves that target without that day's post.
type DailyClaims interface {
	// ClaimDaily records that target (folded, see DailyConfig.Fold) gets
	// day's post and reports whether this call is the one to send it:
	// false when it, or a later day's, was claimed already. An error
	// claims nothing; the schedule tries again DailyRetry later.
	ClaimDaily(ctx context.Context, target string, day quoter.Date) (bool, error)
}

// Post makes target's post of day: it finds what to say and sends it. An
// error leaves the post due, to be tried at the next wake-up; nil records
// it as done.
type Post func(ctx context.Context, target string, day quoter.Date) error

// DailyRetry is how long after a failed claim the schedule tries again.
const DailyRetry = time.Minute

// NewDaily checks c and returns the schedule, with the state file read.
func NewDaily(c DailyConfig) (*Daily, error) {
	h, m, err := ParseClock(c.Clock)
	if err != nil {
		return nil, fmt.Errorf("%s daily time %q: %w", c.Name, c.Clock, err)
	}
	d := &Daily{name: c.Name, hour: h, minute: m, cal: c.Calendar, file: c.StateFile, claims: c.Claims, fold: c.Fold, log: c.Log,
		last: make(map[string]quoter.Date), wake: make(chan struct{}, 1)}
	if d.cal == nil {
		d.cal = &quoter.Calendar{}
	}
	if d.fold == nil {
		d.fold = func(s string) string { return s }
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.claims != nil {
		// The shared record knows what was posted, by any replica: a
		// target it has no post of today for gets one, even from a
		// process started after the posting time.
		return d, nil
	}
	loaded := false
	if d.file != "" {
		loaded, err = d.load()
		if err != nil {
			return nil, err
		}
	}
	if !loaded {
		today := d.cal.Today()
		if !d.cal.Time().Before(d.at(today)) {
			for _, t := range c.Targets {
				d.last[d.fold(t)] = today
			}
		}
	}
	return d, nil
}

// ParseClock parses a posting time, "HH:MM" on a 24-hour clock.
func ParseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hour > 23 || minute > 59 || hour < 0 || minute < 0 {
		return 0, 0, errors.New("want HH:MM, 24-hour clock")
	}
	return hour, minute, nil
}

// at returns the posting instant of day in the calendar's zone.
func (d *Daily) at(day quoter.Date) time.Time {
	d.mu.Lock()
	h, m := d.hour, d.minute
	d.mu.Unlock()
	return time.Date(day.Year, day.Month, day.Day, h, m, 0, 0, d.cal.Zone())
}

// SetClock moves the posting time to "HH:MM" (a live setting, on SIGHUP).
// Targets that had today's post keep it: moving the time later does not
// post twice.
func (d *Daily) SetClock(clock string) error {
	hour, minute, err := ParseClock(clock)
	if err != nil {
		return fmt.Errorf("%s daily time %q: %w", d.name, clock, err)
	}
	d.mu.Lock()
	d.hour, d.minute = hour, minute
	d.mu.Unlock()
	d.poke()
	return nil
}

// poke makes Timer look again now.
func (d *Daily) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Due reports whether target still needs today's post, and which day that is.
func (d *Daily) Due(target string) (quoter.Date, bool) {
	today := d.cal.Today()
	if d.cal.Time().Before(d.at(today)) {
		return today, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	last, ok := d.last[d.fold(target)]
	return today, !ok || last.Before(today)
}

// claim asks the shared record, when there is one, whether this process
// is to send target's post of day; without one it is. A post claimed
// elsewhere counts as done here. A failure leaves the post due, and has
// Timer wake again DailyRetry later.
func (d *Daily) claim(ctx context.Context, target string, day quoter.Date) bool {
	if d.claims == nil {
		return true
	}
	ok, err := d.claims.ClaimDaily(ctx, d.fold(target), day)
	if err != nil {
		d.log.Warn(d.name+" daily post not claimed: trying again later", "target", target, "day", day.String(), "err", err, "retry_in", DailyRetry.String())
		time.AfterFunc(DailyRetry, d.poke)
		return false
	}
	if !ok {
		d.remember(target, day)
	}
	return ok
}

// remember records, in this process only, that target has had day's post.
func (d *Daily) remember(target string, day quoter.Date) {
	d.mu.Lock()
	d.last[d.fold(target)] = day
	d.mu.Unlock()
}

// Done records that target got day's post, in the state file too.
func (d *Daily) Done(target string, day quoter.Date) {
	d.remember(target, day)
	if d.file != "" {
		if err := d.save(); err != nil {
			d.log.Error(d.name+" daily state not saved", "file", d.file, "err", err)
		}
	}
}

// Next returns when a post will next be due: today's posting time, or
// tomorrow's once that has passed.
func (d *Daily) Next() time.Time {
	today := d.cal.Today()
	if t := d.at(today); d.cal.Time().Before(t) {
		return t
	}
	return d.at(today.AddDays(1))
}

// PostDue makes, through post, the post of each of targets that is due
// and claimed (see DailyClaims), and records each success. A target whose
// post fails stays due. It returns early when ctx ends.
func (d *Daily) PostDue(ctx context.Context, targets []string, post Post) {
	d.ComposeDue(ctx, targets, func(ctx context.Context, target string, day quoter.Date) (func() error, error) {
		return func() error { return post(ctx, target, day) }, nil
	})
}

// Compose finds what target's post of day says, and returns how to send
// it. An error leaves the post due, unclaimed.
type Compose func(ctx context.Context, target string, day quoter.Date) (send func() error, err error)

// ComposeDue is PostDue for a frontend that finds what to say before the
// post is claimed, so that with replicas a post the library could not
// make is not claimed, and stays due (IRC). The claim is made between
// compose and send.
func (d *Daily) ComposeDue(ctx context.Context, targets []string, compose Compose) {
	for _, t := range targets {
		if ctx.Err() != nil {
			return
		}
		day, due := d.Due(t)
		if !due {
			continue
		}
		send, err := compose(ctx, t, day)
		if err == nil {
			if !d.claim(ctx, t, day) {
				continue // claimed elsewhere, or the claim failed: see claim
			}
			err = send()
		}
		if err != nil {
			d.log.Warn(d.name+" daily post not made", "target", t, "day", day.String(), "err", err)
			continue
		}
		d.Done(t, day)
		d.log.Info(d.name+" daily quote posted", "target", t, "day", day.String())
	}
}

// Timer calls wake at each posting time, when SetClock moves it, and
// after a failed claim's DailyRetry, until ctx ends. It sleeps at most an
// hour at a time, so a clock change (DST) costs at most that much delay.
// A frontend that sends from one goroutine has wake signal it, and calls
// PostDue there; see Run for one that does not.
func (d *Daily) Timer(ctx context.Context, wake func()) {
	for {
		wait := min(d.Next().Sub(d.cal.Time()), time.Hour)
		t := time.NewTimer(max(wait, 0) + 100*time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
			t.Stop()
			wake()
		case <-t.C:
			wake()
		}
	}
}

// Run posts what is due now (catching up a post missed while down), then
// at each posting time, to the targets the frontend has then, until ctx
// ends.
func (d *Daily) Run(ctx context.Context, targets func() []string, post Post) {
	d.PostDue(ctx, targets(), post)
	d.Timer(ctx, func() { d.PostDue(ctx, targets(), post) })
}

func (d *Daily) load() (bool, error) {
	b, err := os.ReadFile(d.file)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		d.log.Warn(d.name+" daily state unreadable: starting afresh", "file", d.file, "err", err)
		return false, nil
	}
	for t, s := range m {
		if day, err := quoter.ParseDate(s); err == nil {
			d.last[d.fold(t)] = day
		}
	}
	return true, nil
}

// save writes the state to a temporary file and renames it into place, so
// a crash leaves the old state or the new one, never half of one. Saves
// made at once (a frontend posting to its targets from a goroutine each)
// take turns: otherwise an older copy of the state could be renamed over
// a newer one, and lose a post.
func (d *Daily) save() error {
	d.saving.Lock()
	defer d.saving.Unlock()
	d.mu.Lock()
	m := make(map[string]string, len(d.last))
	for t, day := range d.last {
		m[t] = day.String()
	}
	d.mu.Unlock()
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.file), "."+d.name+"-daily-*")
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
