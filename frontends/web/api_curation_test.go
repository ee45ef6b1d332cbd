package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

type apiSubmission struct {
	ID    int64 `json:"id"`
	Quote struct {
		Text   string `json:"text"`
		Author string `json:"author"`
	} `json:"quote"`
	Corrects  int64  `json:"corrects"`
	Note      string `json:"note"`
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	QuoteID   int64  `json:"quoteId"`
	DecidedBy struct {
		Via string `json:"via"`
	} `json:"decidedBy"`
}

func TestAPISubmissions_ListApproveReject(t *testing.T) {
	e := newEnv(t, withToken)
	s1 := submitQuote(t, e, quoter.Quote{Text: "Know thy quotes, thyself.", Author: "Socrates", Lang: "en"}, "Delphi")
	s2 := submitQuote(t, e, quoter.Quote{Text: "An unexamined test is not worth running.", Author: "Socrate", Lang: "en"}, "")
	s3 := submitQuote(t, e, quoter.Quote{Text: "Spam, spam, spam.", Author: "Spam", Lang: "en"}, "")

	l := decode[apiList[apiSubmission]](t, e.admin(http.MethodGet, "/api/v1/submissions?status=pending", ""))
	if l.TotalCount != 3 || len(l.Results) != 3 || l.Results[0].ID != s3.ID {
		t.Fatalf("pending submissions: %+v, want 3, newest first", l)
	}
	one := decode[apiSubmission](t, e.admin(http.MethodGet, "/api/v1/submissions/s"+strconv.FormatInt(s1.ID, 10), ""))
	if one.Quote.Text != "Know thy quotes, thyself." || one.Note != "Delphi" || one.Status != quoter.Pending {
		t.Errorf("GET s%d: %+v", s1.ID, one)
	}

	// Approve as proposed: the new quote, 200.
	w := e.admin(http.MethodPost, "/api/v1/submissions/"+strconv.FormatInt(s1.ID, 10)+"/approve", "")
	want(t, w, http.StatusOK)
	q := decode[apiQuote](t, w)
	if q.Text != "Know thy quotes, thyself." || q.ID == 0 {
		t.Errorf("approved quote: %+v", q)
	}
	want(t, e.get("/api/v1/quotes/"+strconv.FormatInt(q.ID, 10)), http.StatusOK)

	// Approve with an edit.
	w = e.admin(http.MethodPost, "/api/v1/submissions/"+strconv.FormatInt(s2.ID, 10)+"/approve", `{"author":"Socrates","source":"Apology"}`)
	want(t, w, http.StatusOK)
	if q := decode[apiQuote](t, w); q.Author != "Socrates" || q.Source != "Apology" {
		t.Errorf("approved with an edit: %+v", q)
	}

	// Reject with a reason.
	w = e.admin(http.MethodPost, "/api/v1/submissions/"+strconv.FormatInt(s3.ID, 10)+"/reject", `{"reason":"spam"}`)
	want(t, w, http.StatusOK)
	if s := decode[apiSubmission](t, w); s.Status != quoter.Rejected || s.Reason != "spam" || s.DecidedBy.Via != quoter.ViaAPI {
		t.Errorf("rejected: %+v", s)
	}
	if l := decode[apiList[apiSubmission]](t, e.admin(http.MethodGet, "/api/v1/submissions?status=rejected", "")); l.TotalCount != 1 {
		t.Errorf("rejected submissions: %d, want 1", l.TotalCount)
	}
	if l := decode[apiList[apiSubmission]](t, e.admin(http.MethodGet, "/api/v1/submissions", "")); l.TotalCount != 3 {
		t.Errorf("all submissions: %d, want 3", l.TotalCount)
	}
}

