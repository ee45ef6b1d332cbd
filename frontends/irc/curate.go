package irc

// Curation from IRC: adding, grabbing, editing and deleting quotes, the
// moderation queue, and what the library says about itself (stats, a
// quote's provenance). Who may do what is curator.go's; the rules about
// quotes (validation, duplicates) are the core's, whose messages are
// answered as they are.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/chat"
	"github.com/quotesd/quotesd/quoter"
)

// itemSep separates the items of a private reply. It is NUL, which no
// quote holds (the core refuses control characters), so a quote's own line
// breaks never split an item.
const itemSep = "\x00"

// curate answers a curation command (see chat.IsCuration): the reply to where it
// came from, and a private reply to its sender, sent by NOTICE, one line
// per item (items are separated by itemSep).
func (s *session) curate(ctx context.Context, j job) (reply, private string) {
	c := j.cmd
	if c.Err != "" {
		return c.Err, ""
	}
	switch c.Kind {
	case chat.KindStats:
		return s.stats(ctx, j), ""
	case chat.KindInfo:
		return s.info(ctx, j)
	case chat.KindAdd, chat.KindGrab:
		return s.add(ctx, j), ""
	case chat.KindDelete, chat.KindEdit:
		return s.change(ctx, j), ""
	case chat.KindApprove, chat.KindReject:
		return s.decide(ctx, j), ""
	case chat.KindPending:
		return s.pending(ctx, j)
	}
	return "", ""
}

// provenance is how j's sender is recorded in the library.
func (j job) provenance(via string) quoter.Provenance {
	return quoter.Provenance{By: j.from.Nick, Via: via, Channel: j.channel, Mask: j.from.Mask, Account: j.from.Account}
}

// personKey identifies j's sender for the daily cap: the account when the
// server vouches for one, else user@host (a nick changes in a moment).
func (p person) key() string {
	if p.Account != "" {
		return "account:" + ircLower(p.Account)
	}
	if _, uh, ok := strings.Cut(p.Mask, "!"); ok {
		return ircLower(uh)
	}
	return ircLower(p.Nick)
}

// capped takes a change (an addition, grab, submission, edit or deletion)
// from the sender's daily cap and reports whether it must stop there, and
// what to answer then: the limit the first time it is hit in a day, and
// then nothing, so a flood is not answered. A curator's decisions on the
// queue are not changes of theirs: one who clears a queue of fifty must
// not be stopped at twenty.
func (s *session) capped(j job) (answer string, stop bool) {
	limit := s.b.inForce.Load().CurationCap
	ok, first := s.b.changes.Take(j.from.key(), s.b.cal.Today(), limit)
	switch {
	case ok:
		return "", false
	case first:
		return fmt.Sprintf("%s: that is your %d changes for today; more tomorrow", j.from.Nick, limit), true
	}
	s.b.stats.dropped.WithLabelValues(chat.DropDailyCap).Inc()
	s.b.log.Debug("irc change dropped", "reason", "daily cap", "nick", chat.Sanitize(j.from.Nick))
	return "", true
}

// add answers !addquote and !grab: a curator's quote is added at once,
// anyone else's goes to the moderation queue.
func (s *session) add(ctx context.Context, j job) string {
	c := j.cmd
	ch, ok := s.b.channel(j.channel)
	if !ok || j.channel == "" {
		name := map[string]string{chat.KindAdd: "addquote", chat.KindGrab: "grab"}[c.Kind]
		return s.b.commandPrefix() + name + " works in the bot's channels: its quotes go to the channel's collection"
	}
	q := quoter.Quote{Text: c.Text, Author: c.Author, Collection: ch.home()}
	via := quoter.ViaIRC
	if c.Kind == chat.KindGrab {
		if strings.EqualFold(ircLower(c.Nick), ircLower(j.from.Nick)) {
			return "you can't grab your own line"
		}
		if s.isMe(c.Nick) {
			return "I don't grab my own lines"
		}
		l, ok := s.b.lines.last(j.channel, c.Nick)
		if !ok {
			return fmt.Sprintf("I have no line of %s's in %s", c.Nick, j.channel)
		}
		q.Text, q.Author, via = l.Text, l.Nick, quoter.ViaGrab
		prov := j.provenance(via)
		prov.Grabbed = l.At
		return s.store(ctx, j, q, prov)
	}
	return s.store(ctx, j, q, j.provenance(via))
}

