package smtp

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/subscribers"
)

// Reasons a message about a subscription gets no reply (labels of the
// skipped-replies counter, as the Skip* reasons of policy.go).
const (
	// SkipSubscription: the message confirmed or ended a subscription,
	// or asked for one already confirmed; none of these is answered.
	SkipSubscription = "subscription"
	// SkipConfirmationLimit: a subscribe whose confirmation request is
	// not sent, because the address had one today already, or a daily
	// reply cap refused it. A forged subscribe costs its victim at most
	// one mail a day.
	SkipConfirmationLimit = "confirmation_limit"
	// SkipBounce: a delivery status notification to a bounce address.
	SkipBounce = "bounce"
)

// Subscription commands, in a subject ("subscribe poetry", "confirm
// TOKEN", "unsubscribe") or a subaddress (quote+subscribe@,
// quote+confirm-TOKEN@, quote+unsubscribe-TOKEN@, and the bounce
// addresses quote+bounce-TOKEN@).
const (
	CmdSubscribe   = "subscribe"
	CmdConfirm     = "confirm"
	CmdUnsubscribe = "unsubscribe"
	cmdBounce      = "bounce"
)

// SubscriberStore is what subscriptions need of the queue (*queue.Queue):
// the subscribers live in its database, and the mail to them is queued
// there keyed, so that each is queued once (RecordOnce).
type SubscriberStore interface {
	subscribers.Store
	Subscribe(ctx context.Context, address, tag string) (subscribers.Subscriber, error)
	UnsubscribeAddress(ctx context.Context, address string) (bool, error)
	Bounce(ctx context.Context, token string, limit int) (subscribers.Subscriber, error)
	Subscribers(ctx context.Context, state subscribers.State, after int64, limit int) ([]subscribers.Subscriber, error)
	RecordOnce(ctx context.Context, os []queue.Once) ([]bool, error)
	PruneOnce(ctx context.Context, day string) error
}

var _ SubscriberStore = (*queue.Queue)(nil)

// DefaultBounceLimit is how many hard bounces end a subscription.
const DefaultBounceLimit = 3

// Subscriptions are the mail subscriptions: double opt-in by mail (or by
// the web form, Request), confirmation and unsubscription by mail, and
// the bounces of the daily mail (bounce.go). The daily mail itself is
// Daily's.
type Subscriptions struct {
	Store     SubscriberStore
	Composer  *Composer
	Addresses Addresses
	// BaseURL is the web site's public URL, without a final slash, for
	// the links of the mail (confirm, unsubscribe, the quote and its
	// card); "" leaves the links out.
	BaseURL     string
	BounceLimit int // hard bounces that end a subscription
	Log         *slog.Logger
	Now         func() time.Time // nil: time.Now
}

func (sub *Subscriptions) now() time.Time {
	if sub.Now != nil {
		return sub.Now()
	}
	return time.Now()
}

func (sub *Subscriptions) log() *slog.Logger {
	if sub.Log != nil {
		return sub.Log
	}
	return slog.New(slog.DiscardHandler)
}

// domain returns the domain the subscriptions' mail comes from: the first
// of ours.
func (sub *Subscriptions) domain() string {
	if len(sub.Addresses.Domains) > 0 {
		return sub.Addresses.Domains[0]
	}
	return "localhost"
}