func TestAPISubmissions_Errors(t *testing.T) {
	e := newEnv(t, withToken)
	s := submitQuote(t, e, quoter.Quote{Text: "Carpe diem.", Author: "Horace", Lang: "la"}, "")
	id := strconv.FormatInt(s.ID, 10)
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		param                      string
	}{
		{"BadStatus", "GET", "/api/v1/submissions?status=open", "", 400, "status"},
		{"UnknownParam", "GET", "/api/v1/submissions?state=pending", "", 400, "state"},
		{"BadID", "GET", "/api/v1/submissions/x1", "", 400, "id"},
		{"NoSuchSubmission", "GET", "/api/v1/submissions/99999", "", 404, ""},
		{"ApproveNoSuch", "POST", "/api/v1/submissions/99999/approve", "", 404, ""},
		{"ApproveInvalidEdit", "POST", "/api/v1/submissions/" + id + "/approve", `{"text":""}`, 400, ""},
		{"ApproveUnknownField", "POST", "/api/v1/submissions/" + id + "/approve", `{"txt":"x"}`, 400, "txt"},
		{"RejectNoSuch", "POST", "/api/v1/submissions/99999/reject", `{"reason":"x"}`, 404, ""},
		{"RejectLongReason", "POST", "/api/v1/submissions/" + id + "/reject", `{"reason":"` + strings.Repeat("r", quoter.MaxNoteLen+1) + `"}`, 400, ""},
		{"RejectBadBody", "POST", "/api/v1/submissions/" + id + "/reject", `["x"]`, 400, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, e.admin(tc.method, tc.target, tc.body), tc.status, tc.param)
		})
	}
	// Still pending after all that; deciding twice is refused.
	want(t, e.admin(http.MethodPost, "/api/v1/submissions/"+id+"/reject", ""), http.StatusOK)
	wantAPIError(t, e.admin(http.MethodPost, "/api/v1/submissions/"+id+"/approve", ""), http.StatusBadRequest, "")
	wantAPIError(t, e.admin(http.MethodPost, "/api/v1/submissions/"+id+"/reject", ""), http.StatusBadRequest, "")
	// Without the token: 401; without a token configured: 404.
	wantAPIError(t, e.get("/api/v1/submissions"), http.StatusUnauthorized, "")
	wantAPIError(t, newEnv(t).do(http.MethodGet, "/api/v1/submissions", nil, bearer...), http.StatusNotFound, "")
}

func TestAPICollections_ListAndSet(t *testing.T) {
	e := newEnv(t, withToken)
	w := e.admin(http.MethodPut, "/api/v1/collections/club-quotes", `{"title":"The club","private":true}`)
	want(t, w, http.StatusOK)
	if c := decode[apiCollection](t, w); c.Name != "club-quotes" || !c.Private || c.Title != "The club" {
		t.Errorf("PUT club-quotes: %+v", c)
	}
	cs, err := e.lib.Collections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 2 {
		t.Errorf("collections after PUT: %+v", cs)
	}
	w = e.admin(http.MethodPut, "/api/v1/collections/club-quotes", `{"private":false}`)
	want(t, w, http.StatusOK)
	if c := decode[apiCollection](t, w); c.Private {
		t.Errorf("PUT private false: %+v", c)
	}
	found := false
	for _, c := range decode[[]apiCollection](t, e.get("/api/v1/collections")) {
		found = found || c.Name == "club-quotes"
	}
	if !found {
		t.Error("a public collection is not listed")
	}
	wantAPIError(t, e.admin(http.MethodPut, "/api/v1/collections/Bad_Name", `{}`), http.StatusBadRequest, "name")
	wantAPIError(t, e.admin(http.MethodPut, "/api/v1/collections/ok", `{"private":"yes"}`), http.StatusBadRequest, "private")
	wantAPIError(t, e.admin(http.MethodPut, "/api/v1/collections/ok", `{"titel":"x"}`), http.StatusBadRequest, "titel")
	wantAPIError(t, e.do(http.MethodPut, "/api/v1/collections/ok", strings.NewReader(`{}`)), http.StatusUnauthorized, "")
	wantAPIError(t, e.get("/api/v1/collections?x=1"), http.StatusBadRequest, "x")
}

func TestAPIQuotes_CarryCollectionAndProvenance(t *testing.T) {
	e := newEnv(t, withToken)
	// A quote added to a collection that does not exist yet creates it.
	w := e.admin(http.MethodPost, "/api/v1/quotes", `{"text":"Made through the API.","author":"Me","collection":"api-made"}`)
	want(t, w, http.StatusCreated)
	q := decode[apiQuote](t, w)
	if q.Collection != "api-made" || !strings.Contains(w.Body.String(), `"addedBy":{"via":"api"}`) {
		t.Errorf("POST's answer: %s", w.Body.String())
	}
	w = e.admin(http.MethodPatch, "/api/v1/quotes/"+strconv.FormatInt(q.ID, 10), `{"collection":"`+quoter.DefaultCollection+`"}`)
	want(t, w, http.StatusOK)
	if got := decode[apiQuote](t, w); got.Collection != quoter.DefaultCollection || !strings.Contains(w.Body.String(), `"editedBy":{"via":"api"}`) {
		t.Errorf("PATCH's answer: %s", w.Body.String())
	}
}