// store adds q for a curator, or submits it for review.
func (s *session) store(ctx context.Context, j job, q quoter.Quote, prov quoter.Provenance) string {
	if answer, stop := s.capped(j); stop {
		return answer
	}
	if !s.b.isCurator(j.from, j.channel, q.Collection) {
		sub := &quoter.Submission{Quote: q, From: prov}
		if err := s.b.q.Submit(ctx, sub); err != nil {
			return s.refusal(err, "")
		}
		s.b.log.Info("irc quote submitted", "submission", sub.ID, "by", prov.Mask, "account", prov.Account, "channel", prov.Channel)
		return fmt.Sprintf("submitted for review (#s%d)", sub.ID)
	}
	if err := s.ensureCollection(ctx, q.Collection); err != nil {
		return s.refusal(err, "")
	}
	q.AddedBy = prov
	if err := s.b.q.Add(ctx, &q); err != nil {
		return s.refusal(err, "")
	}
	s.b.log.Info("irc quote added", "id", q.ID, "via", prov.Via, "by", prov.Mask, "account", prov.Account, "channel", prov.Channel)
	if prov.Via == quoter.ViaGrab {
		return fmt.Sprintf("grabbed %s's line as quote #%d", q.Author, q.ID)
	}
	return fmt.Sprintf("added quote #%d", q.ID)
}

// ensureCollection creates a channel's collection named in --irc-channels
// that the library does not have yet, as a private one: a channel's own
// quotes are served only where they are configured until someone makes
// the collection public. One that exists is left as it is.
func (s *session) ensureCollection(ctx context.Context, name string) error {
	cols, err := s.b.q.Collections(ctx)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if c.Name == name {
			return nil
		}
	}
	if name == quoter.DefaultCollection {
		return nil
	}
	if err := s.b.q.SetCollection(ctx, quoter.Collection{Name: name, Private: true}); err != nil {
		return err
	}
	s.b.log.Info("irc created a private collection", "collection", name)
	return nil
}

// change answers !delquote and !editquote, which only curators of the
// quote's collection may use.
func (s *session) change(ctx context.Context, j job) string {
	c := j.cmd
	lib, err := s.view(ctx, j.channel)
	if err != nil {
		return s.refusal(err, "")
	}
	q, err := s.b.q.Quote(ctx, c.ID)
	if err == nil && !lib.Visible(q.Collection) {
		err = quoter.Errorf(quoter.ENOTFOUND, "not served here")
	}
	if err != nil {
		return s.refusal(err, fmt.Sprintf("no quote #%d", c.ID))
	}
	verb := map[string]string{chat.KindDelete: "delete", chat.KindEdit: "edit"}[c.Kind]
	if !s.b.isCurator(j.from, j.channel, q.Collection) {
		return fmt.Sprintf("only curators can %s quotes", verb)
	}
	if answer, stop := s.capped(j); stop {
		return answer
	}
	if c.Kind == chat.KindDelete {
		if err := s.b.q.Delete(ctx, c.ID); err != nil {
			return s.refusal(err, fmt.Sprintf("no quote #%d", c.ID))
		}
		s.b.log.Info("irc quote deleted", "id", c.ID, "by", j.from.Mask, "account", j.from.Account)
		return fmt.Sprintf("deleted quote #%d", c.ID)
	}
	u := quoter.Update{Text: &c.Text, By: j.provenance(quoter.ViaIRC)}
	if c.Author != "" {
		u.Author = &c.Author
	}
	if _, err := s.b.q.Update(ctx, c.ID, u); err != nil {
		return s.refusal(err, fmt.Sprintf("no quote #%d", c.ID))
	}
	s.b.log.Info("irc quote edited", "id", c.ID, "by", j.from.Mask, "account", j.from.Account)
	return fmt.Sprintf("edited quote #%d", c.ID)
}

// decide answers !approve and !reject, which only curators of the
// submission's collection may use.
func (s *session) decide(ctx context.Context, j job) string {
	c := j.cmd
	sub, err := s.b.q.Submission(ctx, c.ID)
	if err != nil {
		return s.refusal(err, fmt.Sprintf("no submission s%d", c.ID))
	}
	col := sub.Quote.Collection
	if col == "" {
		col = quoter.DefaultCollection
	}
	if !s.b.isCurator(j.from, j.channel, col) {
		return "only curators can " + c.Kind + " submissions"
	}
	by := j.provenance(quoter.ViaIRC)
	if c.Kind == chat.KindReject {
		if err := s.b.q.Reject(ctx, c.ID, by, c.Reason); err != nil {
			return s.refusal(err, fmt.Sprintf("no submission s%d", c.ID))
		}
		s.b.log.Info("irc submission rejected", "submission", c.ID, "by", by.Mask, "account", by.Account)
		return fmt.Sprintf("rejected s%d", c.ID)
	}
	if err := s.ensureCollection(ctx, col); err != nil {
		return s.refusal(err, "")
	}
	q, err := s.b.q.Approve(ctx, c.ID, by, nil)
	if err != nil {
		return s.refusal(err, fmt.Sprintf("no submission s%d", c.ID))
	}
	s.b.log.Info("irc submission approved", "submission", c.ID, "id", q.ID, "by", by.Mask, "account", by.Account)
	return fmt.Sprintf("approved s%d: quote #%d", c.ID, q.ID)
}

// refusal maps a library error for a change to what the user is told: the
// not-found text given, or the core's own message for invalid input, a
// duplicate ("already quote #42") and a purged quote. Anything else is
// logged and answered with silence, as failure does.
func (s *session) refusal(err error, notFound string) string {
	if quoter.ErrorCode(err) == quoter.ECONFLICT {
		return quoter.ErrorMessage(err)
	}
	return s.failure(err, notFound)
}

