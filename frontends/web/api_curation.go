package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// The admin API's curation routes: the moderation queue (list, approve,
// reject) and the collections. GET /api/v1/collections is public: it
// lists the collections the web serves, or, with the admin token, all.

// provenanceJSON is a Provenance as the API shows it. Quotes carry only its
// public parts; the admin API's submissions carry all of it.
type provenanceJSON struct {
	By      string    `json:"by,omitempty"`
	Via     string    `json:"via,omitempty"`
	Channel string    `json:"channel,omitempty"`
	File    string    `json:"file,omitempty"`
	Line    int       `json:"line,omitempty"`
	Grabbed time.Time `json:"grabbed,omitzero"`
	Mask    string    `json:"mask,omitempty"`
	Account string    `json:"account,omitempty"`
}

func toProvenance(o quoter.Provenance) *provenanceJSON {
	if o.IsZero() {
		return nil
	}
	return &provenanceJSON{By: o.By, Via: o.Via, Channel: o.Channel, File: o.File, Line: o.Line, Grabbed: o.Grabbed, Mask: o.Mask, Account: o.Account}
}

// proposalJSON is a submission's proposed quote.
type proposalJSON struct {
	Text       string   `json:"text"`
	Author     string   `json:"author"`
	Source     string   `json:"source,omitempty"`
	Year       int      `json:"year,omitempty"`
	Tags       []string `json:"tags"`
	Lang       string   `json:"lang,omitempty"`
	Collection string   `json:"collection,omitempty"`
}

