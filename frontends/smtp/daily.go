package smtp

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/subscribers"
)

// Daily is the morning mail of the subscriptions: at its time of day, in
// the library's time zone, every confirmed subscriber gets the day's
// quote (of its tag, if it chose one) through the durable queue. Each is
// queued with the key (subscriber, day) in the same transaction
// (queue.RecordOnce): a run that a crash cut short runs again at the next
// start, that same day, and queues only what the first did not. Delivery
// then sends each once, or twice at most when a crash falls between the
// relay's 250 and its record (the queue's sending marks, sendmark.go).
type Daily struct {
	Subs *Subscriptions
	// Hour and Minute are the time of the run, in the calendar's zone
	// (Composer.Calendar).
	Hour, Minute int
	// Rate paces the mail per destination domain, in messages per minute:
	// the n-th message of a run to a domain is due n/Rate minutes after
	// the run, so that a large list does not trip the big providers'
	// limits. 0: no pacing.
	Rate float64
	// After, when set, is told of each finished run (tests).
	After func(day quoter.Date, queued int)
}

// dailyBatch is how many subscribers a run reads and queues at once: one
// commit of the queue for each.
const dailyBatch = 500

// dailyRetry is how long after a failed run the next try comes.
const dailyRetry = time.Minute

// String names the service in the supervisor's logs.
func (d *Daily) String() string { return "smtp-daily" }

// at returns the time of day's run.
func (d *Daily) at(day quoter.Date) time.Time {
	return time.Date(day.Year, day.Month, day.Day, d.Hour, d.Minute, 0, 0, d.Subs.Composer.Calendar.Zone())
}

// Serve runs the daily mail until ctx ends: at start, today's run if its
// time has passed (a run already done queues nothing again), then each day
// at its time.
func (d *Daily) Serve(ctx context.Context) error {
	cal := d.Subs.Composer.Calendar
	for {
		today := cal.Today()
		next := d.at(today)
		if !cal.Time().Before(next) {
			if err := d.Run(ctx, today); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.Subs.log().Error("smtp daily mail run failed; trying again", "day", today.String(), "in", dailyRetry, "err", err)
				if !sleep(ctx, dailyRetry) {
					return nil
				}
				continue
			}
			next = d.at(today.AddDays(1))
		}
		// Wake at the run, or every minute at the latest: the clock may
		// jump (a suspended machine, a test's clock).
		wait := min(max(next.Sub(cal.Time()), 0), time.Minute)
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Run queues day's mail to every confirmed subscriber that has not had
// it, paced per domain from now, and forgets the keys of a week ago. The
// pace holds within a run: messages a run queued before a restart keep
// their due times, and the next run paces only what it queues itself.
func (d *Daily) Run(ctx context.Context, day quoter.Date) error {
	sub := d.Subs
	start := sub.now()
	quotes := map[string]*quoter.Quote{} // by tag
	// The next free slot of each destination domain: a message is due
	// at its domain's slot or now, whichever is later (a long list takes
	// a while to queue: slots counted from the run's start would have
	// passed), and the slot moves one interval on.
	slots := map[string]time.Time{}
	queued, total := 0, 0
	for after := int64(0); ; {
		list, err := sub.Store.Subscribers(ctx, subscribers.Confirmed, after, dailyBatch)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			break
		}
		after = list[len(list)-1].ID
		os := make([]queue.Once, 0, len(list))
		for _, s := range list {
			q, err := d.quote(ctx, quotes, day, s.Tag)
			if err != nil {
				return err
			}
			data, err := d.compose(s, q, day, start)
			if err != nil {
				return err
			}
			o := queue.Once{Key: fmt.Sprintf("daily:%d:%s", s.ID, day), Day: day.String(),
				Entry: queue.Entry{IP: "daily", Sender: "", Rcpt: s.Address, Data: data,
					From: sub.Composer.LocalPart + "+" + cmdBounce + "-" + s.Token + "@" + sub.domain()}}
			if d.Rate > 0 {
				dom := strings.ToLower(domainOf(s.Address))
				due := sub.now()
				if slot := slots[dom]; slot.After(due) {
					due = slot
				}
				o.Entry.Due = due
				slots[dom] = due.Add(time.Duration(float64(time.Minute) / d.Rate))
			}
			os = append(os, o)
		}
		done, err := sub.Store.RecordOnce(ctx, os)
		if err != nil {
			return err
		}
		for _, ok := range done {
			if ok {
				queued++
			}
		}
		total += len(list)
	}
	if err := sub.Store.PruneOnce(ctx, day.AddDays(-7).String()); err != nil {
		return err
	}
	sub.log().Info("smtp daily mail queued", "day", day.String(), "subscribers", total, "queued", queued, "already", total-queued)
	if d.After != nil {
		d.After(day, queued)
	}
	return nil
}

