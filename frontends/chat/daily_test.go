package chat_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// clock is a settable time for a Calendar.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func at(hour int) *clock { return &clock{t: time.Date(2025, 3, 14, hour, 0, 0, 0, time.UTC)} }

func dailyAt(t *testing.T, clk *clock, file string, claims chat.DailyClaims) *chat.Daily {
	t.Helper()
	d, err := chat.NewDaily(chat.DailyConfig{
		Name: "test", Clock: "09:00", StateFile: file, Claims: claims, Targets: []string{"#Q"},
		Fold: strings.ToLower, Calendar: &quoter.Calendar{Location: time.UTC, Now: clk.now}, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// posts records what a Post was asked to post.
type posts struct {
	mu   sync.Mutex
	made []string
	err  error
}

func (p *posts) post(_ context.Context, target string, day quoter.Date) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.made = append(p.made, target+" "+day.String())
	return nil
}

func (p *posts) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.made...)
}

func TestDaily_StartedBeforeTheTimePostsWhenItComes(t *testing.T) {
	clk := at(8)
	d := dailyAt(t, clk, "", nil)
	if _, due := d.Due("#q"); due {
		t.Error("due at 08:00 for a 09:00 post")
	}
	if got, want := d.Next(), time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %v, want %v", got, want)
	}
	clk.add(time.Hour)
	day, due := d.Due("#q")
	if !due || day != (quoter.Date{Year: 2025, Month: 3, Day: 14}) {
		t.Fatalf("at 09:00: due = %v for %v, want due for 2025-03-14", due, day)
	}
	d.Done("#q", day)
	if _, due := d.Due("#Q"); due {
		t.Error("due again the same day after posting (targets fold to lower case here)")
	}
	clk.add(24 * time.Hour)
	if _, due := d.Due("#q"); !due {
		t.Error("not due the next day")
	}
}

// Without a state file, a process started after the day's time must not
// post: it may be a restart of one that already did.
func TestDaily_StartedAfterTheTimeWithoutStateWaitsForTomorrow(t *testing.T) {
	d := dailyAt(t, at(15), "", nil)
	if _, due := d.Due("#q"); due {
		t.Error("due at 15:00 on a fresh start without state")
	}
	if got, want := d.Next(), time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %v, want tomorrow 09:00 %v", got, want)
	}
}

func TestDaily_StateSurvivesRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "test-daily.json")
	clk := at(8)
	d := dailyAt(t, clk, file, nil)
	clk.add(2 * time.Hour)
	day, _ := d.Due("#q")
	d.Done("#q", day)

	again := dailyAt(t, clk, file, nil) // restart, same day
	if _, due := again.Due("#q"); due {
		t.Error("due again after a restart the same day")
	}
	clk.add(24 * time.Hour)
	later := dailyAt(t, clk, file, nil) // down at the posting time, back later that day
	if _, due := later.Due("#q"); !due {
		t.Error("a restart after a missed day does not catch up")
	}
	if err := os.WriteFile(file, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := chat.NewDaily(chat.DailyConfig{Name: "test", Clock: "09:00", StateFile: file, Calendar: &quoter.Calendar{Now: clk.now}}); err != nil {
		t.Errorf("an unreadable state file stops the frontend: %v", err)
	}
}

func TestDaily_RefusesABadClock(t *testing.T) {
	for _, c := range []string{"25:00", "9am", "9:00", "09:60", ""} {
		if _, err := chat.NewDaily(chat.DailyConfig{Name: "test", Clock: c}); err == nil || !strings.Contains(err.Error(), "HH:MM") {
			t.Errorf("NewDaily with clock %q: err = %v, want one asking for HH:MM", c, err)
		}
	}
}

func TestDaily_PostDuePostsEachTargetOnceADay(t *testing.T) {
	clk := at(8)
	d := dailyAt(t, clk, "", nil)
	var p posts
	d.PostDue(context.Background(), []string{"#Q", "#r"}, p.post)
	if got := p.list(); len(got) != 0 {
		t.Errorf("posted before the time: %q", got)
	}
	clk.add(time.Hour)
	d.PostDue(context.Background(), []string{"#Q", "#r"}, p.post)
	d.PostDue(context.Background(), []string{"#q", "#r"}, p.post)
	if got, want := strings.Join(p.list(), "; "), "#Q 2025-03-14; #r 2025-03-14"; got != want {
		t.Errorf("posts = %q, want %q", got, want)
	}
}

func TestDaily_AFailedPostStaysDue(t *testing.T) {
	clk := at(9)
	d := dailyAt(t, clk, "", nil)
	p := posts{err: errors.New("connection lost")}
	d.PostDue(context.Background(), []string{"#x"}, p.post)
	if _, due := d.Due("#x"); !due {
		t.Error("not due after the post failed")
	}
	p.err = nil
	d.PostDue(context.Background(), []string{"#x"}, p.post)
	if got := p.list(); len(got) != 1 {
		t.Errorf("after the retry, posts = %q, want one", got)
	}
}

// claimRecord is a record of claims several replicas share.
type claimRecord struct {
	mu    sync.Mutex
	got   map[string]quoter.Date
	err   error
	asked []string
}

