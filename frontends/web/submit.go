package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// Public submissions (Config.Submissions, off by default): "Submit a
// quote" at /submit, and "Suggest a correction" of a quote's author,
// source or year at /quotes/{id}/correct. Both only queue a submission
// for a curator (quoter.Curator.Submit): nothing is published before one
// approves it. They are guarded like every form without a session (a
// CSRF token matching a cookie), counted per client (SubmitBurst), capped
// in size (maxForm, and the library's limits on every field), and carry a
// honeypot: a field named "website", hidden from people by the stylesheet
// and labelled for screen readers as one to leave empty, which bots that
// fill every field fill. A form with it filled is answered as if accepted
// and dropped.

const honeypotField = "website"

func (h *Handler) submitRoutes(r chi.Router) {
	if !h.submissions {
		return
	}
	r.Get("/submit", h.checkQuery(http.MethodGet, "/submit", h.submitPage))
	r.Post("/submit", h.checkQuery(http.MethodPost, "/submit", h.submitForm))
	r.Get("/quotes/{id}/correct", h.checkQuery(http.MethodGet, "/quotes/{id}/correct", h.correctPage))
	r.Post("/quotes/{id}/correct", h.checkQuery(http.MethodPost, "/quotes/{id}/correct", h.correctForm))
}

// submitPageData is the "Submit a quote" and "Suggest a correction" page.
type submitPageData struct {
	page
	CSRF     string
	Form     quoteForm
	Note     string
	By       string        // the submitter's name, if they give one
	Quote    *quoter.Quote // the quote a correction is for; nil for a new quote
	Error    string
	Sent     string // the submission's id once queued ("s12")
	Honeypot string
}

func (h *Handler) submitPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.renderPage(w, r, http.StatusOK, "submit", submitPageData{
		page: page{Title: "Submit a quote", Nav: "submit", Description: "Propose a quote for this library; a curator reviews it before it is published."},
		CSRF: h.formToken(w, r), Honeypot: honeypotField})
}

// correctionTarget is the quote of /quotes/{id}/correct, if the web shows it.
func (h *Handler) correctionTarget(w http.ResponseWriter, r *http.Request) (*quoter.Quote, bool) {
	id, err := parseID(chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "there is no quote %q", chi.URLParam(r, "id")))
		return nil, false
	}
	q, err := h.q.Quote(r.Context(), id)
	if err == nil {
		q, err = h.visible(r.Context(), q, false)
	}
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return q, true
}

func (h *Handler) correctPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q, ok := h.correctionTarget(w, r)
	if !ok {
		return
	}
	h.renderPage(w, r, http.StatusOK, "submit", submitPageData{
		page:  page{Title: "Suggest a correction to quote #" + strconv.FormatInt(q.ID, 10), Description: "Tell the curators of this library the right author, source or year of a quote."},
		CSRF:  h.formToken(w, r),
		Form:  formOf(q),
		Quote: q, Honeypot: honeypotField})
}

func (h *Handler) submitForm(w http.ResponseWriter, r *http.Request) {
	h.submit(w, r, nil)
}

func (h *Handler) correctForm(w http.ResponseWriter, r *http.Request) {
	q, ok := h.correctionTarget(w, r)
	if !ok {
		return
	}
	h.submit(w, r, q)
}

// submit queues a new quote, or a correction of orig.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request, orig *quoter.Quote) {
	w.Header().Set("Cache-Control", "no-store")
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := checkFormToken(r); err != nil {
		h.fail(w, r, err)
		return
	}
	p := submitPageData{page: page{Title: "Submit a quote", Nav: "submit"}, CSRF: h.formToken(w, r), Quote: orig,
		Form: readQuoteForm(r), Note: strings.TrimSpace(r.PostFormValue("note")), By: strings.TrimSpace(r.PostFormValue("by")),
		Honeypot: honeypotField}
	if orig != nil {
		p.Title, p.Nav = "Suggest a correction to quote #"+strconv.FormatInt(orig.ID, 10), ""
	}
	if wait, ok := h.guards.submit.Take(h.client(r), h.cal.Time()); !ok {
		secs := max(1, int((wait+999_999_999)/1e9))
		h.guards.submitQuota.exhausted(w.Header(), secs)
		p.Error = "You have sent many submissions in a short time: wait " + strconv.Itoa(secs) + " seconds and send this one again."
		h.renderPage(w, r, http.StatusTooManyRequests, "submit", p)
		return
	}
	if r.PostFormValue(honeypotField) != "" {
		h.log.Info("submission dropped: the honeypot field is filled", "frontend", "web", "client_ip", h.clientIP(r))
		p.Sent, p.Form, p.Note = "received", quoteForm{}, ""
		h.renderPage(w, r, http.StatusOK, "submit", p)
		return
	}
	s := &quoter.Submission{Note: p.Note, From: quoter.Provenance{By: p.By, Via: quoter.ViaSubmission}}
	q, err := p.Form.quote()
	if err == nil && s.From.Validate() != nil {
		err = quoter.Errorf(quoter.EINVALID, "your name must be one line of at most %d bytes", quoter.MaxProvenanceLen)
	}
	if err == nil && len(p.Note) > quoter.MaxNoteLen {
		err = quoter.Errorf(quoter.EINVALID, "the note is %d bytes long, over the limit of %d", len(p.Note), quoter.MaxNoteLen)
	}
	if err == nil {
		if orig != nil { // only the attribution may be corrected
			q.Text, q.Tags, q.Lang, q.Collection = orig.Text, orig.Tags, orig.Lang, orig.Collection
			s.Corrects = orig.ID
		} else {
			q.Collection = "" // the curator decides
		}
		s.Quote = q
		err = h.q.Submit(r.Context(), s)
	}
	if err != nil {
		h.formFailed(w, r, err, "submit", func(msg string) any { p.Error = msg; return p })
		return
	}
	h.log.Info("submission received", "frontend", "web", "submission", s.ID, "corrects", s.Corrects, "client_ip", h.clientIP(r))
	p.Sent, p.Form, p.Note = quoter.SubmissionID(s.ID), quoteForm{}, ""
	h.renderPage(w, r, http.StatusOK, "submit", p)
}
