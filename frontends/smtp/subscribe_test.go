package smtp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
	"github.com/quotesd/quotesd/subscribers"
)

const tok = "0123456789abcdef0123456789abcdef"

func TestSubscriptionCommand_ReadsSubjectsSubaddressesAndReplies(t *testing.T) {
	tests := []struct {
		name, sub, subject string
		refs               []string
		cmd, arg           string
	}{
		{"Subscribe", "", "subscribe", nil, smtpfe.CmdSubscribe, ""},
		{"SubscribeTag", "", "Subscribe Poetry", nil, smtpfe.CmdSubscribe, "poetry"},
		{"SubscribeSubaddress", "subscribe", "hello", nil, smtpfe.CmdSubscribe, ""},
		{"Unsubscribe", "", "unsubscribe", nil, smtpfe.CmdUnsubscribe, ""},
		{"UnsubscribeToken", "", "unsubscribe " + tok, nil, smtpfe.CmdUnsubscribe, tok},
		{"UnsubscribeMailto", "unsubscribe-" + tok, "unsubscribe", nil, smtpfe.CmdUnsubscribe, tok},
		{"ConfirmReplySubject", "", "Re: Confirm your subscription: confirm " + tok, nil, smtpfe.CmdConfirm, tok},
		{"ConfirmReplyTo", "confirm-" + tok, "Re: whatever", nil, smtpfe.CmdConfirm, tok},
		{"ConfirmInReplyTo", "", "Re: hi", []string{"<confirm." + tok + ".qotd.abc@quotes.test>"}, smtpfe.CmdConfirm, tok},
		{"Bounce", "bounce-" + tok, "Undelivered Mail", nil, "bounce", tok},
		{"NotATokenIsNoConfirmation", "", "confirm 1234", nil, "", ""},
		{"Today", "", "today poetry", nil, "", ""},
		{"Random", "random", "", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, arg := smtpfe.SubscriptionCommand(tt.sub, tt.subject, tt.refs)
			if cmd != tt.cmd || arg != tt.arg {
				t.Errorf("SubscriptionCommand(%q, %q, %q) = %q, %q; want %q, %q", tt.sub, tt.subject, tt.refs, cmd, arg, tt.cmd, tt.arg)
			}
		})
	}
}

func dsn(action, status string) string {
	return "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; ann@example.org\r\nAction: " + action + "\r\nStatus: " + status + " (mailbox unknown)\r\n\r\n" +
		"--b--\r\n"
}

func TestHardBounce_OnlyAPermanentFailureInADeliveryStatusReport(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want bool
	}{
		{"Failed5xx", dsn("failed", "5.1.1"), true},
		{"Delayed4xx", dsn("delayed", "4.4.1"), false},
		{"Failed4xx", dsn("failed", "4.2.2"), false},
		{"Relayed", dsn("relayed", "2.0.0"), false},
		{"VacationReply", "From: ann@example.org\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n", false},
		{"PlainTextBounce", "From: MAILER-DAEMON@x.example\r\nContent-Type: text/plain\r\n\r\nStatus: 5.1.1\r\n", false},
		{"Garbage", "\x00\x01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := smtpfe.HardBounce([]byte(tt.msg)); got != tt.want {
				t.Errorf("HardBounce = %v, want %v", got, tt.want)
			}
		})
	}
}

// fakeClock is a clock tests move.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// The daily mail runs at its time in the calendar's zone, not before, and
// a second run of the day (a restart) queues nothing again.
func TestDaily_RunsAtItsTimeInTheCalendarZoneAndOncePerSubscriber(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	clock := &fakeClock{t: time.Date(2026, 12, 7, 6, 59, 59, 0, paris)}
	cal := &quoter.Calendar{Location: paris, Now: clock.Now}
	q, err := queue.Open(t.TempDir(), queue.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	for _, a := range []string{"ann@example.org", "bob@example.net"} {
		if _, err := q.AddSubscriber(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
	}
	ran := make(chan int, 4)
	sub := &smtpfe.Subscriptions{Store: q, Addresses: smtpfe.Addresses{LocalPart: "quote", Domains: []string{"quotes.test"}},
		BaseURL: "https://quotes.test", Now: clock.Now,
		Composer: &smtpfe.Composer{Quoter: quotertest.NewLibrary(t), Calendar: cal, LocalPart: "quote"}}
	d := &smtpfe.Daily{Subs: sub, Hour: 7, Minute: 0, After: func(_ quoter.Date, n int) { ran <- n }}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- d.Serve(sctx) }()
	select {
	case <-ran:
		t.Fatal("the daily mail ran at 06:59:59")
	case <-time.After(300 * time.Millisecond):
	}
	clock.Set(time.Date(2026, 12, 7, 7, 0, 0, 0, paris))
	select {
	case n := <-ran:
		if n != 2 {
			t.Errorf("the 07:00 run queued %d messages, want 2", n)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no run within 3 s of 07:00")
	}
	cancel()
	<-done
	if err := d.Run(ctx, cal.Today()); err != nil {
		t.Fatal(err)
	}
	if n := <-ran; n != 0 {
		t.Errorf("a second run of the day queued %d messages, want 0", n)
	}
	if queued, _, _, err := q.Counts(ctx); err != nil || queued != 2 {
		t.Errorf("%d messages queued (%v), want 2", queued, err)
	}
}

// An auto-responder answering the confirmation request (to its Reply-To,
// with its subject) confirms nothing; an unsubscribe carrying its token
// is honoured even when a machine sends it (a provider's automated
// List-Unsubscribe mailto), and neither is answered.
func TestSMTP_AutoRepliesConfirmNothingButTokenUnsubscribesWork(t *testing.T) {
	h := newHarness(t, withSubscriptions)
	ctx := context.Background()
	s, err := h.q.Subscribe(ctx, "ann@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	auto := "Subject: Out of office: Confirm your subscription: confirm " + s.Token + "\nAuto-Submitted: auto-replied\n\nAway.\n"
	mustSend(t, h.addr, "ann@example.org", []string{"quote+confirm-" + s.Token + "@quotes.test"}, auto)
	if got, err := h.q.SubscriberByToken(ctx, s.Token); err != nil || got.State != subscribers.Pending {
		t.Errorf("after an auto-reply to the confirmation request: %+v %v, want still pending", got, err)
	}
	if _, err := h.q.Confirm(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	oneClick := "Subject: unsubscribe\nAuto-Submitted: auto-generated\n\n"
	mustSend(t, h.addr, "unsubscribe-robot@mail.example.net", []string{"quote+unsubscribe-" + s.Token + "@quotes.test"}, oneClick)
	if got, err := h.q.SubscriberByToken(ctx, s.Token); err != nil || got.State != subscribers.Unsubscribed {
		t.Errorf("after an automated unsubscribe with the token: %+v %v, want unsubscribed", got, err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.sink.Messages()); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
}