func (c *claimRecord) ClaimDaily(_ context.Context, target string, day quoter.Date) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, target)
	if c.err != nil {
		return false, c.err
	}
	if last, ok := c.got[target]; ok && !last.Before(day) {
		return false, nil
	}
	c.got[target] = day
	return true, nil
}

func TestDaily_ClaimsLetOneReplicaPost(t *testing.T) {
	clk := at(15) // after the time: the shared record, not the start time, decides
	rec := &claimRecord{got: make(map[string]quoter.Date)}
	var p1, p2 posts
	dailyAt(t, clk, "", rec).PostDue(context.Background(), []string{"#Q"}, p1.post)
	second := dailyAt(t, clk, "", rec)
	second.PostDue(context.Background(), []string{"#q"}, p2.post)
	if len(p1.list()) != 1 || len(p2.list()) != 0 {
		t.Errorf("first replica posted %q, second %q; want one post, from the first", p1.list(), p2.list())
	}
	if _, due := second.Due("#q"); due {
		t.Error("a post claimed elsewhere is still due here")
	}
	if got := strings.Join(rec.asked, " "); got != "#q #q" {
		t.Errorf("claims asked for %q, want the folded target twice", got)
	}
}

func TestDaily_AFailedClaimPostsNothingAndStaysDue(t *testing.T) {
	rec := &claimRecord{got: make(map[string]quoter.Date), err: errors.New("database unreachable")}
	d := dailyAt(t, at(10), "", rec)
	var p posts
	d.PostDue(context.Background(), []string{"#q"}, p.post)
	if got := p.list(); len(got) != 0 {
		t.Errorf("posted %q without a claim", got)
	}
	if _, due := d.Due("#q"); !due {
		t.Error("not due after a failed claim")
	}
}

// Run catches up at once on a post missed while down, and posts again
// when SetClock moves the time to one already past for a new target.
func TestDaily_RunCatchesUpAndFollowsTheClock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "test-daily.json")
	if err := os.WriteFile(file, []byte(`{"#q":"2025-03-13"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := at(12)
	d := dailyAt(t, clk, file, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var p posts
	var mu sync.Mutex
	targets := []string{"#q"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), targets...) }, p.post)
	}()
	waitFor(t, func() bool { return len(p.list()) == 1 }, "the catch-up post")
	mu.Lock()
	targets = append(targets, "#new")
	mu.Unlock()
	clk.add(24 * time.Hour) // the next day, at noon: before a 13:00 post
	if err := d.SetClock("13:00"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := p.list(); len(got) != 1 {
		t.Fatalf("posts before 13:00: %q", got)
	}
	if err := d.SetClock("11:30"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(p.list()) == 3 }, "both posts of the next day")
	cancel()
	<-done
	if got, want := strings.Join(p.list(), "; "), "#q 2025-03-14; #q 2025-03-15; #new 2025-03-15"; got != want {
		t.Errorf("posts = %q, want %q", got, want)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("no %s within 5s", what)
}

// A frontend posting from a goroutine per target records its posts at
// once: the state file must hold every one of them afterwards.
func TestDaily_DoneAtOnceForManyTargetsKeepsThemAll(t *testing.T) {
	file := filepath.Join(t.TempDir(), "daily.json")
	clk := at(10)
	d := dailyAt(t, clk, file, nil)
	day := quoter.Date{Year: 2025, Month: 3, Day: 14}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Done("#t"+string(rune('a'+i%26))+string(rune('a'+i/26)), day)
		}()
	}
	wg.Wait()
	again := dailyAt(t, clk, file, nil)
	for i := range 40 {
		target := "#t" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if _, due := again.Due(target); due {
			t.Errorf("%s is due again after a restart: its post was lost from the state file", target)
		}
	}
}

// With replicas, a post whose text could not be found is not claimed: it
// stays due here and on every other replica, where PostDue would have
// spent the claim.
func TestDaily_ComposeDueClaimsOnlyWhatItCanSend(t *testing.T) {
	rec := &claimRecord{got: make(map[string]quoter.Date)}
	d := dailyAt(t, at(10), "", rec)
	var sent []string
	compose := func(fail bool) chat.Compose {
		return func(_ context.Context, target string, day quoter.Date) (func() error, error) {
			if fail {
				return nil, errors.New("library unreachable")
			}
			return func() error { sent = append(sent, target); return nil }, nil
		}
	}
	d.ComposeDue(context.Background(), []string{"#q"}, compose(true))
	if len(rec.asked) != 0 || len(sent) != 0 {
		t.Errorf("after a failed compose: claims asked %q, sent %q; want neither", rec.asked, sent)
	}
	if _, due := d.Due("#q"); !due {
		t.Error("not due after a failed compose")
	}
	d.ComposeDue(context.Background(), []string{"#q"}, compose(false))
	if strings.Join(rec.asked, " ") != "#q" || strings.Join(sent, " ") != "#q" {
		t.Errorf("claims asked %q, sent %q; want one of each", rec.asked, sent)
	}
	if _, due := d.Due("#q"); due {
		t.Error("due again after the post")
	}
}
