package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// maxBody caps admin request bodies: a quote is at most 4 KiB of text plus
// a few short fields, so 64 KiB leaves room for escapes and nothing more.
const maxBody = 64 << 10

// admin guards a write handler. Without a configured token the admin API
// does not exist (404, the same answer as any unknown path); with one, the
// request must carry it as a Bearer token. The comparison is in constant
// time over SHA-256 digests, so neither the token's bytes nor its length
// leak through timing.
func (h *Handler) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.token == nil {
			h.notFound(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || !tokenEqual([]byte(strings.TrimSpace(token)), h.token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="quotesd admin"`)
			h.fail(w, r, &httpError{http.StatusUnauthorized, "missing or wrong admin token: send Authorization: Bearer <token>"})
			return
		}
		// A body declared over the cap is refused before reading any of
		// it: waiting for it would hold the connection until the read
		// timeout. The connection closes after the answer, as net/http
		// would not read the rest of such a body to reuse it.
		if r.ContentLength > maxBody {
			w.Header().Set("Connection", "close")
			h.fail(w, r, &httpError{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body of %d bytes, over the limit of %d", r.ContentLength, maxBody)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next(w, r)
	}
}

func tokenEqual(got, want []byte) bool {
	a, b := sha256.Sum256(got), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// quoteInput is the JSON body of POST, PUT and PATCH. Pointers tell "absent"
// from "empty", which PATCH needs.
type quoteInput struct {
	Text   *string   `json:"text"`
	Author *string   `json:"author"`
	Source *string   `json:"source"`
	Year   *int      `json:"year"`
	Tags   *[]string `json:"tags"`
	Lang   *string   `json:"lang"`

	Collection *string `json:"collection"`
}

// decodeQuote reads the request body as a quoteInput. Errors name what is
// wrong: the body, or the field.
func decodeQuote(r *http.Request) (quoteInput, error) {
	var in quoteInput
	err := decodeObject(r, &in, "a quote has text, author, source, year, tags, lang and collection")
	return in, err
}

// decodeObject reads the request body, a JSON object, into v (a pointer
// to a struct). fields says which fields an object has, for the error
// about an unknown one.
func decodeObject(r *http.Request, v any, fields string) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &httpError{http.StatusUnsupportedMediaType, "unsupported Content-Type " + strconv.Quote(ct) + ": send application/json"}
		}
	}
	// The body is read whole (it is capped at maxBody) to check its
	// encoding first: the JSON decoder would quietly store U+FFFD for
	// every byte of invalid UTF-8.
	// Messages are our own words: a read error's text names the socket's
	// addresses, and the decoder's speaks of Go types.
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", mbe.Limit)}
	case errors.As(err, &ne) && ne.Timeout():
		return &httpError{http.StatusRequestTimeout, "the request body did not arrive in time"}
	case err != nil:
		return badParam("body", "the body could not be read whole: it ended before its declared length, or its chunked encoding is broken")
	}
	if !utf8.Valid(body) {
		return badParam("body", "invalid body: not valid UTF-8")
	}
	// Only an object will do: the decoder would take null as one with
	// every field absent, and answer an array or a string with an error
	// about our Go types.
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] != '{' {
		return badParam("body", "invalid JSON body: want an object (%s)", fields)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &ute):
			field, _, _ := strings.Cut(ute.Field, ".") // "tags.0" is tags
			return badParam(field, "invalid %s: want %s", field, fieldShape(field))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badParam(field, "unknown field %q: %s", field, fields)
		case errors.Is(err, io.EOF):
			return badParam("body", "empty body: send a JSON object (%s)", fields)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badParam("body", "invalid JSON body: it ends before the object does")
		case errors.As(err, &se):
			return badParam("body", "invalid JSON body at byte %d", se.Offset)
		}
		return badParam("body", "invalid JSON body")
	}
	if dec.More() {
		return badParam("body", "invalid JSON body: one object expected")
	}
	return nil
}

// fieldShape is what a field of quoteInput holds, in JSON's terms.
func fieldShape(field string) string {
	switch field {
	case "year":
		return "a JSON number (a whole one)"
	case "tags":
		return "a JSON array of strings"
	}
	return "a JSON string"
}

func (in quoteInput) quote() quoter.Quote {
	var q quoter.Quote
	if in.Text != nil {
		q.Text = *in.Text
	}
	if in.Author != nil {
		q.Author = *in.Author
	}
	if in.Source != nil {
		q.Source = *in.Source
	}
	if in.Year != nil {
		q.Year = *in.Year
	}
	if in.Tags != nil {
		q.Tags = *in.Tags
	}
	if in.Lang != nil {
		q.Lang = *in.Lang
	}
	if in.Collection != nil {
		q.Collection = *in.Collection
	}
	return q
}

// update is in as a change of the fields it carries, by by.
func (in quoteInput) update(by quoter.Provenance) quoter.Update {
	return quoter.Update{Text: in.Text, Author: in.Author, Source: in.Source, Year: in.Year, Tags: in.Tags, Lang: in.Lang,
		Collection: in.Collection, By: by}
}

// changed is called after every successful write: pages memoised from the
// old library must not be served again.
func (h *Handler) changed() {
	h.today.invalidate()
	h.colls.invalidate()
}

// apiAdd is POST /api/v1/quotes: 201 with the stored quote and its
// Location; 409 for a duplicate.
func (h *Handler) apiAdd(w http.ResponseWriter, r *http.Request) {
	in, err := decodeQuote(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := in.quote()
	q.AddedBy = apiVia
	if err := h.q.Add(r.Context(), &q); err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("quote added", "id", q.ID, "author", q.Author)
	w.Header().Set("Location", "/api/v1/quotes/"+strconv.FormatInt(q.ID, 10))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, toAPI(&q))
}

// apiReplace is PUT /api/v1/quotes/{id}: every field is replaced; absent
// ones become empty (and fail validation if required).
func (h *Handler) apiReplace(w http.ResponseWriter, r *http.Request) {
	h.update(w, r, true)
}

// apiPatch is PATCH /api/v1/quotes/{id}: only the fields sent change.
func (h *Handler) apiPatch(w http.ResponseWriter, r *http.Request) {
	h.update(w, r, false)
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request, replace bool) {
	id, err := idParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := decodeQuote(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u := in.update(apiVia)
	if replace {
		full := in.quote()
		u = quoter.Update{Text: &full.Text, Author: &full.Author, Source: &full.Source, Year: &full.Year, Tags: &full.Tags, Lang: &full.Lang, By: apiVia}
		if in.Collection != nil {
			u.Collection = in.Collection
		}
	}
	q, err := h.q.Update(r.Context(), id, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("quote updated", "id", q.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toAPI(q))
}

// apiDelete is DELETE /api/v1/quotes/{id}[?purge=true]: 204; 404 for no
// such quote, 410 for one deleted already. A deleted quote stays on the
// days it was shown (marked removed); ?purge=true erases it for good, and
// those days answer 410 (it may follow a plain delete).
func (h *Handler) apiDelete(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	purge, err := boolParam(r, "purge")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if purge {
		err = h.q.Purge(r.Context(), id)
	} else {
		err = h.q.Delete(r.Context(), id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	if purge {
		h.log.Info("quote purged", "id", id)
	} else {
		h.log.Info("quote deleted", "id", id)
	}
	w.WriteHeader(http.StatusNoContent)
}

// boolParam reads a boolean query parameter: true or 1, false or 0;
// absent or empty is false. Errors name the parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	if r.URL.RawQuery == "" {
		return false, nil
	}
	switch v := r.URL.Query().Get(name); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, badParam(name, "invalid %s %q: want true or false", name, v)
	}
}
