package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter"
)

// TestOpenAPI_DescribesTheRealResponses loads the served description,
// validates it as OpenAPI 3, then checks real responses of every operation,
// successes and errors, against it. kin-openapi does both: the document
// rules and JSON Schema validation of bodies, which a hand-written checker
// would only approximate.
func TestOpenAPI_DescribesTheRealResponses(t *testing.T) {
	e := newEnv(t, withToken)
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(e.get("/api/openapi.json").Body.Bytes())
	if err != nil {
		t.Fatalf("loading the OpenAPI description: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the OpenAPI description is invalid: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	validate := validateAgainst(router)
	q := e.todays(today)
	id := strconv.FormatInt(q.ID, 10)
	// A quote of a past day other than today's, to purge. (This library
	// reads the real clock, so every day of 2026 before December has begun.)
	past := quoter.Date{Year: 2026, Month: time.January, Day: 1}
	pq := e.todays(past)
	if pq.ID == q.ID {
		past = past.AddDays(1)
		pq = e.todays(past)
	}
	pid := strconv.FormatInt(pq.ID, 10)
	other := strconv.FormatInt(e.todays(past.AddDays(1)).ID, 10)
	s1 := strconv.FormatInt(submitQuote(t, e, quoter.Quote{Text: "Checked against the description, first.", Author: "Spec Tester", Lang: "en"}, "a note").ID, 10)
	s2 := strconv.FormatInt(submitQuote(t, e, quoter.Quote{Text: "Checked against the description, second.", Author: "Spec Tester", Lang: "en"}, "").ID, 10)
	for _, tc := range []struct {
		method, target, body string
		status               int
	}{
		{"GET", "/api/v1/today", "", 200},
		{"GET", "/api/v1/today?date=2026-01-01", "", 200},
		{"GET", "/api/v1/today?date=2026-02-30", "", 400},
		{"GET", "/api/v1/today?date=2027-01-01", "", 404},
		{"GET", "/api/v1/today?tag=poetry", "", 200},
		{"GET", "/api/v1/today?lang=fr&date=2026-01-01", "", 200},
		{"GET", "/api/v1/today?tag=nothing", "", 404},
		{"GET", "/api/v1/random", "", 200},
		{"GET", "/api/v1/random?limit=5&tag=poetry", "", 200},
		{"GET", "/api/v1/random?tag=nothing", "", 404},
		{"GET", "/api/v1/quotes?page=2&limit=5&sort=author&order=desc", "", 200},
		{"GET", "/api/v1/quotes?page=1000", "", 200},
		{"GET", "/api/v1/quotes/" + id, "", 200},
		{"GET", "/api/v1/quotes/999999", "", 404},
		{"GET", "/api/v1/search?q=life", "", 200},
		{"GET", "/api/v1/authors?limit=3", "", 200},
		{"PUT", "/api/v1/authors/william-shakespeare", `{"bio":"Playwright.","link":"https://example.org/ws"}`, 200},
		{"PUT", "/api/v1/authors/william-shakespeare", `{"link":"ftp://example.org/ws"}`, 400},
		{"GET", "/api/v1/authors/william-shakespeare?limit=2", "", 200},
		{"GET", "/api/v1/authors/nobody-at-all", "", 404},
		{"GET", "/api/v1/tags", "", 200},
		{"GET", "/api/v1/tags?page=2", "", 400},
		{"GET", "/api/v1/quotes?tag=%80", "", 400},
		{"GET", "/api/v1/quotes/" + id + "?verbose=1", "", 400},
		{"POST", "/api/v1/quotes", `{"text":"Validated by the spec.","author":"Spec Tester","tags":["spec"],"year":-44}`, 201},
		{"POST", "/api/v1/quotes", `{"text":"Validated by the spec.","author":"Spec Tester"}`, 409},
		{"PATCH", "/api/v1/quotes/" + id, `{"tags":["patched"]}`, 200},
		{"PUT", "/api/v1/quotes/" + id, `{"text":"Put in place.","author":"Spec Tester"}`, 200},
		{"PUT", "/api/v1/quotes/" + id, "text=Put", 415},
		{"PATCH", "/api/v1/quotes/" + id, `{"text":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"DELETE", "/api/v1/quotes/" + id, "", 204},
		{"DELETE", "/api/v1/quotes/" + id, "", 410},
		{"DELETE", "/api/v1/quotes/999999", "", 404},
		{"PUT", "/api/v1/days/2099-01-01", `{"id":` + other + `}`, 201},
		{"PUT", "/api/v1/days/2099-01-01", `{"id":` + other + `}`, 200},
		{"PUT", "/api/v1/days/2026-01-01", `{"id":` + other + `}`, 400},
		{"PUT", "/api/v1/days/2099-01-02", `{"id":999999}`, 404},
		{"PUT", "/api/v1/days/2099-01-02", `{"id":` + id + `}`, 410},
		{"GET", "/api/v1/days?from=2026-01-01", "", 200},
		{"DELETE", "/api/v1/days/2099-01-01", "", 204},
		{"DELETE", "/api/v1/days/2099-01-01", "", 404},
		{"DELETE", "/api/v1/quotes/" + pid + "?purge=true", "", 204},
		{"GET", "/api/v1/today?date=" + past.String(), "", 410},
		{"GET", "/api/v1/today?collection=" + quoter.DefaultCollection, "", 200},
		{"GET", "/api/v1/random?collection=" + quoter.DefaultCollection, "", 200},
		{"GET", "/api/v1/quotes?collection=no-such", "", 404},
		{"GET", "/api/v1/quotes?collection=Bad%21", "", 400},
		{"GET", "/api/v1/collections", "", 200},
		{"PUT", "/api/v1/collections/spec-tested", `{"title":"Spec","private":true}`, 200},
		{"PUT", "/api/v1/collections/Bad_Name", `{}`, 400},
		{"GET", "/api/v1/submissions?status=pending&limit=5", "", 200},
		{"GET", "/api/v1/submissions?status=open", "", 400},
		{"GET", "/api/v1/submissions/s" + s1, "", 200},
		{"GET", "/api/v1/submissions/99999", "", 404},
		{"POST", "/api/v1/submissions/" + s1 + "/approve", `{"tags":["spec"]}`, 200},
		{"POST", "/api/v1/submissions/" + s1 + "/approve", "", 400},
		{"POST", "/api/v1/submissions/" + s2 + "/reject", `{"reason":"not for this library"}`, 200},
		{"POST", "/api/v1/submissions/99999/reject", `{}`, 404},
	} {
		t.Run(fmt.Sprintf("%s %.60s %d", tc.method, tc.target, tc.status), func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			headers := bearer
			if tc.status == http.StatusUnsupportedMediaType {
				headers = append(headers[:len(headers):len(headers)], "Content-Type", "application/x-www-form-urlencoded")
			}
			w := e.do(tc.method, tc.target, body, headers...)
			want(t, w, tc.status)
			validate(t, tc.method, tc.target, tc.body, w)
		})
	}
	// Every operation is rate-limited (when a limit is set).
	limited := newEnv(t, withToken, func(c *web.Config) { c.RateLimit = 1 })
	limited.get("/api/v1/tags")
	for _, tc := range []struct{ method, target string }{
		{"GET", "/api/v1/today"}, {"GET", "/api/v1/random"}, {"GET", "/api/v1/quotes"},
		{"GET", "/api/v1/quotes/1"}, {"GET", "/api/v1/search?q=life"}, {"GET", "/api/v1/authors"}, {"GET", "/api/v1/authors/x"}, {"PUT", "/api/v1/authors/x"},
		{"GET", "/api/v1/tags"}, {"POST", "/api/v1/quotes"}, {"PUT", "/api/v1/quotes/1"},
		{"PATCH", "/api/v1/quotes/1"}, {"DELETE", "/api/v1/quotes/1"},
		{"GET", "/api/v1/days"}, {"PUT", "/api/v1/days/2099-01-01"}, {"DELETE", "/api/v1/days/2099-01-01"},
		{"GET", "/api/v1/collections"}, {"PUT", "/api/v1/collections/x"}, {"GET", "/api/v1/submissions"},
		{"GET", "/api/v1/submissions/1"}, {"POST", "/api/v1/submissions/1/approve"}, {"POST", "/api/v1/submissions/1/reject"},
	} {
		t.Run(tc.method+" "+tc.target+" 429", func(t *testing.T) {
			w := limited.do(tc.method, tc.target, nil, bearer...)
			want(t, w, http.StatusTooManyRequests)
			validate(t, tc.method, tc.target, "", w)
		})
	}
}

// validateAgainst returns a check of a real response against the
// operation of doc that router finds for the request.
func validateAgainst(router routers.Router) func(t *testing.T, method, target, body string, w *httptest.ResponseRecorder) {
	return func(t *testing.T, method, target, body string, w *httptest.ResponseRecorder) {
		t.Helper()
		ctx := context.Background()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("the description has no operation for %s %s: %v", method, target, err)
		}
		in := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if w.Code < 400 { // requests that succeed must be valid as described
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("request does not match the description: %v", err)
			}
		}
		err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 w.Code,
			Header:                 w.Header(),
			Body:                   io.NopCloser(bytes.NewReader(w.Body.Bytes())),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true},
		})
		if err != nil {
			t.Errorf("response does not match the description: %v\n%s", err, truncate(w.Body.String()))
		}
	}
}

// TestOpenAPI_EveryOperationDeclaresSecurityAndTags checks what Redocly's
// lint asks (TestOpenAPI_RedoclyLintIsClean runs it where npx is): every
// operation says who may call it, public ones with an empty security
// requirement and the admin ones with the bearer token; each has a tag
// declared at the top; the licence has a URL.
func TestOpenAPI_EveryOperationDeclaresSecurityAndTags(t *testing.T) {
	e := newEnv(t)
	doc, err := openapi3.NewLoader().LoadFromData(e.get("/api/openapi.json").Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.License == nil || doc.Info.License.URL != "https://opensource.org/licenses/MIT" {
		t.Errorf("info.license = %+v, want MIT with its URL", doc.Info.License)
	}
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		declared[tag.Name] = tag.Description != ""
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			name := method + " " + path
			admin := method != http.MethodGet || strings.HasPrefix(path, "/api/v1/days") || strings.HasPrefix(path, "/api/v1/submissions")
			switch {
			case op.Security == nil:
				t.Errorf("%s declares no security", name)
			case admin && (len(*op.Security) != 1 || (*op.Security)[0]["bearer"] == nil):
				t.Errorf("%s: security %v, want the bearer token", name, *op.Security)
			case !admin && len(*op.Security) != 0:
				t.Errorf("%s: security %v, want [] (public)", name, *op.Security)
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s has no tag", name)
			}
			for _, tag := range op.Tags {
				if !declared[tag] {
					t.Errorf("%s: tag %q is not declared with a description at the top", name, tag)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("%d operations, want the 20 of the API at least", n)
	}
}
