// Package subscribers holds what the mail subscriptions of quotesd share
// between the frontends: the subscriber, its secret token, and the
// interface of the store. The store lives in the mail queue's database
// (frontends/smtp/queue), which the SMTP frontend writes; the web frontend
// confirms and unsubscribes through this interface, so that it needs no
// import of the mail frontend.
package subscribers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// State is where a subscription stands.
type State string

// The states of a subscription. A subscription starts Pending (double
// opt-in): only a confirmation (a reply to the confirmation mail, or its
// link) makes it Confirmed, and only confirmed subscribers get the daily
// mail. Unsubscribed is kept, not deleted, so that an unsubscribe link
// clicked twice still says it worked.
const (
	Pending      State = "pending"
	Confirmed    State = "confirmed"
	Unsubscribed State = "unsubscribed"
)

// Subscriber is one address that asked for the daily quote by mail.
type Subscriber struct {
	ID      int64
	Address string // lower case
	Tag     string // the daily quote of this tag; "": the quote of the day
	// Token is secret and random (NewToken): it is in the links and the
	// bounce address of the subscriber's mail, and only there.
	Token   string
	State   State
	Created time.Time
	Changed time.Time // of the state
	Bounces int       // hard bounces counted since the subscription was confirmed
}

// Store is what the web frontend needs of the subscriptions: confirming
// and unsubscribing by token. Both are idempotent; an unknown token is a
// quoter.ENOTFOUND error.
type Store interface {
	// Confirm confirms the subscription of token: a pending one becomes
	// Confirmed; a confirmed one stays so; an unsubscribed one stays
	// unsubscribed (its address must subscribe again).
	Confirm(ctx context.Context, token string) (Subscriber, error)
	// Unsubscribe ends the subscription of token, whatever its state.
	Unsubscribe(ctx context.Context, token string) (Subscriber, error)
}

// Requester starts a subscription from somewhere else than mail (the web
// form): it sends the address the same single confirmation mail a day as
// a subscribe by mail would.
type Requester interface {
	// Request asks address to confirm a subscription to tag ("" for the
	// quote of the day), for client (the IP address that asked, whose
	// daily reply cap the request counts against, as a subscribe by mail
	// does). It says nothing of whether a mail was sent (a form must not
	// tell whether an address is subscribed); an address that is no
	// public mailbox is a quoter.EINVALID error.
	Request(ctx context.Context, address, tag, client string) error
}

// TokenLen is the length of a token: 32 hexadecimal digits.
const TokenLen = 32

// NewToken returns a new random token: 128 bits from crypto/rand, in lower
// case hexadecimal (it survives the lower-casing of a subaddress).
func NewToken() (string, error) {
	var b [TokenLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a subscription token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// ValidToken reports whether s has the shape of a token, so that nothing
// else is looked up (or echoed).
func ValidToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
