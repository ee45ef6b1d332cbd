package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// quoteForm is a quote as the HTML forms hold it: every field a string,
// as typed, so that a form sent back with an error shows what was sent.
type quoteForm struct {
	Text, Author, Source, Year, Tags, Lang, Collection string
}

func formOf(q *quoter.Quote) quoteForm {
	f := quoteForm{Text: q.Text, Author: q.Author, Source: q.Source, Tags: strings.Join(q.Tags, ", "), Lang: q.Lang, Collection: q.Collection}
	if q.Year != 0 {
		f.Year = strconv.Itoa(q.Year)
	}
	return f
}

// readQuoteForm reads the quote fields of a parsed form.
func readQuoteForm(r *http.Request) quoteForm {
	v := func(k string) string { return r.PostFormValue(k) }
	return quoteForm{Text: v("text"), Author: v("author"), Source: v("source"), Year: strings.TrimSpace(v("year")),
		Tags: v("tags"), Lang: strings.TrimSpace(v("lang")), Collection: strings.TrimSpace(v("collection"))}
}

// year is the form's year: 0 when empty. Errors: EINVALID.
func (f quoteForm) year() (int, error) {
	if f.Year == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(f.Year)
	if err != nil {
		return 0, quoter.Errorf(quoter.EINVALID, "the year %q is not a whole number (negative for BCE)", f.Year)
	}
	return y, nil
}

// tags splits the form's tags at commas and white space.
func (f quoteForm) tags() []string {
	return append([]string{}, strings.FieldsFunc(f.Tags, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
}

// quote is the form as a new quote.
func (f quoteForm) quote() (quoter.Quote, error) {
	y, err := f.year()
	if err != nil {
		return quoter.Quote{}, err
	}
	return quoter.Quote{Text: f.Text, Author: f.Author, Source: f.Source, Year: y, Tags: f.tags(), Lang: f.Lang, Collection: f.Collection}, nil
}

// update is the form as a full replacement of a quote's fields, by by.
func (f quoteForm) update(by quoter.Provenance) (quoter.Update, error) {
	q, err := f.quote()
	if err != nil {
		return quoter.Update{}, err
	}
	u := quoter.Update{Text: &q.Text, Author: &q.Author, Source: &q.Source, Year: &q.Year, Tags: &q.Tags, By: by}
	if q.Lang != "" {
		u.Lang = &q.Lang
	}
	if q.Collection != "" {
		u.Collection = &q.Collection
	}
	return u, nil
}

// maxForm caps the body of a plain form: a quote of MaxTextLen bytes,
// percent-encoded (up to three bytes each), and its other fields.
const maxForm = 64 << 10

// parseForm reads a POSTed urlencoded form, capped at maxForm. Errors:
// 413 past the cap, 400 for a body that is not a form or not UTF-8.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > maxForm {
		w.Header().Set("Connection", "close")
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("form of %d bytes, over the limit of %d", r.ContentLength, maxForm)}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("form over %d bytes", mbe.Limit)}
		}
		return &httpError{http.StatusBadRequest, "the form could not be read: send it from this site's page"}
	}
	return checkFormUTF8(r)
}

// checkFormUTF8 refuses a form with a value that is not valid UTF-8
// (SECURITY.md: such input gets a 4xx).
func checkFormUTF8(r *http.Request) error {
	for k, vs := range r.PostForm {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return &httpError{http.StatusBadRequest, "the form field " + quoted(k) + " is not valid UTF-8"}
			}
		}
	}
	return nil
}

// message is what a person is told of err on a form: the library's
// message for its own errors, the HTTP error's for ours.
func message(err error) (int, string) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.msg
	}
	status, ok := statusOf[quoter.ErrorCode(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, quoter.ErrorMessage(err)
}
