package irc

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/frontends/irc/ircdtest"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

// Curation from IRC on a real server (ngircd): who may change the
// library, what goes to the moderation queue, !grab, the daily cap, and
// what becomes of control bytes. ngircd tells no services accounts
// (no account-tag, extended-join or WHOX), so curators here are known by
// hostmask; with ident checks off, ngircd marks every user name with '~'.

// curationWorld is a bot on ngircd in #quotes, with alice (a curator by
// hostmask) and bob (no curator) there too.
type curationWorld struct {
	srv        *ircdtest.Server
	lib        quoter.Library
	logs       *logBuffer
	alice, bob *ircdtest.Client
	members    []*ircdtest.Client // every test client in #quotes
}

// newCurationWorld starts it; first joins #quotes before the bot (so
// ngircd makes first its operator), when not nil.
func newCurationWorld(t *testing.T, first func(srv *ircdtest.Server) *ircdtest.Client, tweak func(*Config)) *curationWorld {
	t.Helper()
	w := &curationWorld{srv: ircdtest.Start(t), lib: quotertest.NewLibrary(t)}
	if first != nil {
		w.members = append(w.members, first(w.srv))
	}
	w.alice = ircdtest.Dial(t, w.srv.Addr, "alice")
	w.alice.Join("#quotes")
	w.bob = ircdtest.Dial(t, w.srv.Addr, "bob")
	w.bob.Join("#quotes")
	w.logs = startNgircdBotOn(t, w.srv, w.lib, func(c *Config) {
		c.UserCooldown, c.ChannelCooldown, c.SendInterval = 0, 0, 0
		c.Curators = []Curator{{Mask: "alice!*@127.0.0.1"}}
		if tweak != nil {
			tweak(c)
		}
	})
	w.members = append(w.members, w.alice, w.bob)
	for _, c := range w.members {
		if !c.WaitMember(30*time.Second, "#quotes", "quotesd") {
			t.Fatal("the bot did not join #quotes")
		}
	}
	return w
}

// say sends text to #quotes as c and returns the bot's answer there,
// which every other member then reads past, so that each member's next
// line from the bot is the answer to what it says next.
func (w *curationWorld) say(t *testing.T, c *ircdtest.Client, text string) string {
	t.Helper()
	return sayIn(t, c, "#quotes", text, w.members...)
}

// sayIn sends text to channel as c and returns the bot's next line there;
// the others in the channel among members read past the same line.
func sayIn(t *testing.T, c *ircdtest.Client, channel, text string, members ...*ircdtest.Client) string {
	t.Helper()
	c.Send("PRIVMSG %s :%s", channel, text)
	line := c.Expect(10*time.Second, ":quotesd!")
	_, reply, ok := strings.Cut(line, " PRIVMSG "+channel+" :")
	if !ok {
		t.Fatalf("the bot's next line is not to %s: %q", channel, line)
	}
	for _, o := range members {
		if o != c {
			o.Expect(10*time.Second, line)
		}
	}
	return reply
}

// idIn returns the number after "#" at the end of reply ("added quote #43").
func idIn(t *testing.T, reply string) int64 {
	t.Helper()
	var id int64
	i := strings.LastIndex(reply, "#")
	if i < 0 {
		t.Fatalf("no id in %q", reply)
	}
	if _, err := fmt.Sscanf(reply[i+1:], "%d", &id); err != nil {
		t.Fatalf("no id in %q: %v", reply, err)
	}
	return id
}

