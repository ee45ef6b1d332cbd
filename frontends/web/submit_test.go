package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
)

func pending(t *testing.T, e *testEnv) []*quoter.Submission {
	t.Helper()
	ss, _, err := e.lib.Submissions(context.Background(), quoter.Pending, quoter.Page{Limit: quoter.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestSubmit_ANewQuoteWaitsForACurator(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	w := c.get("/submit")
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Cache-Control", "no-store")
	wantBody(t, w, `<label for="text">Text</label>`, `name="website"`)
	ck := c.cookies["quotesd_form"]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("form cookie = %+v, want HttpOnly SameSite=Strict", ck)
	}
	w = c.post("/submit", url.Values{"text": {"Zyzzyva will come of zyzzyva."}, "author": {"William Shakespeare"}, "source": {"King Lear"}, "note": {"Act 1"}, "by": {"Reader"}})
	want(t, w, http.StatusOK)
	wantBody(t, w, "Thank you", "A curator reviews it")
	ss := pending(t, e)
	if len(ss) != 1 || ss[0].Quote.Text != "Zyzzyva will come of zyzzyva." || ss[0].Note != "Act 1" || ss[0].From.Via != quoter.ViaSubmission || ss[0].From.By != "Reader" {
		t.Fatalf("pending after a submission: %+v", ss)
	}
	wantBody(t, w, "s"+strconv.FormatInt(ss[0].ID, 10))
	// Nothing is published before approval.
	if n := decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=zyzzyva")).TotalCount; n != 0 {
		t.Errorf("a pending submission is searchable: %d results", n)
	}
}

func TestSubmit_Errors(t *testing.T) {
	e := newCurationEnv(t)
	for i, tc := range []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"EmptyText", url.Values{"text": {""}, "author": {"X"}}, http.StatusBadRequest, "That did not work"},
		{"Duplicate", url.Values{"text": {"Simplify, simplify."}, "author": {"Thoreau"}}, http.StatusConflict, "already"},
		{"BadYear", url.Values{"text": {"A fresh thought."}, "author": {"X"}, "year": {"1e3"}}, http.StatusBadRequest, "not a whole number"},
		{"LongNote", url.Values{"text": {"A fresh thought."}, "author": {"X"}, "note": {strings.Repeat("n", quoter.MaxNoteLen+1)}}, http.StatusBadRequest, "note"},
		{"Oversized", url.Values{"text": {strings.Repeat("x", 70<<10)}, "author": {"X"}}, http.StatusRequestEntityTooLarge, ""},
		{"TextTooLong", url.Values{"text": {strings.Repeat("x", quoter.MaxTextLen+1)}, "author": {"X"}}, http.StatusBadRequest, ""},
		{"NameOverTwoLines", url.Values{"text": {"A fresh thought."}, "author": {"X"}, "by": {"Me\nYou"}}, http.StatusBadRequest, "your name must be one line"},
		{"NoToken", url.Values{"text": {"A fresh thought."}, "author": {"X"}, "csrf": {""}}, http.StatusForbidden, ""},
		{"WrongToken", url.Values{"text": {"A fresh thought."}, "author": {"X"}, "csrf": {"forged"}}, http.StatusForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client()
			c.remote = "198.51.100." + strconv.Itoa(i+1) + ":1" // each its own budget
			want(t, c.get("/submit"), http.StatusOK)
			w := c.post("/submit", tc.form)
			want(t, w, tc.status)
			if tc.says != "" {
				wantBody(t, w, tc.says)
			}
		})
	}
	if ss := pending(t, e); len(ss) != 0 {
		t.Errorf("refused submissions were queued: %+v", ss)
	}
	t.Run("InvalidUTF8", func(t *testing.T) {
		c := e.client()
		want(t, c.get("/submit"), http.StatusOK)
		r := "text=%ff&author=X&csrf=" + url.QueryEscape(c.csrf())
		w := c.send(newFormRequest("/submit", r))
		want(t, w, http.StatusBadRequest)
	})
}