type submissionJSON struct {
	ID        int64           `json:"id"`
	Quote     proposalJSON    `json:"quote"`
	Corrects  int64           `json:"corrects,omitempty"`
	Note      string          `json:"note,omitempty"`
	From      *provenanceJSON `json:"from,omitempty"`
	Submitted time.Time       `json:"submitted"`
	Status    string          `json:"status"`
	Decided   time.Time       `json:"decided,omitzero"`
	DecidedBy *provenanceJSON `json:"decidedBy,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	QuoteID   int64           `json:"quoteId,omitempty"`
}

func toSubmission(s *quoter.Submission) submissionJSON {
	q := s.Quote
	tags := q.Tags
	if tags == nil {
		tags = []string{}
	}
	return submissionJSON{
		ID:        s.ID,
		Quote:     proposalJSON{Text: q.Text, Author: q.Author, Source: q.Source, Year: q.Year, Tags: tags, Lang: q.Lang, Collection: q.Collection},
		Corrects:  s.Corrects,
		Note:      s.Note,
		From:      toProvenance(s.From),
		Submitted: s.Submitted, Status: s.Status, Decided: s.Decided, DecidedBy: toProvenance(s.DecidedBy),
		Reason: s.Reason, QuoteID: s.QuoteID,
	}
}

type collectionJSON struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Private bool   `json:"private"`
	Quotes  int    `json:"quotes"`
}

func toCollections(cs []quoter.Collection) []collectionJSON {
	out := make([]collectionJSON, len(cs))
	for i, c := range cs {
		out[i] = collectionJSON{c.Name, c.Title, c.Private, c.Quotes}
	}
	return out
}

// apiVia is the provenance of a change made through the admin API.
var apiVia = quoter.Provenance{Via: quoter.ViaAPI}

// apiSubmissions is GET /api/v1/submissions[?status=pending|approved|rejected]:
// newest first, paged; every status when none is given.
func (h *Handler) apiSubmissions(w http.ResponseWriter, r *http.Request) {
	page, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", quoter.Pending, quoter.Approved, quoter.Rejected:
	default:
		h.fail(w, r, badParam("status", "invalid status %s: want pending, approved or rejected", quoted(status)))
		return
	}
	ss, total, err := h.q.Submissions(r.Context(), status, quoter.Page{Offset: (page - 1) * limit, Limit: limit})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]submissionJSON, len(ss))
	for i, s := range ss {
		out[i] = toSubmission(s)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, envelope(out, page, limit, total))
}

func submissionID(r *http.Request) (int64, error) {
	id, err := quoter.ParseSubmissionID(chi.URLParam(r, "id"))
	if err != nil {
		return 0, badParam("id", "invalid submission id %s: want a positive integer (or s12)", quoted(chi.URLParam(r, "id")))
	}
	return id, nil
}

// apiSubmission is GET /api/v1/submissions/{id}.
func (h *Handler) apiSubmission(w http.ResponseWriter, r *http.Request) {
	id, err := submissionID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.q.Submission(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toSubmission(s))
}

// apiApprove is POST /api/v1/submissions/{id}/approve: publishes the
// submission, after applying the fields of the body (a JSON object as for
// PATCH /api/v1/quotes/{id}; empty for none). 200 with the quote.
func (h *Handler) apiApprove(w http.ResponseWriter, r *http.Request) {
	id, err := submissionID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var edit *quoter.Update
	if r.ContentLength != 0 {
		in, err := decodeQuote(r)
		if err != nil && !isEmptyBody(err) {
			h.fail(w, r, err)
			return
		}
		if err == nil {
			u := in.update(apiVia)
			edit = &u
		}
	}
	q, err := h.q.Approve(r.Context(), id, apiVia, edit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("submission approved", "frontend", "web", "submission", id, "quote", q.ID, "via", "api")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toAPI(q))
}

// isEmptyBody reports whether err is decodeObject's "empty body".
func isEmptyBody(err error) bool {
	pe, ok := err.(*paramError)
	return ok && strings.HasPrefix(pe.msg, "empty body")
}

// apiReject is POST /api/v1/submissions/{id}/reject with {"reason": "..."}:
// 200 with the submission, rejected.
func (h *Handler) apiReject(w http.ResponseWriter, r *http.Request) {
	id, err := submissionID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in struct {
		Reason *string `json:"reason"`
	}
	if err := decodeObject(r, &in, "a rejection has a reason"); err != nil && !isEmptyBody(err) {
		h.fail(w, r, err)
		return
	}
	reason := ""
	if in.Reason != nil {
		reason = strings.TrimSpace(*in.Reason)
	}
	if err := h.q.Reject(r.Context(), id, apiVia, reason); err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.q.Submission(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("submission rejected", "frontend", "web", "submission", id, "via", "api")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toSubmission(s))
}

// apiCollections is GET /api/v1/collections: the collections the web
// serves, or every one for a request with the admin token.
func (h *Handler) apiCollections(w http.ResponseWriter, r *http.Request) {
	var cs []quoter.Collection
	var err error
	if h.bearer(r) {
		cs, err = h.q.Collections(r.Context())
		w.Header().Set("Cache-Control", "no-store")
	} else {
		cs, err = h.servedCollections(r.Context())
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Vary", "Authorization")
	writeJSON(w, http.StatusOK, toCollections(cs))
}

// apiSetCollection is PUT /api/v1/collections/{name} with {"title": "...",
// "private": false}: creates the collection, or changes its title and
// privacy. 200 with it.
func (h *Handler) apiSetCollection(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if !validCollection(name) {
		h.fail(w, r, badParam("name", "invalid collection name %s: lower-case letters, digits and inner hyphens, at most %d", quoted(name), quoter.MaxCollectionLen))
		return
	}
	var in struct {
		Title   *string `json:"title"`
		Private *bool   `json:"private"`
	}
	if err := decodeObject(r, &in, "a collection has a title and private"); err != nil && !isEmptyBody(err) {
		h.fail(w, r, err)
		return
	}
	c := quoter.Collection{Name: name}
	if in.Title != nil {
		c.Title = *in.Title
	}
	if in.Private != nil {
		c.Private = *in.Private
	}
	if err := h.q.SetCollection(r.Context(), c); err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("collection saved", "frontend", "web", "collection", name, "private", c.Private, "via", "api")
	cs, err := h.q.Collections(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, x := range cs {
		if x.Name == name {
			c = x
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toCollections([]quoter.Collection{c})[0])
}

// bearer reports whether r carries the admin token.
func (h *Handler) bearer(r *http.Request) bool {
	if h.token == nil {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && tokenEqual([]byte(strings.TrimSpace(token)), h.token)
}
