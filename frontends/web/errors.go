package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// statusOf maps the quoter's error vocabulary to HTTP.
var statusOf = map[string]int{
	quoter.ENOTFOUND: http.StatusNotFound,
	quoter.EINVALID:  http.StatusBadRequest,
	quoter.ECONFLICT: http.StatusConflict,
	quoter.EGONE:     http.StatusGone, // a purged quote, or the days it was shown
	quoter.EINTERNAL: http.StatusInternalServerError,
}

// paramError is a bad query parameter or body field: a 400 whose message
// and "parameter" field name it, so an API client knows what to fix.
type paramError struct {
	name string
	msg  string
}

func (e *paramError) Error() string { return e.msg }

func badParam(name, format string, args ...any) error {
	return &paramError{name: name, msg: fmt.Sprintf(format, args...)}
}

// httpError is a failure that is about HTTP itself rather than the library:
// an unknown route, a missing token, too many requests.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// apiError is the JSON body of every API error.
type apiError struct {
	StatusCode    int    `json:"statusCode"`
	StatusMessage string `json:"statusMessage"`
	Parameter     string `json:"parameter,omitempty"`
}

// describe turns err into what a client is told. Internal failures are
// logged here with their details and reported with a generic message.
func (h *Handler) describe(r *http.Request, err error) apiError {
	var pe *paramError
	var he *httpError
	switch {
	case errors.As(err, &pe):
		return apiError{http.StatusBadRequest, pe.msg, pe.name}
	case errors.As(err, &he):
		return apiError{StatusCode: he.status, StatusMessage: he.msg}
	}
	code := quoter.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return apiError{StatusCode: status, StatusMessage: quoter.ErrorMessage(err)}
}

// fail answers a request with err, in the form the client asked for: JSON
// under /api/, otherwise as negotiated (an HTML page for browsers, a line
// of text for curl).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := h.describe(r, err)
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Del("ETag")
	hd.Del("Last-Modified")
	if isAPI(r) {
		writeJSON(w, e.StatusCode, e)
		return
	}
	f, ferr := negotiate(r)
	if ferr != nil {
		f = negotiateAccept(r) // the bad ?format= is what we are reporting
	}
	switch f {
	case formatJSON:
		writeJSON(w, e.StatusCode, e)
	case formatText:
		hd.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.StatusCode)
		_, _ = w.Write([]byte(e.StatusMessage + "\n"))
	default:
		h.renderPage(w, r, e.StatusCode, "error", errorPage{
			page:    page{Title: http.StatusText(e.StatusCode), Description: describe(e.StatusMessage)},
			Status:  e.StatusCode,
			Message: e.StatusMessage,
		})
	}
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, quotablePrefix+"/")
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, &httpError{http.StatusNotFound, "no such page: " + r.URL.Path})
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 §15.5.6
// requires. chi only sets it in its own 405 handler, so the methods are
// found here by asking the router: GET (and so HEAD, see GetHead), the
// admin methods when the admin API exists, and OPTIONS under /api/, which
// the CORS middleware answers.
func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	candidates := []string{http.MethodGet}
	if h.token != nil {
		candidates = append(candidates, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete)
	} else if h.adminPages || h.submissions {
		candidates = append(candidates, http.MethodPost)
	}
	var allow []string
	for _, m := range candidates {
		if h.router.Match(chi.NewRouteContext(), m, path) {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if isAPI(r) {
		allow = append(allow, http.MethodOptions)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	h.fail(w, r, &httpError{http.StatusMethodNotAllowed, "method " + r.Method + " is not allowed here"})
}

func (h *Handler) tooManyRequests(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, &httpError{http.StatusTooManyRequests, "too many requests: slow down and retry after the time in Retry-After"})
}