func TestSubmit_HoneypotIsAnsweredAsAcceptedAndDropped(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	want(t, c.get("/submit"), http.StatusOK)
	w := c.post("/submit", url.Values{"text": {"Cheap watches!"}, "author": {"Bot"}, "website": {"http://spam.example"}})
	want(t, w, http.StatusOK)
	wantBody(t, w, "Thank you")
	if ss := pending(t, e); len(ss) != 0 {
		t.Errorf("a submission with the honeypot filled was queued: %+v", ss)
	}
}

func TestSubmit_RateLimitedPerClient(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	want(t, c.get("/submit"), http.StatusOK)
	for i := range web.SubmitBurst {
		want(t, c.post("/submit", url.Values{"text": {"Thought number " + strconv.Itoa(i) + "."}, "author": {"X"}}), http.StatusOK)
	}
	w := c.post("/submit", url.Values{"text": {"One thought too many."}, "author": {"X"}})
	want(t, w, http.StatusTooManyRequests)
	wantBody(t, w, "One thought too many.") // the form keeps what was typed
	retry := w.Header().Get("Retry-After")
	if retry == "" {
		t.Error("no Retry-After")
	}
	// The quota: 5 submissions per 5 × 10 minutes, none left until the
	// next one, as the site's limiter says it.
	for field, v := range map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": retry, "RateLimit-Policy": "5;w=3000"} {
		if got := w.Header().Get(field); got != v {
			t.Errorf("%s: %q, want %q", field, got, v)
		}
	}
	other := e.client()
	other.remote = "198.51.100.5:1"
	want(t, other.get("/submit"), http.StatusOK)
	want(t, other.post("/submit", url.Values{"text": {"Another client's thought."}, "author": {"Y"}}), http.StatusOK)
}

func TestSubmit_CorrectionOfAQuote(t *testing.T) {
	e := newCurationEnv(t)
	q := e.quoteWithText("Simplify, simplify.")
	id := strconv.FormatInt(q.ID, 10)
	w := e.get("/quotes/"+id, "Accept", browserAccept)
	want(t, w, http.StatusOK)
	wantBody(t, w, `href="/quotes/`+id+`/correct"`, "Suggest a correction")
	c := e.client()
	want(t, c.get("/quotes/"+id+"/correct"), http.StatusOK)
	wantBody(t, c.last, "Simplify, simplify.", `value="Henry David Thoreau"`)
	w = c.post("/quotes/"+id+"/correct", url.Values{"author": {"H. D. Thoreau"}, "source": {"Walden; or, Life in the Woods"}, "year": {"1854"}, "note": {"full title"},
		"text": {"an attempt to change the text"}})
	want(t, w, http.StatusOK)
	ss := pending(t, e)
	if len(ss) != 1 || ss[0].Corrects != q.ID || ss[0].Quote.Author != "H. D. Thoreau" || ss[0].Quote.Source != "Walden; or, Life in the Woods" {
		t.Fatalf("pending after a correction: %+v", ss)
	}
	if got, _ := e.lib.Quote(context.Background(), q.ID); got.Author != q.Author {
		t.Errorf("a correction changed the quote before approval: %q", got.Author)
	}
	want(t, c.get("/quotes/999999/correct"), http.StatusNotFound)
	want(t, c.get("/quotes/abc/correct"), http.StatusNotFound)
	want(t, c.post("/quotes/999999/correct", url.Values{"author": {"X"}}), http.StatusNotFound)
}

func TestSubmit_OffMeansNoLinkAndNoForm(t *testing.T) {
	e := newEnv(t)
	q := e.quoteWithText("Simplify, simplify.")
	w := e.get("/quotes/"+strconv.FormatInt(q.ID, 10), "Accept", browserAccept)
	want(t, w, http.StatusOK)
	if strings.Contains(w.Body.String(), "/correct") || strings.Contains(w.Body.String(), "/submit") {
		t.Error("the quote page links to submission forms that are off")
	}
}
