package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// /admin is where curators work in the browser: plain HTML forms, no
// scripts. Every page needs a session (session.go); every POST, the
// session's CSRF token. Sign-in is the only form without a session; its
// attempts are counted per client and per curator name (guards.go) and
// logged.

// adminPage is what every /admin page's template gets beside page.
type adminPage struct {
	page
	Curator string // signed in as; "" on the sign-in page
	CSRF    string
	Flash   string // what the last action did, from ?done=
	Error   string // why the form sent was refused
}

// flashes are the messages ?done= may ask for: a fixed set, so that a
// link cannot make the page say anything else.
var flashes = map[string]string{
	"approved":  "The submission is approved and published.",
	"rejected":  "The submission is rejected.",
	"saved":     "The quote is saved.",
	"deleted":   "The quote is deleted from the library.",
	"pinned":    "The quote is pinned to that day.",
	"unpinned":  "The pin is removed: that day shows what its cycle gives.",
	"imported":  "The file is imported.",
	"collected": "The collection is saved.",
	"signedout": "You are signed out.",
}

func (h *Handler) adminRoutes(r chi.Router) {
	if !h.adminPages {
		return
	}
	get := func(pattern string, fn http.HandlerFunc) {
		r.Get(pattern, h.checkQuery(http.MethodGet, pattern, h.curatorOnly(fn)))
	}
	post := func(pattern string, fn http.HandlerFunc) {
		r.Post(pattern, h.checkQuery(http.MethodPost, pattern, h.curatorOnly(fn)))
	}
	r.Get("/admin/signin", h.checkQuery(http.MethodGet, "/admin/signin", h.signInPage))
	r.Post("/admin/signin", h.checkQuery(http.MethodPost, "/admin/signin", h.signIn))
	post("/admin/signout", h.signOut)
	get("/admin", h.queuePage)
	get("/admin/submissions/{id}", h.submissionPage)
	post("/admin/submissions/{id}/approve", h.approveForm)
	post("/admin/submissions/{id}/reject", h.rejectForm)
	get("/admin/quotes", h.adminQuotesPage)
	get("/admin/quotes/{id}", h.adminQuotePage)
	post("/admin/quotes/{id}", h.editForm)
	post("/admin/quotes/{id}/delete", h.deleteForm)
	post("/admin/quotes/{id}/pin", h.pinForm)
	post("/admin/quotes/{id}/unpin", h.unpinForm)
	get("/admin/import", h.importPage)
	post("/admin/import", h.importForm)
	get("/admin/collections", h.collectionsPage)
	post("/admin/collections", h.collectionForm)
}

// curatorOnly guards an /admin page: without a session, a GET goes to the
// sign-in page and a POST is refused (403); a POST must carry the
// session's CSRF token (403 without it). Nothing under /admin is cached.
func (h *Handler) curatorOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s := h.session(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
				return
			}
			h.fail(w, r, &httpError{http.StatusForbidden, "you are not signed in, or your session has ended: sign in again"})
			return
		}
		if r.Method == http.MethodPost && r.URL.Path != "/admin/import" {
			if err := parseForm(w, r); err != nil {
				h.fail(w, r, err)
				return
			}
			if !tokenEqual([]byte(r.PostFormValue(csrfField)), []byte(s.csrfToken())) {
				h.log.Warn("admin form refused: no valid CSRF token", "frontend", "web", "curator", s.Curator, "path", r.URL.Path, "client_ip", h.clientIP(r))
				h.fail(w, r, errCSRF)
				return
			}
		}
		next(w, r.WithContext(withCurator(r.Context(), s)))
	}
}

// adminBase is the adminPage of the signed-in curator.
func (h *Handler) adminBase(r *http.Request, title string) adminPage {
	s := curatorOf(r)
	p := adminPage{page: page{Title: title, Nav: "admin"}, Curator: s.Curator, CSRF: s.csrfToken()}
	if r.URL.RawQuery != "" {
		p.Flash = flashes[r.URL.Query().Get("done")]
	}
	return p
}

// by is the provenance of a change made by the signed-in curator.
func by(r *http.Request) quoter.Provenance {
	return quoter.Provenance{By: curatorOf(r).Curator, Via: quoter.ViaWeb}
}