// stats answers !quote stats: the size of what is served where it was
// asked, and how many submissions wait for review.
func (s *session) stats(ctx context.Context, j job) string {
	lib, err := s.view(ctx, j.channel)
	if err != nil {
		return s.failure(err, "")
	}
	var parts []string
	total := 0
	for _, c := range lib.All {
		if lib.Serves(c.Name) && c.Quotes > 0 {
			total += c.Quotes
			parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Quotes))
		}
	}
	_, pending, err := s.b.q.Submissions(ctx, quoter.Pending, quoter.Page{Limit: 1})
	if err != nil {
		return s.failure(err, "")
	}
	where := "here"
	if j.channel != "" {
		where = "in " + j.channel
	}
	if len(parts) > 0 {
		where += " (" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("%d quotes %s; %d awaiting review", total, where, pending)
}

// info answers !quote #<id> info: who added the quote, how, where and
// when, and who last edited it. The hostmasks and accounts behind those
// names go only to a curator of the quote's collection, by NOTICE.
func (s *session) info(ctx context.Context, j job) (reply, private string) {
	lib, err := s.view(ctx, j.channel)
	if err != nil {
		return s.failure(err, ""), ""
	}
	q, err := s.b.q.Quote(ctx, j.cmd.ID)
	if err == nil && !lib.Visible(q.Collection) {
		err = quoter.Errorf(quoter.ENOTFOUND, "not served here")
	}
	if err != nil {
		return s.failure(err, fmt.Sprintf("no quote #%d", j.cmd.ID)), ""
	}
	reply = fmt.Sprintf("#%d in %s: %s", q.ID, q.Collection, describe("added", q.AddedBy, q.Added))
	if !q.EditedBy.IsZero() || !q.Modified.IsZero() {
		reply += "; " + describe("edited", q.EditedBy, q.Modified)
	}
	if s.b.isCurator(j.from, j.channel, q.Collection) {
		var who []string
		for _, p := range []struct {
			what string
			o    quoter.Provenance
		}{{"added by", q.AddedBy}, {"edited by", q.EditedBy}} {
			if p.o.Mask != "" || p.o.Account != "" {
				who = append(who, fmt.Sprintf("%s %s (account %s)", p.what, orNone(p.o.Mask), orNone(p.o.Account)))
			}
		}
		if len(who) > 0 {
			private = fmt.Sprintf("#%d %s", q.ID, strings.Join(who, "; "))
		}
	}
	return reply, private
}

// describe says publicly what o records of an action done at t: "added by
// alice in #club via irc on 2026-12-07, a line said 2026-12-07 14:03 UTC".
func describe(what string, o quoter.Provenance, t time.Time) string {
	o = o.Public()
	s := what
	if o.By != "" {
		s += " by " + o.By
	}
	if o.Channel != "" {
		s += " in " + o.Channel
	}
	switch {
	case o.File != "" && o.Line > 0:
		s += fmt.Sprintf(" from %s line %d", o.File, o.Line)
	case o.File != "":
		s += " from " + o.File
	}
	if o.Via != "" {
		s += " via " + o.Via
	}
	if !t.IsZero() {
		s += " on " + t.UTC().Format("2006-01-02")
	}
	if !o.Grabbed.IsZero() {
		s += ", a line said " + o.Grabbed.UTC().Format("2006-01-02 15:04 MST")
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// maxPendingShown is how many submissions !pending sends.
const maxPendingShown = 5

// pending answers !pending: to a curator, by NOTICE, the newest
// submissions awaiting review among those they may decide, one a line;
// the channel learns only how many there are. What waits for review is
// not shown to everyone: keeping it unpublished is the point of the queue.
func (s *session) pending(ctx context.Context, j job) (reply, private string) {
	subs, _, err := s.b.q.Submissions(ctx, quoter.Pending, quoter.Page{Limit: quoter.MaxLimit})
	if err != nil {
		return s.failure(err, ""), ""
	}
	home := quoter.DefaultCollection
	if ch, ok := s.b.channel(j.channel); ok {
		home = ch.home()
	}
	var mine []string
	n := 0
	for _, sub := range subs {
		col := sub.Quote.Collection
		if col == "" {
			col = quoter.DefaultCollection
		}
		if !s.b.isCurator(j.from, j.channel, col) {
			continue
		}
		n++
		if len(mine) < maxPendingShown {
			mine = append(mine, fmt.Sprintf("%s in %s from %s: %s — %s", quoter.SubmissionID(sub.ID), col, orNone(sub.From.By), sub.Quote.Text, sub.Quote.Author))
		}
	}
	switch {
	case n == 0 && !s.b.isCurator(j.from, j.channel, home):
		return "only curators can list submissions", ""
	case n == 0:
		return "nothing awaits review", ""
	}
	return fmt.Sprintf("%d awaiting review; the newest %d sent to %s by notice", n, len(mine), j.from.Nick), strings.Join(mine, itemSep)
}