// SubscriptionCommand tells whether a message is about a subscription:
// the command (CmdSubscribe, CmdConfirm, CmdUnsubscribe, "bounce", or ""
// for none) and its argument (the tag of a subscribe, lower case; the
// token of the others, "" when an unsubscribe names none). subaddress is
// the recipient's, lower case; refs are the message's In-Reply-To and
// References, which name the confirmation request a reply answers.
func SubscriptionCommand(subaddress, subject string, refs []string) (cmd, arg string) {
	if tok, ok := strings.CutPrefix(subaddress, cmdBounce+"-"); ok {
		return cmdBounce, tok
	}
	if tok, ok := strings.CutPrefix(subaddress, CmdConfirm+"-"); ok && subscribers.ValidToken(tok) {
		return CmdConfirm, tok
	}
	if tok, ok := strings.CutPrefix(subaddress, CmdUnsubscribe+"-"); ok && subscribers.ValidToken(tok) {
		return CmdUnsubscribe, tok
	}
	words := strings.Fields(strings.ToLower(stripReplyPrefixes(subject)))
	first := ""
	if len(words) > 0 {
		first = words[0]
	}
	switch {
	case subaddress == CmdSubscribe || subaddress == "" && first == CmdSubscribe:
		if first == CmdSubscribe && len(words) > 1 && len(words[1]) <= 64 {
			return CmdSubscribe, words[1]
		}
		return CmdSubscribe, ""
	case subaddress == CmdUnsubscribe || subaddress == "" && first == CmdUnsubscribe:
		if tok := tokenAfter(words, CmdUnsubscribe); tok != "" {
			return CmdUnsubscribe, tok
		}
		return CmdUnsubscribe, ""
	}
	// A reply to the confirmation request: its subject carries "confirm
	// TOKEN" (after the "Re:" and whatever the request said first), or
	// its In-Reply-To names the request.
	if tok := tokenAfter(words, CmdConfirm); tok != "" && subaddress == "" {
		return CmdConfirm, tok
	}
	for _, r := range refs {
		for _, id := range strings.Fields(r) {
			id = strings.Trim(id, "<>")
			if rest, ok := strings.CutPrefix(id, confirmIDPrefix); ok && len(rest) > subscribers.TokenLen &&
				subscribers.ValidToken(rest[:subscribers.TokenLen]) {
				return CmdConfirm, rest[:subscribers.TokenLen]
			}
		}
	}
	return "", ""
}

// tokenAfter returns the token that follows the word keyword in words, if
// any; words may carry punctuation around them ("(confirm", "TOKEN)").
func tokenAfter(words []string, keyword string) string {
	for i := 0; i+1 < len(words); i++ {
		if strings.Trim(words[i], "([<:,.;)]>") == keyword {
			if tok := strings.Trim(words[i+1], "([<:,.;)]>"); subscribers.ValidToken(tok) {
				return tok
			}
		}
	}
	return ""
}

// confirmIDPrefix starts the Message-ID of a confirmation request, which
// the token follows: the In-Reply-To of a reply names it.
const confirmIDPrefix = "confirm."

// Handle carries out a subscription command of a message that the reply
// policy accepted (ShouldReply returned ""), from sender, received from
// the client ip at our domain. It returns why no reply is queued, or ""
// when a confirmation request is.
func (sub *Subscriptions) Handle(ctx context.Context, ip, sender, domain, cmd, arg string) (skip string, err error) {
	switch cmd {
	case CmdSubscribe:
		return sub.subscribe(ctx, ip, sender, domain, arg)
	case CmdConfirm:
		s, err := sub.Store.Confirm(ctx, arg)
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			sub.log().Info("smtp subscription: confirmation with an unknown token", "sender", sender, "ip", ip)
			return SkipSubscription, nil
		}
		if err != nil {
			return "", err
		}
		sub.log().Info("smtp subscription confirmed", "address", s.Address, "state", s.State, "by", "mail")
		return SkipSubscription, nil
	case CmdUnsubscribe:
		if arg == "" {
			ok, err := sub.Store.UnsubscribeAddress(ctx, sender)
			if err != nil {
				return "", err
			}
			sub.log().Info("smtp subscription ended", "address", strings.ToLower(sender), "by", "mail", "was_subscribed", ok)
			return SkipSubscription, nil
		}
		s, err := sub.Store.Unsubscribe(ctx, arg)
		if quoter.ErrorCode(err) == quoter.ENOTFOUND {
			return SkipSubscription, nil
		}
		if err != nil {
			return "", err
		}
		sub.log().Info("smtp subscription ended", "address", s.Address, "by", "mail")
		return SkipSubscription, nil
	}
	return "", fmt.Errorf("smtp: unknown subscription command %q", cmd)
}

// subscribe starts (or renews) the double opt-in of sender: one
// confirmation request a day at most.
func (sub *Subscriptions) subscribe(ctx context.Context, ip, sender, domain, tag string) (skip string, err error) {
	s, err := sub.Store.Subscribe(ctx, sender, tag)
	if err != nil {
		return "", err
	}
	if s.State == subscribers.Confirmed {
		sub.log().Info("smtp subscription: already confirmed", "address", s.Address, "tag", s.Tag)
		return SkipSubscription, nil
	}
	queued, err := sub.requestConfirmation(ctx, ip, sender, domain, s)
	if err != nil {
		return "", err
	}
	if !queued {
		return SkipConfirmationLimit, nil
	}
	sub.log().Info("smtp subscription: confirmation requested", "address", s.Address, "tag", s.Tag)
	return "", nil
}

