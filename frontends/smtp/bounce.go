package smtp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/emersion/go-message"

	"github.com/quotesd/quotesd/quoter"
)

// maxReportParts bounds the parts of a report looked at for its
// delivery-status part (RFC 3464 puts it second).
const maxReportParts = 5

// HardBounce reports whether msg is a delivery status notification (RFC
// 3464: a multipart/report of report-type delivery-status) that says a
// recipient failed for good: an Action of failed, or none, with a Status
// of class 5 (RFC 3463). Anything else (a delay, a temporary failure, an
// auto-reply, a bounce in no standard format) is not a hard bounce.
func HardBounce(msg []byte) bool {
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil && !message.IsUnknownCharset(err) {
		return false
	}
	typ, params, err := e.Header.ContentType()
	if err != nil || typ != "multipart/report" || !strings.EqualFold(params["report-type"], "delivery-status") {
		return false
	}
	mr := e.MultipartReader()
	if mr == nil {
		return false
	}
	for i := 0; i < maxReportParts; i++ {
		p, err := mr.NextPart()
		if err != nil {
			return false
		}
		if t, _, _ := p.Header.ContentType(); t == "message/delivery-status" || t == "message/global-delivery-status" {
			return failedPermanently(p.Body)
		}
	}
	return false
}

// failedPermanently reads the fields of a delivery-status body: a
// per-message group, then a group per recipient, each a block of header
// fields. One recipient failed for good is enough: the bounce address
// names one subscriber, and the message had one recipient.
func failedPermanently(r io.Reader) bool {
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	action, status := "", ""
	check := func() bool {
		hard := strings.HasPrefix(status, "5.") && (action == "" || action == "failed")
		action, status = "", ""
		return hard
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			if check() {
				return true
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.ToLower(strings.TrimSpace(v))
		if i := strings.IndexAny(v, " \t("); i >= 0 {
			v = v[:i]
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "action":
			action = v
		case "status":
			status = v
		}
	}
	return check()
}

// bounce counts a hard bounce of the daily mail to the subscriber whose
// token the bounce address (quote+bounce-TOKEN@) carries. A message to a
// bounce address is never answered, whatever it is.
func (sub *Subscriptions) bounce(ctx context.Context, token string, msg []byte) error {
	if !HardBounce(msg) {
		sub.log().Info("smtp bounce address: not a hard bounce, ignored")
		return nil
	}
	s, err := sub.Store.Bounce(ctx, token, sub.BounceLimit)
	if quoter.ErrorCode(err) == quoter.ENOTFOUND {
		sub.log().Info("smtp bounce for an unknown subscriber, ignored")
		return nil
	}
	if err != nil {
		return err
	}
	sub.log().Info("smtp hard bounce counted", "address", s.Address, "bounces", s.Bounces, "state", s.State)
	return nil
}
