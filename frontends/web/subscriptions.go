package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/subscribers"
)

// The links of the mail subscriptions' messages (see frontends/smtp): the
// confirmation of a double opt-in, and unsubscribing. The token in the
// link is the subscriber's secret; nothing else identifies it.
//
// Opening the confirmation link confirms. Opening the unsubscribe link
// only shows a button: mail scanners and link previews fetch links, and
// RFC 8058 §3.2 forbids ending a subscription on a GET for that reason.
// The button, and a mail client's one-click (RFC 8058: a POST with the
// body List-Unsubscribe=One-Click to the List-Unsubscribe URI), POST to
// the same URL, which unsubscribes. Both are idempotent.

func (h *Handler) subscriptionRoutes(r chi.Router) {
	if h.subs == nil {
		return
	}
	r.Get("/subscriptions/confirm", h.checkQuery(http.MethodGet, "/subscriptions/confirm", h.confirmSubscription))
	r.Get("/subscriptions/unsubscribe", h.checkQuery(http.MethodGet, "/subscriptions/unsubscribe", h.unsubscribePage))
	r.Post("/subscriptions/unsubscribe", h.checkQuery(http.MethodPost, "/subscriptions/unsubscribe", h.unsubscribe))
}

// subscriptionPage is the page of a confirmation or an unsubscription.
type subscriptionPage struct {
	page
	Message string
	Token   string // set: show the unsubscribe button
	Address string
}

func (h *Handler) confirmSubscription(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s, err := h.subs.Confirm(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		h.subscriptionError(w, r, err)
		return
	}
	msg := "You will get the quote of the day by mail at " + s.Address + " every morning."
	if s.State == subscribers.Unsubscribed {
		msg = s.Address + " unsubscribed since: to get the quote of the day again, subscribe again."
	}
	h.log.Info("web subscription confirmed", "address", s.Address, "state", s.State)
	h.renderPage(w, r, http.StatusOK, "subscription", subscriptionPage{
		page: page{Title: "Subscription confirmed"}, Message: msg})
}

func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// Only shows the button: see above. The token is checked, so that a
	// broken link says so now rather than after the click.
	token := r.URL.Query().Get("token")
	if !subscribers.ValidToken(token) {
		h.subscriptionError(w, r, quoter.Errorf(quoter.ENOTFOUND, "no subscription has this token"))
		return
	}
	h.renderPage(w, r, http.StatusOK, "subscription", subscriptionPage{
		page:    page{Title: "Unsubscribe"},
		Message: "Stop the quote of the day by mail?", Token: token, Address: ""})
}

func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	_ = r.ParseForm() // the one-click body says nothing the token does not
	s, err := h.subs.Unsubscribe(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		h.subscriptionError(w, r, err)
		return
	}
	h.log.Info("web subscription ended", "address", s.Address, "one_click", r.PostForm.Get("List-Unsubscribe") == "One-Click")
	h.renderPage(w, r, http.StatusOK, "subscription", subscriptionPage{
		page: page{Title: "Unsubscribed"}, Message: s.Address + " will get no more mail from this site."})
}

// subscriptionError answers an unknown token with 404, anything else as
// the error it is.
func (h *Handler) subscriptionError(w http.ResponseWriter, r *http.Request, err error) {
	if quoter.ErrorCode(err) == quoter.ENOTFOUND {
		h.fail(w, r, &httpError{http.StatusNotFound, "This link is not (or no longer) valid: no subscription has its token."})
		return
	}
	h.fail(w, r, err)
}

// The /subscribe form (--web-subscribe): an address and an optional tag.
// It sends the same single confirmation request a day as a subscribe by
// mail, and answers the same whatever happened (sent, sent already today,
// subscribed already, caught by the honeypot), so that it tells no one
// whether an address is subscribed. A client has SubmitBurst tries, then
// one per SubmitEvery.

func (h *Handler) subscribeRoutes(r chi.Router) {
	if h.request == nil {
		return
	}
	r.Get("/subscribe", h.checkQuery(http.MethodGet, "/subscribe", h.subscribePage))
	r.Post("/subscribe", h.checkQuery(http.MethodPost, "/subscribe", h.subscribeForm))
}

// subscribeFormPage is the /subscribe page.
type subscribeFormPage struct {
	page
	CSRF     string
	Address  string
	Tag      string
	Error    string
	Sent     bool
	Honeypot string
}

func (h *Handler) subscribePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.renderPage(w, r, http.StatusOK, "subscribe", subscribeFormPage{
		page: page{Title: "The quote of the day by mail", Description: "Get the quote of the day in your inbox every morning."},
		CSRF: h.formToken(w, r), Honeypot: honeypotField})
}

func (h *Handler) subscribeForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := checkFormToken(r); err != nil {
		h.fail(w, r, err)
		return
	}
	p := subscribeFormPage{page: page{Title: "The quote of the day by mail"}, CSRF: h.formToken(w, r), Honeypot: honeypotField,
		Address: strings.TrimSpace(r.PostFormValue("address")), Tag: strings.TrimSpace(r.PostFormValue("tag"))}
	if wait, ok := h.guards.subscribe.Take(h.client(r), h.cal.Time()); !ok {
		secs := max(1, int((wait+999_999_999)/1e9))
		h.guards.submitQuota.exhausted(w.Header(), secs)
		p.Error = "You have asked many times in a short time: wait " + strconv.Itoa(secs) + " seconds and try again."
		h.renderPage(w, r, http.StatusTooManyRequests, "subscribe", p)
		return
	}
	if r.PostFormValue(honeypotField) != "" {
		h.log.Info("subscription dropped: the honeypot field is filled", "client_ip", h.clientIP(r))
		p.Sent = true
		h.renderPage(w, r, http.StatusOK, "subscribe", p)
		return
	}
	if err := h.request.Request(r.Context(), p.Address, p.Tag, h.clientIP(r)); err != nil {
		h.formFailed(w, r, err, "subscribe", func(msg string) any { p.Error = msg; return p })
		return
	}
	p.Sent = true
	h.renderPage(w, r, http.StatusOK, "subscribe", p)
}