func TestNgircd_CuratorAddsQuoteAndTheReplyNamesItsID(t *testing.T) {
	w := newCurationWorld(t, nil, nil)
	reply := w.say(t, w.alice, "!addquote The cake is a lie. -- GLaDOS")
	if !strings.HasPrefix(reply, "added quote #") {
		t.Fatalf("reply %q, want added quote #<id>", reply)
	}
	id := idIn(t, reply)
	q, err := w.lib.Quote(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := quoter.Provenance{By: "alice", Via: quoter.ViaIRC, Channel: "#quotes", Mask: "alice!~alice@127.0.0.1"}
	if q.Text != "The cake is a lie." || q.Author != "GLaDOS" || q.Collection != quoter.DefaultCollection || q.AddedBy != want {
		t.Errorf("stored %+v; want the text, author, collection %s and provenance %+v", q, quoter.DefaultCollection, want)
	}
	if got, want := w.say(t, w.alice, "!addquote the cake  IS a lie. -- Someone"), fmt.Sprintf("already quote #%d", id); !strings.Contains(got, want) {
		t.Errorf("a duplicate: %q, want the core's %q", got, want)
	}
	if got := w.say(t, w.bob, fmt.Sprintf("!quote #%d", id)); !strings.Contains(got, "The cake is a lie.") {
		t.Errorf("!quote #%d = %q", id, got)
	}
}

func TestNgircd_NonCuratorsAdditionIsPendingUntilACuratorApproves(t *testing.T) {
	w := newCurationWorld(t, nil, nil)
	reply := w.say(t, w.bob, "!addquote I am the one who knocks. -- Walter White")
	if !strings.HasPrefix(reply, "submitted for review (#s") {
		t.Fatalf("reply %q, want submitted for review (#s<id>)", reply)
	}
	sid := idIn(t, strings.Replace(reply, "#s", "#", 1))
	if _, n, err := w.lib.Search(context.Background(), "knocks", quoter.Page{}); err != nil || n != 0 {
		t.Errorf("before approval the search finds %d, %v; want nothing published", n, err)
	}
	if got := w.say(t, w.bob, "!pending"); got != "only curators can list submissions" {
		t.Errorf("bob asking for the queue: %q", got)
	}
	if got := w.say(t, w.alice, "!pending"); got != "1 awaiting review; the newest 1 sent to alice by notice" {
		t.Errorf("alice asking for the queue: %q", got)
	}
	if got, want := w.alice.Expect(10*time.Second, " NOTICE alice :"), fmt.Sprintf(":s%d in classics from bob: I am the one who knocks. — Walter White", sid); !strings.HasSuffix(got, want) {
		t.Errorf("the queue sent to alice: %q, want it to end %q", got, want)
	}
	if line, ok := w.bob.Wait(time.Second, " NOTICE bob :"); ok {
		t.Errorf("the queue's text was sent to bob: %q", line)
	}
	if got := w.say(t, w.bob, fmt.Sprintf("!approve s%d", sid)); got != "only curators can approve submissions" {
		t.Errorf("bob approving his own: %q", got)
	}
	got := w.say(t, w.alice, fmt.Sprintf("!approve s%d", sid))
	if !strings.HasPrefix(got, fmt.Sprintf("approved s%d: quote #", sid)) {
		t.Fatalf("alice approving: %q", got)
	}
	q, err := w.lib.Quote(context.Background(), idIn(t, got))
	if err != nil {
		t.Fatal(err)
	}
	if q.Text != "I am the one who knocks." || q.AddedBy.By != "bob" || q.AddedBy.Mask != "bob!~bob@127.0.0.1" {
		t.Errorf("approved quote %+v; want bob's text, added by bob", q)
	}
	if got := w.say(t, w.alice, fmt.Sprintf("!approve s%d", sid)); strings.HasPrefix(got, "approved") {
		t.Errorf("approving twice: %q, want a refusal", got)
	}
	reply = w.say(t, w.bob, "!addquote Say my name. -- Walter White")
	sid = idIn(t, strings.Replace(reply, "#s", "#", 1))
	if got := w.say(t, w.alice, fmt.Sprintf("!reject s%d a line from a show, not from here", sid)); got != fmt.Sprintf("rejected s%d", sid) {
		t.Errorf("alice rejecting: %q", got)
	}
	s, err := w.lib.Submission(context.Background(), sid)
	if err != nil || s.Status != quoter.Rejected || s.Reason != "a line from a show, not from here" || s.DecidedBy.By != "alice" {
		t.Errorf("rejected submission %+v, %v", s, err)
	}
}

func TestNgircd_GrabTakesTheNicksLastLineInTheChannelNeverOnesOwn(t *testing.T) {
	w := newCurationWorld(t, nil, nil)
	w.bob.Send("PRIVMSG #quotes :an early line")
	w.bob.Send("PRIVMSG #quotes :\x01ACTION is off to lunch\x01")
	w.bob.Send("PRIVMSG #quotes :I never said that, \x02I swear\x02")
	w.bob.Send("PRIVMSG quotesd :a private word")
	w.say(t, w.bob, "!quote #1") // a command is not a line to grab
	before := time.Now()
	reply := w.say(t, w.alice, "!grab bob")
	if !strings.HasPrefix(reply, "grabbed bob's line as quote #") {
		t.Fatalf("reply %q", reply)
	}
	q, err := w.lib.Quote(context.Background(), idIn(t, reply))
	if err != nil {
		t.Fatal(err)
	}
	if q.Text != "I never said that, I swear" || q.Author != "bob" {
		t.Errorf("grabbed %q by %q; want bob's last channel line, cleaned", q.Text, q.Author)
	}
	if q.AddedBy.Via != quoter.ViaGrab || q.AddedBy.By != "alice" || q.AddedBy.Channel != "#quotes" ||
		q.AddedBy.Grabbed.IsZero() || q.AddedBy.Grabbed.After(before) {
		t.Errorf("provenance %+v; want a grab by alice in #quotes with the time bob said it", q.AddedBy)
	}
	info := w.say(t, w.bob, fmt.Sprintf("!quote #%d info", q.ID))
	if want := fmt.Sprintf("#%d in classics: added by alice in #quotes via grab on %s, a line said %s", q.ID, q.Added.UTC().Format("2006-01-02"), q.AddedBy.Grabbed.UTC().Format("2006-01-02 15:04 MST")); info != want {
		t.Errorf("!quote #%d info: %q, want %q", q.ID, info, want)
	}
	if got := w.say(t, w.bob, "!grab alice"); got != "you can't grab your own line" && !strings.HasPrefix(got, "I have no line") {
		t.Errorf("bob grabbing alice, who said only commands: %q", got)
	}
	w.alice.Send("PRIVMSG #quotes :something quotable")
	if got := w.say(t, w.alice, "!grab alice"); got != "you can't grab your own line" {
		t.Errorf("alice grabbing herself: %q", got)
	}
	if got := w.say(t, w.alice, "!grab ALICE"); got != "you can't grab your own line" {
		t.Errorf("alice grabbing herself in capitals: %q", got)
	}
	if got := w.say(t, w.alice, "!grab carol"); got != "I have no line of carol's in #quotes" {
		t.Errorf("grabbing a stranger: %q", got)
	}
	if got := w.say(t, w.bob, "!grab alice"); !strings.HasPrefix(got, "submitted for review (#s") {
		t.Errorf("bob grabbing alice's line: %q, want it submitted for review", got)
	}
}

func TestNgircd_DelquoteObeysPermissions(t *testing.T) {
	var carol *ircdtest.Client
	w := newCurationWorld(t, func(srv *ircdtest.Server) *ircdtest.Client {
		carol = ircdtest.Dial(t, srv.Addr, "carol")
		carol.Join("#quotes") // the first in: ngircd makes her an operator
		return carol
	}, func(c *Config) { c.OpsCurate = true })
	ctx := context.Background()
	if got := w.say(t, w.bob, "!delquote #1"); got != "only curators can delete quotes" {
		t.Errorf("bob: %q", got)
	}
	if _, err := w.lib.Quote(ctx, 1); err != nil {
		t.Fatalf("quote #1 after bob's attempt: %v", err)
	}
	if got := w.say(t, w.alice, "!delquote #1"); got != "deleted quote #1" {
		t.Errorf("alice, a curator: %q", got)
	}
	if got := w.say(t, carol, "!delquote #2"); got != "deleted quote #2" {
		t.Errorf("carol, an operator with --irc-ops-curate: %q", got)
	}
	for _, id := range []int64{1, 2} {
		if _, err := w.lib.Quote(ctx, id); quoter.ErrorCode(err) == "" {
			t.Errorf("quote #%d is still in the library", id)
		}
	}
	// carol is no operator any more: she curates no longer.
	carol.Send("MODE #quotes -o carol")
	carol.Expect(10*time.Second, " MODE ")
	if got := w.say(t, carol, "!delquote #3"); got != "only curators can delete quotes" {
		t.Errorf("carol, deopped: %q", got)
	}
	if got := w.say(t, w.bob, "!editquote #3 Changed -- Nobody"); got != "only curators can edit quotes" {
		t.Errorf("bob editing: %q", got)
	}
	if got := w.say(t, w.alice, "!editquote #3 Brevity is the soul of wit!"); got != "edited quote #3" {
		t.Errorf("alice editing: %q", got)
	}
	if q, err := w.lib.Quote(ctx, 3); err != nil || q.Text != "Brevity is the soul of wit!" || q.EditedBy.By != "alice" {
		t.Errorf("quote #3 after the edit: %+v, %v", q, err)
	}
}

func TestNgircd_FloodOfAddquoteIsCappedPerDay(t *testing.T) {
	w := newCurationWorld(t, nil, func(c *Config) { c.CurationCap = 3 })
	for i := 1; i <= 3; i++ {
		if got := w.say(t, w.bob, fmt.Sprintf("!addquote Flood line number %d. -- bob", i)); !strings.HasPrefix(got, "submitted for review") {
			t.Fatalf("addition %d: %q", i, got)
		}
	}
	if got := w.say(t, w.bob, "!addquote Flood line number 4. -- bob"); got != "bob: that is your 3 changes for today; more tomorrow" {
		t.Errorf("the 4th: %q, want the limit said once", got)
	}
	w.bob.Send("PRIVMSG #quotes :!addquote Flood line number 5. -- bob")
	if line, ok := w.bob.Wait(time.Second, ":quotesd!"); ok {
		t.Errorf("the 5th was answered: %q; want silence", line)
	}
	_, pending, err := w.lib.Submissions(context.Background(), quoter.Pending, quoter.Page{})
	if err != nil || pending != 3 {
		t.Errorf("%d pending, %v; want 3", pending, err)
	}
	if got := w.say(t, w.alice, "!addquote Not bob's flood. -- alice"); !strings.HasPrefix(got, "added quote #") {
		t.Errorf("alice, after bob's cap: %q; the cap is per person", got)
	}
}

// docs/IRC.md, "Text from IRC": formatting codes are removed, other
// control characters (CTCP's \x01 among them) refuse the text, and a line
// break ends the line at the server, so nothing after it is part of the
// command.
func TestNgircd_ControlBytesInAddquoteAreCleanedOrRefused(t *testing.T) {
	w := newCurationWorld(t, nil, nil)
	ctx := context.Background()
	reply := w.say(t, w.alice, "!addquote \x02Bold\x02 and \x0304,01red\x03 \x1fwords\x1f -- \x1dIt\x1d")
	if !strings.HasPrefix(reply, "added quote #") {
		t.Fatalf("formatting codes: %q, want added", reply)
	}
	if q, err := w.lib.Quote(ctx, idIn(t, reply)); err != nil || q.Text != "Bold and red words" || q.Author != "It" {
		t.Errorf("stored %+v, %v; want the codes removed", q, err)
	}
	for _, text := range []string{"ring \x07 bell -- x", "a \x01ACTION b\x01 c -- x", "escape \x1b[31m -- x"} {
		if got := w.say(t, w.alice, "!addquote "+text); got != "text contains control characters" {
			t.Errorf("!addquote %q: %q, want text contains control characters", text, got)
		}
	}
	for _, brk := range []string{"\n", "\r", "\r\n"} {
		if got := w.say(t, w.alice, "!addquote first half"+brk+"second half -- Smuggler"); got != chat.AddUsage {
			t.Errorf("a line broken by %q: %q, want the usage (the text ends at the break)", brk, got)
		}
	}
	if _, n, err := w.lib.Search(ctx, "smuggler", quoter.Page{}); err != nil || n != 0 {
		t.Errorf("a search for the smuggled author finds %d, %v; want none", n, err)
	}
	// A NUL never reaches the bot from ngircd, which stops reading its
	// sender; lineConn would drop such a line unread (TestCheckLine).
	mallory := ircdtest.Dial(t, w.srv.Addr, "mallory")
	mallory.Join("#quotes")
	mallory.Send("PRIVMSG #quotes :!addquote nul\x00byte -- Mallory")
	if line, ok := w.alice.Wait(2*time.Second, ":quotesd!"); ok {
		t.Errorf("the bot answered a line with a NUL: %q", line)
	}
	if _, n, err := w.lib.Search(ctx, "mallory", quoter.Page{}); err != nil || n != 0 {
		t.Errorf("a search for mallory finds %d, %v; want none", n, err)
	}
	if got := w.say(t, w.alice, "!quote #1"); !strings.Contains(got, "Brevity") {
		t.Errorf("after the NUL: %q; want the bot answering as before", got)
	}
}

// --irc-channels '#club:club-quotes,#other': #club is served its private
// collection, #other every public one and never #club's.
func TestNgircd_ChannelIsServedItsOwnCollectionAndNoOtherChannelIs(t *testing.T) {
	ctx := context.Background()
	lib := quotertest.NewLibrary(t)
	if err := lib.SetCollection(ctx, quoter.Collection{Name: "club-quotes", Private: true}); err != nil {
		t.Fatal(err)
	}
	club := &quoter.Quote{Text: "What is said at the club stays at the club.", Author: "The Founder", Collection: "club-quotes"}
	if err := lib.Add(ctx, club); err != nil {
		t.Fatal(err)
	}
	srv := ircdtest.Start(t)
	alice := ircdtest.Dial(t, srv.Addr, "alice")
	alice.Join("#club")
	alice.Join("#other")
	bob := ircdtest.Dial(t, srv.Addr, "bob")
	bob.Join("#club")
	startNgircdBotOn(t, srv, lib, func(c *Config) {
		c.UserCooldown, c.ChannelCooldown, c.SendInterval = 0, 0, 0
		c.Channels = []Channel{{Name: "#club", Collections: []string{"club-quotes"}}, {Name: "#other"}}
		c.Curators = []Curator{{Mask: "alice!*@127.0.0.1"}}
	})
	if !alice.WaitMember(30*time.Second, "#other", "quotesd") || !alice.WaitMember(30*time.Second, "#club", "quotesd") || !bob.WaitMember(30*time.Second, "#club", "quotesd") {
		t.Fatal("the bot did not join #club and #other")
	}
	for _, tt := range []struct{ channel, text, want string }{
		{"#club", "!quote", club.Text},
		{"#club", "!today", club.Text},
		{"#club", "!quote stays", club.Text},
		{"#club", "!quote @club-quotes club", club.Text},
		{"#club", "!quote @classics simplify", "Simplify, simplify."},
		{"#club", fmt.Sprintf("!quote #%d", club.ID), club.Text},
		{"#other", fmt.Sprintf("!quote #%d", club.ID), fmt.Sprintf("no quote #%d", club.ID)},
		{"#other", "!quote @club-quotes", "no collection @club-quotes"},
		{"#other", "!quote @club-quotes stays", "no collection @club-quotes"},
		{"#other", "!quote stays at the club", "no quote matches"},
		{"#other", "!quote @classics simplify", "Simplify, simplify."},
		{"#other", "!quote @nowhere", "no collection @nowhere"},
	} {
		var others []*ircdtest.Client
		if tt.channel == "#club" {
			others = append(others, bob)
		}
		if got := sayIn(t, alice, tt.channel, tt.text, others...); !strings.Contains(got, tt.want) {
			t.Errorf("%s in %s: %q, want %q", tt.text, tt.channel, got, tt.want)
		}
	}
	for i := 0; i < 5; i++ {
		got := sayIn(t, alice, "#other", "!quote")
		// A long quote takes more than one line, paced: read them all, up
		// to the last, which ends with the quote's number, so that the next
		// command's answer is the next line.
		for !strings.Contains(got, "[#") {
			more, ok := alice.Wait(10*time.Second, " PRIVMSG #other :")
			if !ok {
				t.Fatalf("!quote in #other: no line with the quote's number after %q", got)
			}
			got += " " + more
		}
		if strings.Contains(got, club.Text) {
			t.Fatalf("#other was served #club's quote: %q", got)
		}
	}
	reply := sayIn(t, alice, "#club", "!addquote Members first. -- The Founder", bob)
	if !strings.HasPrefix(reply, "added quote #") {
		t.Fatalf("a curator's !addquote in #club: %q", reply)
	}
	id := idIn(t, reply)
	if q, err := lib.Quote(ctx, id); err != nil || q.Collection != "club-quotes" {
		t.Errorf("the addition in #club: %+v, %v; want it in club-quotes", q, err)
	}
	if got := sayIn(t, alice, "#club", "!quote stats", bob); !strings.Contains(got, "2 quotes in #club (club-quotes 2)") {
		t.Errorf("!quote stats in #club: %q", got)
	}
	// Provenance: the public part to the channel, the hostmask only to a
	// curator, by NOTICE.
	if got := sayIn(t, bob, "#club", fmt.Sprintf("!quote #%d info", id), alice); !strings.Contains(got, "added by alice in #club via irc on ") || strings.Contains(got, "127.0.0.1") {
		t.Errorf("!quote #%d info for bob: %q", id, got)
	}
	if line, ok := bob.Wait(time.Second, " NOTICE bob :"); ok {
		t.Errorf("bob, no curator, was sent private details: %q", line)
	}
	alice.Send("PRIVMSG #club :!quote #%d info", id)
	if got := alice.Expect(10*time.Second, " NOTICE alice :"); !strings.Contains(got, "added by alice!~alice@127.0.0.1 (account none)") {
		t.Errorf("the curator's private details: %q", got)
	}
}