// quote returns day's quote of tag, asked once per run: a tag without a
// quote falls back to the quote of the day.
func (d *Daily) quote(ctx context.Context, cache map[string]*quoter.Quote, day quoter.Date, tag string) (*quoter.Quote, error) {
	if q, ok := cache[tag]; ok {
		return q, nil
	}
	c := d.Subs.Composer
	q, err := c.Quoter.Today(ctx, day, quoter.Filter{Tag: tag})
	if tag != "" && quoter.ErrorCode(err) != "" && quoter.ErrorCode(err) != quoter.EINTERNAL {
		q, err = c.Quoter.Today(ctx, day, quoter.Filter{})
	}
	if quoter.ErrorCode(err) == quoter.EGONE {
		q, err = c.Quoter.Random(ctx, quoter.Filter{})
	}
	if err != nil {
		return nil, fmt.Errorf("daily mail: the quote of %s (tag %q): %w", day, tag, err)
	}
	cache[tag] = q
	return q, nil
}

func domainOf(addr string) string { return addr[strings.LastIndexByte(addr, '@')+1:] }

// compose writes the daily mail of s: the quote, plain text and HTML, the
// card image linked (never attached), and the fields of list mail:
// List-Id, List-Unsubscribe with a mailto and an https URI, and
// List-Unsubscribe-Post for one-click (RFC 2369, 2919, 8058), Precedence:
// list.
func (d *Daily) compose(s subscribers.Subscriber, q *quoter.Quote, day quoter.Date, now time.Time) ([]byte, error) {
	sub := d.Subs
	c := sub.Composer
	domain := sub.domain()
	mailto := "mailto:" + c.LocalPart + "+" + CmdUnsubscribe + "-" + s.Token + "@" + domain + "?subject=unsubscribe"
	unsub := sub.link("/subscriptions/unsubscribe", s.Token)
	listUnsub := "<" + mailto + ">"
	// A list-id is a dot-atom, not an address (RFC 2919 §2).
	fields := [][2]string{{"List-Id", `"` + DisplayName + `" <` + c.LocalPart + "." + domain + ">"}}
	if unsub != "" {
		listUnsub += ", <" + unsub + ">"
	}
	fields = append(fields, [2]string{"List-Unsubscribe", listUnsub})
	if unsub != "" {
		fields = append(fields, [2]string{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"})
	}
	fields = append(fields, [2]string{"Precedence", "list"})
	subject := "Quote of the day, " + day.Time(time.UTC).Format("Monday 2 January 2006")
	if s.Tag != "" {
		subject += " (" + SanitizeSubject(s.Tag) + ")"
	}

	var text, htm strings.Builder
	text.WriteString(q.Render() + "\n\n")
	htm.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n")
	htm.WriteString("<blockquote style=\"white-space: pre-wrap\">" + html.EscapeString(q.Text) + "</blockquote>\n")
	htm.WriteString("<p>&mdash; " + html.EscapeString(q.Attribution()) + "</p>\n")
	if sub.BaseURL != "" {
		page := fmt.Sprintf("%s/quotes/%d", sub.BaseURL, q.ID)
		card := page + ".png"
		text.WriteString("On the web: " + page + "\nAs a card: " + card + "\n\n")
		htm.WriteString(`<p><a href="` + html.EscapeString(page) + `"><img src="` + html.EscapeString(card) +
			`" alt="The quote as a card" width="600" style="max-width: 100%; height: auto"></a></p>` + "\n")
	}
	text.WriteString("-- \nYou get this mail because " + s.Address + " subscribed to the quote of the day.\n")
	htm.WriteString("<hr>\n<p>You get this mail because " + html.EscapeString(s.Address) + " subscribed to the quote of the day. ")
	if unsub != "" {
		text.WriteString("Unsubscribe: " + unsub + "\n")
		htm.WriteString(`<a href="` + html.EscapeString(unsub) + `">Unsubscribe</a>.</p>` + "\n")
	} else {
		text.WriteString("To unsubscribe, reply with the subject \"unsubscribe\".\n")
		htm.WriteString("To unsubscribe, reply with the subject &ldquo;unsubscribe&rdquo;.</p>\n")
	}
	htm.WriteString("</body></html>\n")
	return c.composeList(listMail{
		domain: domain, to: s.Address, subject: subject, fields: fields,
		autoSubmitted: "auto-generated", text: text.String(), html: htm.String(),
	}, now)
}