// done redirects to target after a change, with a flash message.
func done(w http.ResponseWriter, r *http.Request, target, what string) {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	http.Redirect(w, r, target+sep+"done="+what, http.StatusSeeOther)
}

// formFailed renders a form page again with why it was refused: the
// library's message for its errors; internal ones are logged here.
func (h *Handler) formFailed(w http.ResponseWriter, r *http.Request, err error, name string, data func(msg string) any) {
	status, msg := message(err)
	if status == http.StatusInternalServerError {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.renderPage(w, r, status, name, data(msg))
}

// signInPage is the sign-in form.
type signInPage struct {
	adminPage
	Name string
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.session(r) != nil {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	p := signInPage{adminPage: adminPage{page: page{Title: "Sign in", Nav: "admin", Description: signInDescription}, CSRF: h.formToken(w, r)}}
	if r.URL.RawQuery != "" {
		p.Flash = flashes[r.URL.Query().Get("done")]
	}
	h.renderPage(w, r, http.StatusOK, "signin", p)
}

// signIn checks a curator's name and password. Attempts are counted per
// client and per name before the password is looked at, so a throttled
// guesser learns nothing, and every attempt is logged.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := checkFormToken(r); err != nil {
		h.log.Warn("admin sign-in refused: no valid CSRF token", "frontend", "web", "client_ip", h.clientIP(r))
		h.fail(w, r, err)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	refuse := func(status int, msg string) {
		p := signInPage{adminPage: adminPage{page: page{Title: "Sign in", Nav: "admin", Description: signInDescription}, CSRF: h.formToken(w, r), Error: msg}, Name: name}
		h.renderPage(w, r, status, "signin", p)
	}
	now := h.cal.Time()
	wait, ok := h.guards.signIn.Take(h.client(r), now)
	quota := h.guards.signInQuota
	if ok {
		wait, ok = h.guards.curator.Take(curatorClient(name), now)
		quota = h.guards.curatorQuota
	}
	if !ok {
		secs := max(1, int((wait+999_999_999)/1e9))
		quota.exhausted(w.Header(), secs)
		h.log.Warn("admin sign-in throttled", "frontend", "web", "curator", name, "client_ip", h.clientIP(r))
		refuse(http.StatusTooManyRequests, "Too many sign-in attempts: wait "+strconv.Itoa(secs)+" seconds and try again.")
		return
	}
	var hash string
	if quoter.ValidCurator(name) == nil {
		var err error
		hash, err = h.q.PasswordHash(r.Context(), name)
		if err != nil && quoter.ErrorCode(err) != quoter.ENOTFOUND {
			h.fail(w, r, err)
			return
		}
	}
	if name == "" || password == "" || !checkPassword(hash, password) {
		h.log.Warn("admin sign-in failed", "frontend", "web", "curator", name, "client_ip", h.clientIP(r))
		refuse(http.StatusUnauthorized, "Wrong name or password.")
		return
	}
	h.log.Info("admin sign-in", "frontend", "web", "curator", name, "client_ip", h.clientIP(r))
	h.startSession(w, r, name, hash)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	h.setCookie(w, r, sessionCookie, "", -1)
	h.log.Info("admin sign-out", "frontend", "web", "curator", curatorOf(r).Curator, "client_ip", h.clientIP(r))
	http.Redirect(w, r, "/admin/signin?done=signedout", http.StatusSeeOther)
}

// queuePage is /admin: the pending submissions, oldest last.
type queuePage struct {
	adminPage
	Submissions []*quoter.Submission
	Originals   map[int64]*quoter.Quote // the quotes corrections are for
	Total       int
	Pages       pagination
}

const adminPageSize = 20

func (h *Handler) queuePage(w http.ResponseWriter, r *http.Request) {
	n, err := intParam(r, "page", 1, 1, maxPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ss, total, err := h.q.Submissions(r.Context(), quoter.Pending, quoter.Page{Offset: (n - 1) * adminPageSize, Limit: adminPageSize})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := queuePage{adminPage: h.adminBase(r, "Pending submissions"), Submissions: ss, Total: total,
		Pages: paginate(r, n, adminPageSize, total), Originals: map[int64]*quoter.Quote{}}
	for _, s := range ss {
		if s.Corrects != 0 {
			if q, err := h.q.Quote(r.Context(), s.Corrects); err == nil {
				p.Originals[s.Corrects] = q
			}
		}
	}
	h.renderPage(w, r, http.StatusOK, "queue", p)
}

// submissionPage is one submission, its fields in a form to edit before
// approving, and the rejection form.
type submissionPage struct {
	adminPage
	Submission  *quoter.Submission
	Original    *quoter.Quote
	Form        quoteForm
	Reason      string
	Collections []quoter.Collection
}

func (h *Handler) loadSubmission(w http.ResponseWriter, r *http.Request) (*quoter.Submission, *quoter.Quote, bool) {
	id, err := parseID(chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "there is no submission %q", chi.URLParam(r, "id")))
		return nil, nil, false
	}
	s, err := h.q.Submission(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	var orig *quoter.Quote
	if s.Corrects != 0 {
		orig, _ = h.q.Quote(r.Context(), s.Corrects)
	}
	return s, orig, true
}

func (h *Handler) submissionPage(w http.ResponseWriter, r *http.Request) {
	s, orig, ok := h.loadSubmission(w, r)
	if !ok {
		return
	}
	q := s.Quote
	if orig != nil { // a correction: the quote as it would become
		q.ID, q.Text, q.Tags, q.Lang, q.Collection = orig.ID, orig.Text, orig.Tags, orig.Lang, orig.Collection
	}
	cs, err := h.q.Collections(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderPage(w, r, http.StatusOK, "submission", submissionPage{
		adminPage: h.adminBase(r, "Submission s"+strconv.FormatInt(s.ID, 10)), Submission: s, Original: orig, Form: formOf(&q), Collections: cs})
}

// approveForm approves a submission: as proposed, or, when the form
// carries the quote's fields ("edit then approve"), as edited.
func (h *Handler) approveForm(w http.ResponseWriter, r *http.Request) {
	s, orig, ok := h.loadSubmission(w, r)
	if !ok {
		return
	}
	var edit *quoter.Update
	form := readQuoteForm(r)
	if r.PostFormValue("edited") != "" {
		u, err := form.update(by(r))
		if err != nil {
			h.submissionFailed(w, r, err, s, orig, form)
			return
		}
		edit = &u
	}
	q, err := h.q.Approve(r.Context(), s.ID, by(r), edit)
	if err != nil {
		if edit == nil {
			base := s.Quote
			form = formOf(&base)
		}
		h.submissionFailed(w, r, err, s, orig, form)
		return
	}
	h.changed()
	h.log.Info("submission approved", "frontend", "web", "submission", s.ID, "quote", q.ID, "curator", curatorOf(r).Curator)
	done(w, r, "/admin", "approved")
}

func (h *Handler) submissionFailed(w http.ResponseWriter, r *http.Request, err error, s *quoter.Submission, orig *quoter.Quote, form quoteForm) {
	h.formFailed(w, r, err, "submission", func(msg string) any {
		cs, _ := h.q.Collections(r.Context())
		p := submissionPage{adminPage: h.adminBase(r, "Submission s"+strconv.FormatInt(s.ID, 10)), Submission: s, Original: orig, Form: form,
			Reason: r.PostFormValue("reason"), Collections: cs}
		p.Error = msg
		return p
	})
}

func (h *Handler) rejectForm(w http.ResponseWriter, r *http.Request) {
	s, orig, ok := h.loadSubmission(w, r)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if err := h.q.Reject(r.Context(), s.ID, by(r), reason); err != nil {
		base := s.Quote
		h.submissionFailed(w, r, err, s, orig, formOf(&base))
		return
	}
	h.log.Info("submission rejected", "frontend", "web", "submission", s.ID, "curator", curatorOf(r).Curator)
	done(w, r, "/admin", "rejected")
}

// adminQuotesPage is /admin/quotes: search every quote (?q=), or list a
// collection's (?collection=, private ones included), to edit one.
type adminQuotesPage struct {
	adminPage
	Query       string
	Collection  string
	Collections []quoter.Collection
	Results     []*quoter.Quote
	Total       int
	Searched    bool
	Pages       pagination
}

func (h *Handler) adminQuotesPage(w http.ResponseWriter, r *http.Request) {
	n, err := intParam(r, "page", 1, 1, maxPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	qs := r.URL.Query()
	p := adminQuotesPage{adminPage: h.adminBase(r, "Quotes"), Query: strings.TrimSpace(qs.Get("q")), Collection: strings.TrimSpace(qs.Get("collection"))}
	if p.Collections, err = h.q.Collections(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	pg := quoter.Page{Offset: (n - 1) * adminPageSize, Limit: adminPageSize}
	switch {
	case p.Query != "":
		if id, err := parseID(strings.TrimPrefix(p.Query, "#")); err == nil {
			http.Redirect(w, r, "/admin/quotes/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
			return
		}
		p.Results, p.Total, err = h.q.Search(r.Context(), p.Query, pg)
		p.Searched = true
	case p.Collection != "":
		p.Results, p.Total, err = h.q.List(r.Context(), quoter.Filter{Collection: p.Collection}, quoter.Page{Offset: pg.Offset, Limit: pg.Limit, Sort: quoter.SortID, Desc: true})
		p.Searched = true
	}
	if err != nil {
		h.formFailed(w, r, err, "quotes", func(msg string) any { p.Error = msg; return p })
		return
	}
	p.Pages = paginate(r, n, adminPageSize, p.Total)
	h.renderPage(w, r, http.StatusOK, "quotes", p)
}

// adminQuotePage is one quote: the edit form, with its provenance (all
// of it), its pin and delete forms.
type adminQuotePage struct {
	adminPage
	Quote       *quoter.Quote
	Form        quoteForm
	Collections []quoter.Collection
	PinDay      string
	Tomorrow    string        // the first day that can still be pinned, for the date input's min
	Pins        []quoter.Date // the days to come this quote is pinned to
}

func (h *Handler) adminQuote(w http.ResponseWriter, r *http.Request) (*quoter.Quote, adminQuotePage, bool) {
	id, err := parseID(chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, quoter.Errorf(quoter.ENOTFOUND, "there is no quote %q", chi.URLParam(r, "id")))
		return nil, adminQuotePage{}, false
	}
	q, err := h.q.Quote(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return nil, adminQuotePage{}, false
	}
	cs, err := h.q.Collections(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return nil, adminQuotePage{}, false
	}
	frontier := quoter.Frontier(h.cal.Time())
	pins, err := h.q.Pins(r.Context(), frontier.AddDays(1))
	if err != nil {
		h.fail(w, r, err)
		return nil, adminQuotePage{}, false
	}
	p := adminQuotePage{adminPage: h.adminBase(r, "Quote #"+strconv.FormatInt(q.ID, 10)), Quote: q, Form: formOf(q),
		Collections: cs, Tomorrow: frontier.AddDays(1).String()}
	for _, pin := range pins {
		if pin.QuoteID == q.ID {
			p.Pins = append(p.Pins, pin.Day)
		}
	}
	return q, p, true
}

func (h *Handler) adminQuotePage(w http.ResponseWriter, r *http.Request) {
	_, p, ok := h.adminQuote(w, r)
	if !ok {
		return
	}
	h.renderPage(w, r, http.StatusOK, "editquote", p)
}

func (h *Handler) editForm(w http.ResponseWriter, r *http.Request) {
	q, p, ok := h.adminQuote(w, r)
	if !ok {
		return
	}
	p.Form = readQuoteForm(r)
	u, err := p.Form.update(by(r))
	if err == nil {
		_, err = h.q.Update(r.Context(), q.ID, u)
	}
	if err != nil {
		h.formFailed(w, r, err, "editquote", func(msg string) any { p.Error = msg; return p })
		return
	}
	h.changed()
	h.log.Info("quote updated", "frontend", "web", "id", q.ID, "curator", curatorOf(r).Curator)
	done(w, r, "/admin/quotes/"+strconv.FormatInt(q.ID, 10), "saved")
}

func (h *Handler) deleteForm(w http.ResponseWriter, r *http.Request) {
	q, p, ok := h.adminQuote(w, r)
	if !ok {
		return
	}
	if err := h.q.Delete(r.Context(), q.ID); err != nil {
		h.formFailed(w, r, err, "editquote", func(msg string) any { p.Error = msg; return p })
		return
	}
	h.changed()
	h.log.Info("quote deleted", "frontend", "web", "id", q.ID, "curator", curatorOf(r).Curator)
	done(w, r, "/admin/quotes", "deleted")
}

func (h *Handler) pinForm(w http.ResponseWriter, r *http.Request) {
	q, p, ok := h.adminQuote(w, r)
	if !ok {
		return
	}
	p.PinDay = strings.TrimSpace(r.PostFormValue("date"))
	day, err := quoter.ParseDate(p.PinDay)
	if err != nil {
		err = quoter.Errorf(quoter.EINVALID, "the date %q is not a real day written YYYY-MM-DD", p.PinDay)
	} else {
		err = h.q.Pin(r.Context(), day, q.ID)
	}
	if err != nil {
		h.formFailed(w, r, err, "editquote", func(msg string) any { p.Error = msg; return p })
		return
	}
	h.changed()
	h.log.Info("quote pinned", "frontend", "web", "id", q.ID, "date", day.String(), "curator", curatorOf(r).Curator)
	done(w, r, "/admin/quotes/"+strconv.FormatInt(q.ID, 10), "pinned")
}

// unpinForm removes this quote's pin of a day to come.
func (h *Handler) unpinForm(w http.ResponseWriter, r *http.Request) {
	q, p, ok := h.adminQuote(w, r)
	if !ok {
		return
	}
	s := strings.TrimSpace(r.PostFormValue("date"))
	day, err := quoter.ParseDate(s)
	if err == nil && !slices.Contains(p.Pins, day) {
		err = quoter.Errorf(quoter.ENOTFOUND, "quote #%d is not pinned to %s", q.ID, day)
	}
	if err == nil {
		err = h.q.Unpin(r.Context(), day)
	} else if quoter.ErrorCode(err) != quoter.ENOTFOUND {
		err = quoter.Errorf(quoter.EINVALID, "the date %q is not a real day written YYYY-MM-DD", s)
	}
	if err != nil {
		h.formFailed(w, r, err, "editquote", func(msg string) any { p.Error = msg; return p })
		return
	}
	h.changed()
	h.log.Info("quote unpinned", "frontend", "web", "id", q.ID, "date", day.String(), "curator", curatorOf(r).Curator)
	done(w, r, "/admin/quotes/"+strconv.FormatInt(q.ID, 10), "unpinned")
}

// collectionsPage lists every collection, with forms to create one or
// change one's title and privacy.
type collectionsPage struct {
	adminPage
	Collections []quoter.Collection
	Form        quoter.Collection
}

func (h *Handler) collectionsPage(w http.ResponseWriter, r *http.Request) {
	cs, err := h.q.Collections(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderPage(w, r, http.StatusOK, "collections", collectionsPage{adminPage: h.adminBase(r, "Collections"), Collections: cs})
}

func (h *Handler) collectionForm(w http.ResponseWriter, r *http.Request) {
	c := quoter.Collection{Name: strings.TrimSpace(r.PostFormValue("name")), Title: strings.TrimSpace(r.PostFormValue("title")),
		Private: r.PostFormValue("private") != ""}
	err := h.q.SetCollection(r.Context(), c)
	if err != nil {
		cs, _ := h.q.Collections(r.Context())
		h.formFailed(w, r, err, "collections", func(msg string) any {
			p := collectionsPage{adminPage: h.adminBase(r, "Collections"), Collections: cs, Form: c}
			p.Error = msg
			return p
		})
		return
	}
	h.changed()
	h.log.Info("collection saved", "frontend", "web", "collection", c.Name, "private", c.Private, "curator", curatorOf(r).Curator)
	done(w, r, "/admin/collections", "collected")
}