// Request starts the double opt-in of address from the web form (see
// subscribers.Requester): the same single confirmation request a day.
func (sub *Subscriptions) Request(ctx context.Context, address, tag, client string) error {
	if ShouldReply(Inbound{Sender: address}, sub.Addresses.IsOwn) != "" {
		return quoter.Errorf(quoter.EINVALID, "not an address quotesd can write to")
	}
	if len(tag) > 64 || strings.ContainsAny(tag, " \t\r\n") {
		return quoter.Errorf(quoter.EINVALID, "a tag is one word")
	}
	s, err := sub.Store.Subscribe(ctx, address, strings.ToLower(tag))
	if err != nil || s.State == subscribers.Confirmed {
		return err
	}
	queued, err := sub.requestConfirmation(ctx, client, address, sub.domain(), s)
	if err == nil {
		sub.log().Info("web subscription: confirmation requested", "address", s.Address, "tag", s.Tag, "client_ip", client, "sent", queued)
	}
	return err
}

var _ subscribers.Requester = (*Subscriptions)(nil)

// requestConfirmation queues the confirmation request of s, unless its
// address had one today (or a daily reply cap refuses it).
func (sub *Subscriptions) requestConfirmation(ctx context.Context, ip, sender, domain string, s subscribers.Subscriber) (bool, error) {
	now := sub.now()
	day := sub.Composer.Calendar.Today().String()
	data, err := sub.confirmation(domain, s, now)
	if err != nil {
		return false, err
	}
	queued, err := sub.Store.RecordOnce(ctx, []queue.Once{{
		Key: "confirm:" + s.Address + ":" + day, Day: day, Capped: true,
		Entry: queue.Entry{IP: ip, Sender: sender, Rcpt: s.Address, Data: data},
	}})
	if err != nil {
		return false, err
	}
	return queued[0], nil
}

// link returns the URL of the web route path with the token, or "" when
// there is no BaseURL.
func (sub *Subscriptions) link(path, token string) string {
	if sub.BaseURL == "" {
		return ""
	}
	return sub.BaseURL + path + "?token=" + url.QueryEscape(token)
}

// confirmation composes the confirmation request to s.
func (sub *Subscriptions) confirmation(domain string, s subscribers.Subscriber, now time.Time) ([]byte, error) {
	c := sub.Composer
	what := "the quote of the day"
	if s.Tag != "" {
		what = fmt.Sprintf("the quote of the day tagged %q", s.Tag)
	}
	confirmAddr := c.LocalPart + "+" + CmdConfirm + "-" + s.Token + "@" + domain
	link := sub.link("/subscriptions/confirm", s.Token)
	var text, htm strings.Builder
	fmt.Fprintf(&text, "Someone, hopefully you, asked for %s by mail, every morning, at %s.\n\n", what, s.Address)
	fmt.Fprintf(&htm, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n<p>Someone, hopefully you, asked for %s by mail, every morning, at %s.</p>\n",
		html.EscapeString(what), html.EscapeString(s.Address))
	text.WriteString("To confirm, reply to this mail")
	htm.WriteString("<p>To confirm, reply to this mail")
	if link != "" {
		text.WriteString(", or open this link:\n\n  " + link + "\n\n")
		htm.WriteString(`, or <a href="` + html.EscapeString(link) + `">confirm here</a>.</p>` + "\n")
	} else {
		text.WriteString(".\n\n")
		htm.WriteString(".</p>\n")
	}
	text.WriteString("If it was not you, ignore this mail: nothing more will come.\n")
	htm.WriteString("<p>If it was not you, ignore this mail: nothing more will come.</p>\n</body></html>\n")
	id, err := messageID(domain)
	if err != nil {
		return nil, err
	}
	return c.composeList(listMail{
		domain: domain, to: s.Address,
		subject:       "Confirm your subscription: confirm " + s.Token,
		messageID:     confirmIDPrefix + s.Token + "." + id,
		fields:        [][2]string{{"Reply-To", mailAddress(DisplayName, confirmAddr)}},
		autoSubmitted: "auto-replied",
		text:          text.String(), html: htm.String(),
	}, now)
}
