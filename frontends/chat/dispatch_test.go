package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// dispatcher answers from a library of three quotes, the second in a
// private collection #club is served.
func dispatcher(t *testing.T) (*chat.Dispatcher, *clock) {
	t.Helper()
	lib := quotertest.NewLibrary(t,
		quoter.Quote{Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Tags: []string{"wit"}, Lang: "en"},
		quoter.Quote{Text: "Members only.", Author: "The Club", Collection: "club", Lang: "en"},
		quoter.Quote{Text: quotertest.Long, Author: "Jack", Lang: "en"},
	)
	if err := lib.SetCollection(context.Background(), quoter.Collection{Name: "club", Private: true}); err != nil {
		t.Fatal(err)
	}
	clk := at(12)
	d := &chat.Dispatcher{
		Name: "test", Library: lib, Calendar: &quoter.Calendar{Location: time.UTC, Now: clk.now},
		Prefix: func() string { return "!" },
		Collections: func(room string) []string {
			if room == "#club" {
				return []string{"club"}
			}
			return nil
		},
		Width: 100, Lines: 2,
	}
	return d, clk
}

func TestDispatcher_HandleAnswersCommandsFittedToTheBudget(t *testing.T) {
	d, _ := dispatcher(t)
	ctx := context.Background()
	got, err := d.Handle(ctx, chat.Message{Room: "#q", User: "alice", Text: "!quote #1"})
	if err != nil || strings.Join(got, "|") != "Brevity is the soul of wit. — William Shakespeare [#1]" {
		t.Errorf("!quote #1 = %q, %v; want the quote and its tail on one line", got, err)
	}
	got, _ = d.Handle(ctx, chat.Message{Room: "#q", User: "alice", Text: "!quote #3"})
	if len(got) != 2 || !strings.HasSuffix(got[1], "— Jack [#3]") {
		t.Errorf("!quote #3 (too long) = %q, want two lines ending with the tail", got)
	}
	for _, l := range got {
		if len(l) > d.Width {
			t.Errorf("line of %d bytes, over the budget of %d: %q", len(l), d.Width, l)
		}
	}
	if got, _ := d.Handle(ctx, chat.Message{Room: "#q", User: "bob", Text: "hello there"}); got != nil {
		t.Errorf("chatter answered: %q", got)
	}
	if got, _ := d.Handle(ctx, chat.Message{Room: "#q", User: "bob", Text: "!delquote #1"}); got != nil {
		t.Errorf("a curation command answered by the shared dispatcher: %q", got)
	}
	if got, _ := d.Handle(ctx, chat.Message{Room: "#q", User: "bob", Text: "!today 2025-03-15"}); len(got) != 1 || !strings.HasPrefix(got[0], "that day has not come yet: try !today") {
		t.Errorf("!today of tomorrow = %q", got)
	}
	if got, _ := d.Handle(ctx, chat.Message{Room: "#q", User: "bob", Text: "!today wit"}); len(got) != 1 || !strings.HasPrefix(got[0], "wit: Brevity") {
		t.Errorf("!today wit = %q, want the tag's quote, labelled", got)
	}
}

// A room served its own collections draws from them; anywhere else, a
// private collection is as unknown as one that does not exist.
func TestDispatcher_RoomsSeeTheirCollections(t *testing.T) {
	d, _ := dispatcher(t)
	ctx := context.Background()
	if got, _ := d.Handle(ctx, chat.Message{Room: "#club", User: "a", Text: "!quote"}); len(got) != 1 || !strings.HasPrefix(got[0], "Members only.") {
		t.Errorf("!quote in #club = %q, want the club's quote", got)
	}
	for _, m := range []chat.Message{{Room: "#q", User: "a", Text: "!quote #2"}, {User: "a", Text: "!quote #2", Direct: true}} {
		if got, _ := d.Handle(ctx, m); strings.Join(got, "") != "no quote #2" {
			t.Errorf("%+v = %q, want no quote #2", m, got)
		}
	}
	if got, _ := d.Handle(ctx, chat.Message{Room: "#q", User: "a", Text: "!quote @club"}); strings.Join(got, "") != "no collection @club" {
		t.Errorf("!quote @club outside #club = %q", got)
	}
	text, tail, err := d.QuoteOfDay(ctx, "#club", quoter.Date{Year: 2025, Month: 3, Day: 14})
	if err != nil || text != "Quote of the day: Members only." || tail != "— The Club [#2]" {
		t.Errorf("QuoteOfDay(#club) = %q, %q, %v; want the club's quote", text, tail, err)
	}
}

func TestDispatcher_CooldownsDropInSilenceAndCount(t *testing.T) {
	d, clk := dispatcher(t)
	cd := chat.NewCooldowns(time.Minute, 10*time.Second, clk.now)
	reg := prometheus.NewRegistry()
	d.Cooldowns, d.Metrics = &cd, chat.NewMetrics(reg, "test", "Test")
	ctx := context.Background()
	say := func(user, room string) []string {
		got, err := d.Handle(ctx, chat.Message{Room: room, User: user, Text: "!help", Direct: room == ""})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := say("alice", "#q"); len(got) == 0 || !strings.HasPrefix(got[0], "!quote: a random quote") {
		t.Fatalf("!help = %q", got)
	}
	if got := say("alice", "#q"); got != nil {
		t.Errorf("alice again within her cooldown: %q", got)
	}
	if got := say("bob", "#q"); got != nil {
		t.Errorf("bob in #q within its cooldown: %q", got)
	}
	if got := say("bob", ""); got == nil {
		t.Error("bob's direct message dropped: a room's cooldown does not bound it")
	}
	if n := testutil.ToFloat64(d.Metrics.Dropped.WithLabelValues(chat.DropUserCooldown)); n != 1 {
		t.Errorf("user cooldown drops = %v, want 1", n)
	}
	if n := testutil.ToFloat64(d.Metrics.Dropped.WithLabelValues(chat.DropRoomCooldown)); n != 1 {
		t.Errorf("room cooldown drops = %v, want 1", n)
	}
	if n := testutil.ToFloat64(d.Metrics.Commands.WithLabelValues(chat.KindHelp)); n != 2 {
		t.Errorf("help answered = %v, want 2", n)
	}
}

func TestView_ServesAndVisible(t *testing.T) {
	d, _ := dispatcher(t)
	for _, tt := range []struct {
		room, collection string
		serves, visible  bool
	}{
		{"#q", quoter.DefaultCollection, true, true},
		{"#q", "club", false, false},
		{"#club", "club", true, true},
		{"#club", quoter.DefaultCollection, false, true},
		{"", "nonesuch", true, false},
	} {
		v, err := d.View(context.Background(), tt.room)
		if err != nil {
			t.Fatal(err)
		}
		if v.Serves(tt.collection) != tt.serves || v.Visible(tt.collection) != tt.visible {
			t.Errorf("from %q, %q: serves %v visible %v; want %v and %v", tt.room, tt.collection, v.Serves(tt.collection), v.Visible(tt.collection), tt.serves, tt.visible)
		}
	}
}
