package irc

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

func dailyAt(t *testing.T, clk *fakeClock, file string) *daily {
	t.Helper()
	cal := &quoter.Calendar{Location: time.UTC, Now: clk.now}
	d, err := newDaily("09:00", file, nil, []Channel{{Name: "#Q"}}, cal, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDaily_StartedBeforeTheTimePostsWhenItComes(t *testing.T) {
	clk := &fakeClock{t: time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)}
	d := dailyAt(t, clk, "")
	if _, due := d.due("#q"); due {
		t.Error("due at 08:00 for a 09:00 post")
	}
	if got, want := d.next(), time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next = %v, want %v", got, want)
	}
	clk.add(time.Hour)
	day, due := d.due("#q")
	if !due || day != (quoter.Date{Year: 2025, Month: 3, Day: 14}) {
		t.Fatalf("at 09:00: due = %v for %v, want due for 2025-03-14", due, day)
	}
	d.done("#q", day)
	if _, due := d.due("#Q"); due {
		t.Error("due again the same day after posting")
	}
	clk.add(24 * time.Hour)
	if _, due := d.due("#q"); !due {
		t.Error("not due the next day")
	}
}

// Without a state file, a process started after the day's time must not
// post: it may be a restart of one that already did.
func TestDaily_StartedAfterTheTimeWithoutStateWaitsForTomorrow(t *testing.T) {
	clk := &fakeClock{t: time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)}
	d := dailyAt(t, clk, "")
	if _, due := d.due("#q"); due {
		t.Error("due at 15:00 on a fresh start without state")
	}
	if got, want := d.next(), time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next = %v, want tomorrow 09:00 %v", got, want)
	}
}

func TestDaily_StateSurvivesRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "irc-daily.json")
	clk := &fakeClock{t: time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)}
	d := dailyAt(t, clk, file)
	clk.add(2 * time.Hour)
	day, _ := d.due("#q")
	d.done("#q", day)

	again := dailyAt(t, clk, file) // restart, same day
	if _, due := again.due("#q"); due {
		t.Error("due again after a restart the same day")
	}
	clk.add(24 * time.Hour)
	later := dailyAt(t, clk, file) // down at the posting time, back later that day
	if _, due := later.due("#q"); !due {
		t.Error("a restart after a missed day does not catch up")
	}
	if err := os.WriteFile(file, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newDaily("09:00", file, nil, nil, &quoter.Calendar{Now: clk.now}, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("an unreadable state file stops the bot: %v", err)
	}
}
