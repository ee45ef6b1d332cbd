package web_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/web"
)

const token = "s3cret-admin-token"

func withToken(c *web.Config) { c.AdminToken = token }

var bearer = []string{"Authorization", "Bearer " + token, "Content-Type", "application/json"}

func (e *testEnv) admin(method, target, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(method, target, strings.NewReader(body), bearer...)
}

func TestAdmin_WithoutTokenConfiguredIsNotFound(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		target := "/api/v1/quotes/1"
		if m == http.MethodPost {
			target = "/api/v1/quotes"
		}
		wantAPIError(t, e.do(m, target, strings.NewReader(`{"text":"x","author":"y"}`), bearer...), http.StatusNotFound, "")
	}
}

func TestAdmin_RequiresTheBearerToken(t *testing.T) {
	e := newEnv(t, withToken)
	body := `{"text":"A new quote.","author":"Someone"}`
	for name, auth := range map[string]string{
		"Missing":     "",
		"Wrong":       "Bearer not-the-token",
		"Prefix":      "Bearer " + token[:5],
		"Longer":      "Bearer " + token + "x",
		"OtherScheme": "Basic " + token,
		"NoScheme":    token,
	} {
		t.Run(name, func(t *testing.T) {
			w := e.do(http.MethodPost, "/api/v1/quotes", strings.NewReader(body), "Authorization", auth)
			wantAPIError(t, w, http.StatusUnauthorized, "")
			if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
	if n := decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=Someone")).TotalCount; n != 0 {
		t.Errorf("a rejected request stored %d quotes", n)
	}
}

func TestAdmin_AddThenReadEverywhere(t *testing.T) {
	e := newEnv(t, withToken)
	w := e.admin(http.MethodPost, "/api/v1/quotes",
		`{"text":"Quotes <em>matter</em>.","author":"Ada Tester","source":"Tests","year":2026,"tags":["Testing"],"lang":"en"}`)
	want(t, w, http.StatusCreated)
	q := decode[apiQuote](t, w)
	if q.ID == 0 || q.Text != "Quotes <em>matter</em>." || q.Tags[0] != "testing" {
		t.Errorf("created = %+v", q)
	}
	id := strconv.FormatInt(q.ID, 10)
	wantHeader(t, w, "Location", "/api/v1/quotes/"+id)

	if got := decode[apiQuote](t, e.get("/api/v1/quotes/"+id)); got.Text != q.Text {
		t.Errorf("GET after POST = %+v", got)
	}
	page := e.get("/quotes/"+id, "Accept", browserAccept).Body.String()
	if !strings.Contains(page, "Quotes &lt;em&gt;matter&lt;/em&gt;.") {
		t.Error("new quote's page does not show it escaped")
	}
}

func TestAdmin_DuplicateIsConflict(t *testing.T) {
	e := newEnv(t, withToken)
	q := e.todays(today)
	body := `{"text":` + strconv.Quote(strings.ToUpper(q.Text)) + `,"author":"Someone Else"}`
	wantAPIError(t, e.admin(http.MethodPost, "/api/v1/quotes", body), http.StatusConflict, "")
}

func TestAdmin_BadBodies(t *testing.T) {
	e := newEnv(t, withToken)
	for name, tc := range map[string]struct {
		body   string
		status int
		param  string
	}{
		"Empty":        {"", http.StatusBadRequest, "body"},
		"NotJSON":      {"text=hello", http.StatusBadRequest, "body"},
		"Two":          {`{"text":"a","author":"b"}{}`, http.StatusBadRequest, "body"},
		"Array":        {`[{"text":"a","author":"b"}]`, http.StatusBadRequest, "body"},
		"String":       {`"a quote"`, http.StatusBadRequest, "body"},
		"Null":         {` null`, http.StatusBadRequest, "body"},
		"UnknownField": {`{"text":"a","author":"b","colour":"red"}`, http.StatusBadRequest, "colour"},
		"WrongType":    {`{"text":"a","author":"b","year":"1854"}`, http.StatusBadRequest, "year"},
		"NoText":       {`{"author":"b"}`, http.StatusBadRequest, ""},
		"TooLarge":     {`{"text":"` + strings.Repeat("a", 70<<10) + `","author":"b"}`, http.StatusRequestEntityTooLarge, ""},
	} {
		t.Run(name, func(t *testing.T) {
			wantAPIError(t, e.admin(http.MethodPost, "/api/v1/quotes", tc.body), tc.status, tc.param)
		})
	}
	w := e.do(http.MethodPost, "/api/v1/quotes", strings.NewReader(`{}`), "Authorization", "Bearer "+token, "Content-Type", "text/plain")
	wantAPIError(t, w, http.StatusUnsupportedMediaType, "")
}

func TestAdmin_PatchChangesTodayAtOnce(t *testing.T) {
	e := newEnv(t, withToken)
	q := e.todays(today)
	before := e.get("/", "Accept", "*/*")
	want(t, before, http.StatusOK)

	w := e.admin(http.MethodPatch, "/api/v1/quotes/"+strconv.FormatInt(q.ID, 10), `{"source":"A Source Added By Patch"}`)
	want(t, w, http.StatusOK)
	got := decode[apiQuote](t, w)
	if got.Text != q.Text || got.Source != "A Source Added By Patch" {
		t.Errorf("patched = %+v", got)
	}
	after := e.get("/", "Accept", "*/*", "If-None-Match", before.Header().Get("ETag"))
	want(t, after, http.StatusOK) // not 304: the representation changed
	if !strings.Contains(after.Body.String(), "A Source Added By Patch") {
		t.Errorf("today's quote still shows the old attribution: %q", after.Body.String())
	}
	lm, _ := http.ParseTime(after.Header().Get("Last-Modified"))
	if !lm.After(today.Time(zone)) {
		t.Errorf("Last-Modified = %v, want later than the start of the day after an edit", lm)
	}
}

func TestAdmin_PutReplacesEveryField(t *testing.T) {
	e := newEnv(t, withToken)
	q := e.todays(today.AddDays(-1))
	id := strconv.FormatInt(q.ID, 10)
	w := e.admin(http.MethodPut, "/api/v1/quotes/"+id, `{"text":"Replaced text.","author":"New Author"}`)
	want(t, w, http.StatusOK)
	got := decode[apiQuote](t, w)
	if got.Text != "Replaced text." || got.Author != "New Author" || got.Source != "" || len(got.Tags) != 0 {
		t.Errorf("PUT left old fields: %+v", got)
	}
	wantAPIError(t, e.admin(http.MethodPut, "/api/v1/quotes/"+id, `{"author":"No Text"}`), http.StatusBadRequest, "")
	wantAPIError(t, e.admin(http.MethodPut, "/api/v1/quotes/999999", `{"text":"x","author":"y"}`), http.StatusNotFound, "")
}

func TestAdmin_DeleteThenGone(t *testing.T) {
	e := newEnv(t, withToken)
	q := e.todays(today.AddDays(-2))
	id := strconv.FormatInt(q.ID, 10)
	w := e.admin(http.MethodDelete, "/api/v1/quotes/"+id, "")
	want(t, w, http.StatusNoContent)
	// Deleted, not erased: the days it was shown keep it, so a second
	// delete is 410 (see TestQuote_DeletedIsGone).
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/quotes/"+id, ""), http.StatusGone, "")
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/quotes/999999", ""), http.StatusNotFound, "")
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/quotes/x", ""), http.StatusBadRequest, "id")
}
