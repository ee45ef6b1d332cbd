package publish

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// Publisher posts the quote of the day to its targets at the configured
// time, each target on its own: one that is down does not delay the
// others.
type Publisher struct {
	mu        sync.Mutex // guards cfg.At, which a reload changes
	cfg       Config
	lib       quoter.Quoter
	cal       *quoter.Calendar
	log       *slog.Logger
	targets   []*target
	client    *http.Client
	sched     *chat.Daily
	m         *metrics
	baseURL   string
	userAgent string
}

// New returns a publisher of cfg's targets, their secrets read (an error
// names the target and the file or variable at fault, never a secret).
func New(cfg Config, lib quoter.Quoter, cal *quoter.Calendar, log *slog.Logger) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	src := sources{lookupEnv: cfg.LookupEnv, readFile: cfg.ReadFile}
	if src.lookupEnv == nil {
		src.lookupEnv = os.LookupEnv
	}
	if src.readFile == nil {
		src.readFile = os.ReadFile
	}
	p := &Publisher{cfg: cfg, lib: lib, cal: cal, log: log, client: newClient(cfg.Dial, cfg.TLSConfig, cfg.Timeout)}
	var names []string
	for _, sp := range cfg.Specs() {
		t, err := resolve(sp, src)
		if err != nil {
			return nil, err
		}
		p.targets = append(p.targets, t)
		names = append(names, sp.Name)
	}
	p.m = newMetrics(cfg.Metrics, names)
	p.baseURL = strings.TrimRight(cmp.Or(cfg.BaseURL, cfg.SiteURL), "/")
	p.userAgent = "quotesd"
	if cfg.Version != "" {
		p.userAgent = strings.ReplaceAll(cfg.Version, " ", "/")
	}
	sched, err := chat.NewDaily(chat.DailyConfig{
		Name: "publish", Clock: cfg.At, StateFile: cfg.StateFile, Claims: cfg.Claims,
		Targets: names, Calendar: cal, Log: log,
	})
	if err != nil {
		return nil, err
	}
	p.sched = sched
	return p, nil
}

func (p *Publisher) String() string { return "publish" }

// Serve posts each day's quote until ctx ends, then returns nil once the
// posts in flight are done or cancelled. Each target has its goroutine,
// woken by the schedule's timer: one whose service is down, retried all
// morning, delays no other.
func (p *Publisher) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	wake := make([]chan struct{}, len(p.targets))
	for i, t := range p.targets {
		wake[i] = make(chan struct{}, 1)
		wake[i] <- struct{}{} // catch up on start: a post missed while down
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-wake[i]:
					p.sched.PostDue(ctx, []string{t.Name}, func(ctx context.Context, _ string, day quoter.Date) error {
						return p.deliver(ctx, t, day)
					})
				}
			}
		}()
	}
	p.sched.Timer(ctx, func() {
		for _, w := range wake {
			select {
			case w <- struct{}{}:
			default: // that target is busy, and looks again when done
			}
		}
	})
	wg.Wait()
	return nil
}

// sleep waits d or until ctx ends, and reports whether ctx is still on.
func (p *Publisher) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errNotToday is a post that is over for the day without being sent:
// refused by the service, or failing until the day ended. The schedule
// logs it; deliver logged why.
var errNotToday = errors.New("not sent, and not tried again today")

// deliver sends day's post to t (the schedule has claimed it), trying
// again with back-off while the failures are temporary and the day lasts.
// nil records the post as done; a post refused is recorded as done too,
// here, since sending it again would be refused again.
func (p *Publisher) deliver(ctx context.Context, t *target, day quoter.Date) error {
	log := p.log.With("target", t.Name, "kind", string(t.Kind), "day", day.String())
	end := p.cal.Rollover(day)
	backoff := p.cfg.BackoffMin
	for attempt := 1; ; attempt++ {
		// A post in flight is finished, not cut, when quotesd stops (each
		// request has its timeout): cut after the service took it, it would
		// be sent again at the next start.
		err := p.attempt(context.WithoutCancel(ctx), t, day)
		if err == nil {
			p.m.sent.WithLabelValues(t.Name).Inc()
			p.m.lastSuccess.WithLabelValues(t.Name).Set(float64(p.cal.Time().Unix()))
			log.Debug("daily post taken", "to", t.where(), "attempt", attempt)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // stopping: the post stays due, for the next start
		}
		var se *sendError
		if errors.As(err, &se) && se.permanent {
			p.sched.Done(t.Name, day)
			log.Error("daily post refused: not tried again today", "to", t.where(), "err", err, "attempt", attempt)
			p.m.failed.WithLabelValues(t.Name, failGivenUp).Inc()
			return errNotToday
		}
		wait := backoff + rand.N(backoff/4+1)
		if se != nil && se.retryAfter > 0 {
			wait = se.retryAfter // the service said when
		}
		backoff = min(2*backoff, p.cfg.BackoffMax)
		left := end.Sub(p.cal.Time())
		if wait >= left {
			log.Error("daily post failed, and the day ends before it can be tried again: given up", "to", t.where(), "err", err, "attempt", attempt)
			p.m.failed.WithLabelValues(t.Name, failGivenUp).Inc()
			p.sleep(ctx, left) // the next post is tomorrow's
			return errNotToday
		}
		p.m.failed.WithLabelValues(t.Name, failRetried).Inc()
		log.Warn("daily post failed: trying again", "to", t.where(), "err", err, "attempt", attempt, "retry_in", wait.Round(time.Millisecond).String())
		if !p.sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// attempt makes one try at posting day's quote to t.
func (p *Publisher) attempt(ctx context.Context, t *target, day quoter.Date) error {
	q, err := p.lib.Today(ctx, day, t.Filter())
	if err != nil {
		if c := quoter.ErrorCode(err); c == quoter.ENOTFOUND || c == quoter.EINVALID || c == quoter.EGONE {
			// No quote has that tag, no such collection, the day purged: nothing to post
			// today, whatever is tried.
			return &sendError{permanent: true, msg: "no quote to post: " + quoter.ErrorMessage(err)}
		}
		return fmt.Errorf("reading the quote of the day: %w", err)
	}
	req, err := t.request(ctx, p.post(t, day, q), p.userAgent)
	if err != nil {
		return &sendError{permanent: true, msg: err.Error()}
	}
	return t.send(p.client, req, p.cal.Time())
}

// post is what t is sent on day.
func (p *Publisher) post(t *target, day quoter.Date, q *quoter.Quote) post {
	ps := post{Day: day, Quote: q, Target: t.Name, Label: t.Tag}
	if ps.Label == "" {
		ps.Label = t.Collection
	}
	if p.baseURL != "" {
		id := strconv.FormatInt(q.ID, 10)
		ps.PageURL = p.baseURL + "/quotes/" + id
		ps.ImageURL = p.baseURL + "/quotes/" + id + ".png"
	}
	return ps
}

// Config returns the settings in force.
func (p *Publisher) Config() Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// SetLive takes the live settings of cfg (the posting time) on a reload;
// the others it had at start stay. Targets that had today's post keep it:
// moving the time later does not post twice.
func (p *Publisher) SetLive(cfg Config) error {
	if err := p.sched.SetClock(cfg.At); err != nil {
		return err
	}
	p.mu.Lock()
	p.cfg.At = cfg.At
	p.mu.Unlock()
	return nil
}
