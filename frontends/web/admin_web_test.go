package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/passwd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

func TestAdminPages_OffByDefaultAreNotFound(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/admin", "/admin/signin", "/admin/quotes", "/submit", "/quotes/1/correct"} {
		want(t, e.get(target), http.StatusNotFound)
	}
	want(t, e.do(http.MethodPost, "/admin/signin", strings.NewReader("name=a&password=b"), "Content-Type", "application/x-www-form-urlencoded"), http.StatusNotFound)
}

func TestAdminPages_WithoutSessionGoToSignInAndPostsAreRefused(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	for _, target := range []string{"/admin", "/admin/quotes", "/admin/quotes/1", "/admin/import", "/admin/collections", "/admin/submissions/1"} {
		w := c.get(target)
		want(t, w, http.StatusSeeOther)
		wantHeader(t, w, "Location", "/admin/signin")
		wantHeader(t, w, "Cache-Control", "no-store")
	}
	w := e.do(http.MethodPost, "/admin/quotes/1/delete", strings.NewReader("csrf=x"), "Content-Type", "application/x-www-form-urlencoded")
	want(t, w, http.StatusForbidden)
	if _, err := e.lib.Quote(context.Background(), 1); err != nil {
		t.Errorf("quote 1 after a refused delete: %v", err)
	}
}

func TestAdminPages_SignInSetsAStrictHttpOnlySessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*web.Config)
		setup  func(*client)
		secure bool
	}{
		{"PlainHTTP", nil, nil, false},
		{"TLS", nil, func(c *client) { c.tls = true }, true},
		{"TrustedProxySaysHTTPS", func(cfg *web.Config) { _ = cfg.TrustedProxies.Set("192.0.2.0/24") },
			func(c *client) { c.headers = []string{"X-Forwarded-Proto", "https", "X-Forwarded-For", "198.51.100.7"} }, true},
		{"UntrustedPeerSaysHTTPS", nil, func(c *client) { c.headers = []string{"X-Forwarded-Proto", "https"} }, false},
		{"BaseURLIsHTTPS", func(cfg *web.Config) { cfg.BaseURL = "https://quotes.example.org" }, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var edits []func(*web.Config)
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			e := newCurationEnv(t, edits...)
			c := e.client()
			if tc.setup != nil {
				tc.setup(c)
			}
			c.signIn()
			ck := c.cookies["quotesd_session"]
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure != tc.secure {
				t.Errorf("session cookie: HttpOnly %v, SameSite %v, Path %q, Secure %v; want HttpOnly, Strict, /, Secure %v",
					ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, tc.secure)
			}
			if ck.MaxAge != int(web.SessionTTL/time.Second) {
				t.Errorf("session cookie Max-Age = %d, want %d", ck.MaxAge, int(web.SessionTTL/time.Second))
			}
			w := c.get("/admin")
			want(t, w, http.StatusOK)
			wantBody(t, w, "Signed in as", curatorName, "Pending submissions")
		})
	}
}

func TestAdminPages_SignInIsLogged(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	c.signIn()
	want(t, c.get("/admin/signin"), http.StatusSeeOther) // signed in already
	found := false
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "admin sign-in" && l["curator"] == curatorName && l["client_ip"] == "192.0.2.10" {
			found = true
		}
	}
	if !found {
		t.Errorf("no log of the sign-in:\n%s", e.logs.String())
	}
}

func TestAdminPages_WrongPasswordFiveTimesIsThrottled(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	want(t, c.get("/admin/signin"), http.StatusOK)
	for i := range web.SignInBurst {
		w := c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {"guess " + strconv.Itoa(i)}})
		want(t, w, http.StatusUnauthorized)
		wantBody(t, w, "Wrong name or password.")
	}
	// The sixth attempt is refused before the password is looked at: even
	// the right one.
	w := c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {curatorPassword}})
	want(t, w, http.StatusTooManyRequests)
	wantBody(t, w, "Too many sign-in attempts")
	if w.Header().Get("Retry-After") == "" {
		t.Error("a throttled sign-in has no Retry-After")
	}
	if l, p := w.Header().Get("RateLimit-Limit"), w.Header().Get("RateLimit-Policy"); l != "5" || p != "5;w=300" {
		t.Errorf("a throttled sign-in's quota: RateLimit-Limit %q, RateLimit-Policy %q; want 5 and 5;w=300 (per client)", l, p)
	}
	if c.cookies["quotesd_session"] != nil {
		t.Error("a throttled sign-in set a session cookie")
	}
	failed, throttled := 0, 0
	for _, l := range e.logs.lines(t) {
		switch l["msg"] {
		case "admin sign-in failed":
			failed++
		case "admin sign-in throttled":
			throttled++
		}
	}
	if failed != web.SignInBurst || throttled != 1 {
		t.Errorf("logged %d failed and %d throttled sign-ins, want %d and 1", failed, throttled, web.SignInBurst)
	}
	// Another client still signs in.
	other := e.client()
	other.remote = "198.51.100.20:40000"
	other.signIn()
}

func TestAdminPages_AttemptsAgainstOneCuratorAreCappedAcrossClients(t *testing.T) {
	e := newCurationEnv(t)
	for i := range web.CuratorBurst {
		c := e.client()
		c.remote = "198.51.100." + strconv.Itoa(i+1) + ":40000"
		want(t, c.get("/admin/signin"), http.StatusOK)
		want(t, c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {"wrong"}}), http.StatusUnauthorized)
	}
	c := e.client()
	c.remote = "203.0.113.9:40000"
	want(t, c.get("/admin/signin"), http.StatusOK)
	want(t, c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {curatorPassword}}), http.StatusTooManyRequests)
}

func TestAdminPages_SignInErrors(t *testing.T) {
	e := newCurationEnv(t)
	for name, form := range map[string]url.Values{
		"UnknownCurator": {"name": {"nobody"}, "password": {curatorPassword}},
		"EmptyPassword":  {"name": {curatorName}, "password": {""}},
		"EmptyName":      {"name": {""}, "password": {curatorPassword}},
	} {
		t.Run(name, func(t *testing.T) {
			c := e.client()
			c.remote = "198.51.100.99:1"
			want(t, c.get("/admin/signin"), http.StatusOK)
			want(t, c.post("/admin/signin", form), http.StatusUnauthorized)
		})
	}
	t.Run("NoFormCookie", func(t *testing.T) {
		c := e.client()
		want(t, c.get("/admin/signin"), http.StatusOK)
		delete(c.cookies, "quotesd_form")
		want(t, c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {curatorPassword}}), http.StatusForbidden)
	})
	t.Run("NoToken", func(t *testing.T) {
		c := e.client()
		want(t, c.get("/admin/signin"), http.StatusOK)
		want(t, c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {curatorPassword}, "csrf": {""}}), http.StatusForbidden)
	})
	t.Run("OversizedForm", func(t *testing.T) {
		c := e.client()
		want(t, c.get("/admin/signin"), http.StatusOK)
		want(t, c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {strings.Repeat("x", 70<<10)}}), http.StatusRequestEntityTooLarge)
	})
}

func TestAdminPages_FormWithoutCSRFTokenIsRefused(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	c.signIn()
	want(t, c.get("/admin/quotes/1"), http.StatusOK)
	for name, tok := range map[string]string{"Missing": "", "Wrong": "not-the-token"} {
		t.Run(name, func(t *testing.T) {
			w := c.post("/admin/quotes/1/delete", url.Values{"csrf": {tok}})
			want(t, w, http.StatusForbidden)
			if _, err := e.lib.Quote(context.Background(), 1); err != nil {
				t.Errorf("quote 1 after a refused delete: %v", err)
			}
		})
	}
	// Another curator's token is not this one's.
	setPassword(t, e.lib, "grace", "another long password")
	g := e.client()
	g.remote = "198.51.100.30:1"
	want(t, g.get("/admin/signin"), http.StatusOK)
	want(t, g.post("/admin/signin", url.Values{"name": {"grace"}, "password": {"another long password"}}), http.StatusSeeOther)
	want(t, g.get("/admin"), http.StatusOK)
	graceToken := g.csrf()
	want(t, c.post("/admin/quotes/1/delete", url.Values{"csrf": {graceToken}}), http.StatusForbidden)
	// The upload form too.
	want(t, c.get("/admin/import"), http.StatusOK)
	want(t, c.upload("/admin/import", url.Values{"csrf": {""}}, "q.csv", "text,author\nHello there.,Someone\n"), http.StatusForbidden)
}

func TestAdminPages_PasswordChangeOrExpirySignsOut(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	c.signIn()
	want(t, c.get("/admin"), http.StatusOK)
	setPassword(t, e.lib, curatorName, "a brand new password")
	w := c.get("/admin")
	want(t, w, http.StatusSeeOther)

	c2 := e.client()
	setPassword(t, e.lib, curatorName, curatorPassword)
	c2.signIn()
	want(t, c2.get("/admin"), http.StatusOK)
	e.clock.Advance(web.SessionTTL + time.Second)
	want(t, c2.get("/admin"), http.StatusSeeOther)
}

func TestAdminPages_SignOutEndsTheSession(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	c.signIn()
	want(t, c.get("/admin"), http.StatusOK)
	w := c.post("/admin/signout", nil)
	want(t, w, http.StatusSeeOther)
	if c.cookies["quotesd_session"] != nil {
		t.Error("sign-out left the session cookie")
	}
	want(t, c.get("/admin"), http.StatusSeeOther)
}

func TestAdminPages_TamperedSessionCookieIsRefused(t *testing.T) {
	e := newCurationEnv(t)
	setPassword(t, e.lib, "grace", "another long password")
	c := e.client()
	c.signIn()
	v := c.cookies["quotesd_session"].Value
	parts := strings.Split(v, ".")
	for name, forged := range map[string]string{
		"OtherName":     "Z3JhY2U." + parts[1] + "." + parts[2], // "grace"
		"LaterExpiry":   parts[0] + "." + strconv.Itoa(mustAtoi(t, parts[1])+3600) + "." + parts[2],
		"NoSignature":   parts[0] + "." + parts[1] + ".",
		"Garbage":       "not a session",
		"TwoParts":      parts[0] + "." + parts[1],
		"BadSigEncoded": parts[0] + "." + parts[1] + ".!!!",
		"NoSuchCurator": "bm9ib2R5." + parts[1] + "." + parts[2], // "nobody"
		"NotAName":      "YSBi." + parts[1] + "." + parts[2],     // "a b"
	} {
		t.Run(name, func(t *testing.T) {
			f := e.client()
			f.cookies["quotesd_session"] = &http.Cookie{Name: "quotesd_session", Value: forged}
			want(t, f.get("/admin"), http.StatusSeeOther)
		})
	}
	for _, l := range e.logs.lines(t) {
		if l["level"] == "ERROR" {
			t.Errorf("a forged cookie logged an error: %v", l)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// submitQuote queues a new quote as the public would.
func submitQuote(t *testing.T, e *testEnv, q quoter.Quote, note string) *quoter.Submission {
	t.Helper()
	s := &quoter.Submission{Quote: q, Note: note, From: quoter.Provenance{Via: quoter.ViaSubmission}}
	if err := e.lib.Submit(context.Background(), s); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return s
}

func TestAdminPages_ApproveEditThenApproveAndReject(t *testing.T) {
	e := newCurationEnv(t)
	ctx := context.Background()
	s1 := submitQuote(t, e, quoter.Quote{Text: "Well begun is half done.", Author: "Aristotle", Lang: "en"}, "from a poster")
	s2 := submitQuote(t, e, quoter.Quote{Text: "Quality is not an act, it is a habbit.", Author: "Aristotel", Lang: "en"}, "")
	s3 := submitQuote(t, e, quoter.Quote{Text: "Buy cheap pills here.", Author: "Spam", Lang: "en"}, "")
	c := e.client()
	c.signIn()
	w := c.get("/admin")
	want(t, w, http.StatusOK)
	wantBody(t, w, "3 submissions are waiting", "Well begun is half done.", "from a poster", "Approve s"+strconv.FormatInt(s1.ID, 10))

	// Approve as proposed.
	w = c.post("/admin/submissions/"+strconv.FormatInt(s1.ID, 10)+"/approve", nil)
	want(t, w, http.StatusSeeOther)
	wantHeader(t, w, "Location", "/admin?done=approved")
	wantBody(t, c.get("/admin?done=approved"), "The submission is approved and published.")
	got, err := e.lib.Submission(ctx, s1.ID)
	if err != nil || got.Status != quoter.Approved || got.QuoteID == 0 {
		t.Fatalf("s1 after approval: %+v, %v", got, err)
	}
	q, err := e.lib.Quote(ctx, got.QuoteID)
	if err != nil || q.Text != "Well begun is half done." {
		t.Fatalf("the approved quote: %+v, %v", q, err)
	}
	if got.DecidedBy.By != curatorName || got.DecidedBy.Via != quoter.ViaWeb {
		t.Errorf("s1 decided by %+v, want %s via web", got.DecidedBy, curatorName)
	}

	// Edit, then approve.
	id2 := strconv.FormatInt(s2.ID, 10)
	want(t, c.get("/admin/submissions/"+id2), http.StatusOK)
	wantBody(t, c.last, "habbit", "Edit, then approve")
	w = c.post("/admin/submissions/"+id2+"/approve", url.Values{"edited": {"1"}, "text": {"Quality is not an act, it is a habit."},
		"author": {"Aristotle"}, "tags": {"virtue, habit"}, "lang": {"en"}})
	want(t, w, http.StatusSeeOther)
	got, _ = e.lib.Submission(ctx, s2.ID)
	q, err = e.lib.Quote(ctx, got.QuoteID)
	if err != nil || q.Text != "Quality is not an act, it is a habit." || q.Author != "Aristotle" || strings.Join(q.Tags, ",") != "habit,virtue" && strings.Join(q.Tags, ",") != "virtue,habit" {
		t.Errorf("the quote approved as edited: %+v, %v", q, err)
	}

	// An edit that fails validation shows the form again, with the error.
	s4 := submitQuote(t, e, quoter.Quote{Text: "Fortune favours the bold.", Author: "Virgil", Lang: "en"}, "")
	w = c.post("/admin/submissions/"+strconv.FormatInt(s4.ID, 10)+"/approve", url.Values{"edited": {"1"}, "text": {""}, "author": {"Virgil"}})
	want(t, w, http.StatusBadRequest)
	wantBody(t, w, "That did not work", `value="Virgil"`)
	w = c.post("/admin/submissions/"+strconv.FormatInt(s4.ID, 10)+"/approve", url.Values{"edited": {"1"}, "text": {"Fortune favours the bold."}, "author": {"Virgil"}, "year": {"nineteen"}})
	want(t, w, http.StatusBadRequest)
	wantBody(t, w, "not a whole number")

	// Reject with a reason.
	w = c.post("/admin/submissions/"+strconv.FormatInt(s3.ID, 10)+"/reject", url.Values{"reason": {"spam"}})
	want(t, w, http.StatusSeeOther)
	got, _ = e.lib.Submission(ctx, s3.ID)
	if got.Status != quoter.Rejected || got.Reason != "spam" {
		t.Errorf("s3 after rejection: %+v", got)
	}
	if n := decode[apiList[apiQuote]](t, e.get("/api/v1/search?q=pills")).TotalCount; n != 0 {
		t.Errorf("a rejected submission is searchable: %d results", n)
	}

	// Deciding twice, or an unknown submission.
	want(t, c.post("/admin/submissions/"+strconv.FormatInt(s3.ID, 10)+"/approve", nil), http.StatusBadRequest)
	want(t, c.post("/admin/submissions/"+strconv.FormatInt(s1.ID, 10)+"/reject", url.Values{"reason": {"late"}}), http.StatusBadRequest)
	want(t, c.post("/admin/submissions/999/approve", nil), http.StatusNotFound)
	want(t, c.get("/admin/submissions/999"), http.StatusNotFound)
	want(t, c.get("/admin/submissions/abc"), http.StatusNotFound)
	want(t, c.post("/admin/submissions/"+strconv.FormatInt(s4.ID, 10)+"/reject", url.Values{"reason": {strings.Repeat("r", quoter.MaxNoteLen+1)}}), http.StatusBadRequest)
}

func TestAdminPages_EditPinAndDeleteAQuote(t *testing.T) {
	e := newCurationEnv(t)
	ctx := context.Background()
	c := e.client()
	c.signIn()
	q := e.quoteWithText("Simplify, simplify.")
	id := strconv.FormatInt(q.ID, 10)

	w := c.get("/admin/quotes?q=simplify")
	want(t, w, http.StatusOK)
	wantBody(t, w, `href="/admin/quotes/`+id+`"`)
	w = c.get("/admin/quotes?q=%23" + id)
	want(t, w, http.StatusSeeOther)
	wantHeader(t, w, "Location", "/admin/quotes/"+id)

	want(t, c.get("/admin/quotes/"+id), http.StatusOK)
	wantBody(t, c.last, "Simplify, simplify.", "The days it was already the quote of the day keep it")
	w = c.post("/admin/quotes/"+id, url.Values{"text": {"Simplify, simplify!"}, "author": {"Henry David Thoreau"}, "source": {"Walden"},
		"year": {"1854"}, "tags": {"simplicity"}, "lang": {"en"}})
	want(t, w, http.StatusSeeOther)
	got, _ := e.lib.Quote(ctx, q.ID)
	if got.Text != "Simplify, simplify!" || got.EditedBy.By != curatorName || got.EditedBy.Via != quoter.ViaWeb {
		t.Errorf("after the edit: %q edited by %+v", got.Text, got.EditedBy)
	}
	// An invalid edit is shown, and changes nothing.
	w = c.post("/admin/quotes/"+id, url.Values{"text": {"Simplify, simplify!"}, "author": {""}})
	want(t, w, http.StatusBadRequest)
	wantBody(t, w, "That did not work")
	// A duplicate of another quote.
	w = c.post("/admin/quotes/"+id, url.Values{"text": {"Brevity is the soul of wit."}, "author": {"Thoreau"}})
	want(t, w, http.StatusConflict)

	// Pin to a day to come, then try a day past.
	w = c.post("/admin/quotes/"+id+"/pin", url.Values{"date": {"2030-01-01"}})
	want(t, w, http.StatusSeeOther)
	pins, err := e.lib.Pins(ctx, quoter.Date{Year: 2030, Month: time.January, Day: 1})
	if err != nil || len(pins) != 1 || pins[0].QuoteID != q.ID {
		t.Errorf("pins after pinning: %+v, %v", pins, err)
	}
	want(t, c.get("/admin/quotes/"+id), http.StatusOK)
	wantBody(t, c.last, "Pinned to", "Unpin 2030-01-01")
	want(t, c.post("/admin/quotes/"+id+"/pin", url.Values{"date": {"2030-01-02"}}), http.StatusSeeOther)
	w = c.post("/admin/quotes/"+id+"/unpin", url.Values{"date": {"2030-01-02"}})
	want(t, w, http.StatusSeeOther)
	if pins, _ := e.lib.Pins(ctx, quoter.Date{Year: 2030, Month: time.January, Day: 1}); len(pins) != 1 || pins[0].Day.Day != 1 {
		t.Errorf("pins after unpinning 2030-01-02: %+v", pins)
	}
	want(t, c.post("/admin/quotes/"+id+"/unpin", url.Values{"date": {"2030-01-03"}}), http.StatusNotFound)
	want(t, c.post("/admin/quotes/"+id+"/unpin", url.Values{"date": {"soon"}}), http.StatusBadRequest)
	want(t, c.post("/admin/quotes/"+id+"/pin", url.Values{"date": {"2026-01-01"}}), http.StatusBadRequest)
	want(t, c.post("/admin/quotes/"+id+"/pin", url.Values{"date": {"2030-02-30"}}), http.StatusBadRequest)
	wantBody(t, c.last, "not a real day")

	// Delete: the quote leaves the library.
	w = c.post("/admin/quotes/"+id+"/delete", nil)
	want(t, w, http.StatusSeeOther)
	if _, err := e.lib.Quote(ctx, q.ID); quoter.ErrorCode(err) != quoter.EGONE {
		t.Errorf("quote after delete: %v, want EGONE", err)
	}
	want(t, c.get("/admin/quotes/"+id), http.StatusGone)
	want(t, c.get("/admin/quotes/999999"), http.StatusNotFound)
	want(t, c.post("/admin/quotes/999999/pin", url.Values{"date": {"2030-01-01"}}), http.StatusNotFound)
}

func TestAdminPages_ImportWithAnErrorOnLine3ImportsNothing(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	c.signIn()
	before := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes")).TotalCount
	want(t, c.get("/admin/import"), http.StatusOK)
	bad := "text,author\nA first good line.,Someone\n,Nobody wrote this\nA third good line.,Someone\n"
	w := c.upload("/admin/import", nil, "bad.csv", bad)
	want(t, w, http.StatusBadRequest)
	wantBody(t, w, "bad.csv:3", "Nothing was imported")
	if n := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes")).TotalCount; n != before {
		t.Errorf("a refused import changed the library from %d to %d quotes", before, n)
	}

	good := "text,author\nA first good line.,Someone\nA second good line.,Someone\nSimplify, simplify.,Thoreau\n"
	w = c.upload("/admin/import", url.Values{"format": {"csv"}}, "good.csv", strings.Replace(good, "Simplify, simplify.", `"Simplify, simplify."`, 1))
	want(t, w, http.StatusOK)
	wantBody(t, w, "2 new quotes, 1 already there")
	q := e.quoteWithText("A second good line.")
	if q.AddedBy.Via != quoter.ViaImport || q.AddedBy.File != "good.csv" || q.AddedBy.Line != 3 || q.AddedBy.By != curatorName {
		t.Errorf("imported quote's provenance = %+v, want import of good.csv line 3 by %s", q.AddedBy, curatorName)
	}

	// A fortune file's quotes go to a collection named after it, as with
	// "quotesd import".
	w = c.upload("/admin/import", nil, "Riddles.txt", "What has keys but opens no locks?\n    -- Anonymous\n%\nWhat gets wetter the more it dries?\n    -- Anonymous\n")
	want(t, w, http.StatusOK)
	if q := e.quoteWithText("What has keys but opens no locks?"); q.Collection != "riddles" || q.AddedBy.Line != 1 {
		t.Errorf("a fortune file's quote: collection %q, line %d; want riddles, 1", q.Collection, q.AddedBy.Line)
	}

	want(t, c.upload("/admin/import", url.Values{"format": {"yaml"}}, "x.yaml", "- a"), http.StatusBadRequest)
	wantBody(t, c.last, "unknown format")
	want(t, c.upload("/admin/import", nil, "huge.csv", "text,author\n"+strings.Repeat("x", web.MaxUpload+100<<10)+",y\n"), http.StatusRequestEntityTooLarge)
	want(t, c.upload("/admin/import", nil, "latin1.csv", "text,author\nCaf\xe9.,Someone\n"), http.StatusBadRequest)
	wantBody(t, c.last, "UTF-8")
	if n := decode[apiList[apiQuote]](t, e.get("/api/v1/quotes")).TotalCount; n != before+4 {
		t.Errorf("after the refused uploads the library has %d quotes, want %d", n, before+4)
	}
	// Without a session, an upload is refused.
	anon := e.client()
	want(t, anon.upload("/admin/import", url.Values{"csrf": {"x"}}, "good.csv", good), http.StatusForbidden)
	want(t, c.upload("/admin/import", nil, "empty.csv", "text,author\n"), http.StatusBadRequest)
}

func TestAdminPages_Collections(t *testing.T) {
	e := newCurationEnv(t)
	ctx := context.Background()
	c := e.client()
	c.signIn()
	want(t, c.get("/admin/collections"), http.StatusOK)
	wantBody(t, c.last, quoter.DefaultCollection)
	w := c.post("/admin/collections", url.Values{"name": {"club-quotes"}, "title": {"The club's own"}, "private": {"1"}})
	want(t, w, http.StatusSeeOther)
	cs, err := e.lib.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, col := range cs {
		if col.Name == "club-quotes" {
			found = col.Private && col.Title == "The club's own"
		}
	}
	if !found {
		t.Errorf("collections after creating club-quotes: %+v", cs)
	}
	want(t, c.get("/admin/collections"), http.StatusOK)
	wantBody(t, c.last, "Make club-quotes public")
	w = c.post("/admin/collections", url.Values{"name": {"Not A Name!"}})
	want(t, w, http.StatusBadRequest)
	wantBody(t, w, "That did not work")
}

func TestAdminPages_PageQueryParametersAreForgiving(t *testing.T) {
	e := newCurationEnv(t)
	c := e.client()
	c.signIn()
	w := c.get("/admin?done=%3Cscript%3E&utm_source=x")
	want(t, w, http.StatusOK)
	if strings.Contains(w.Body.String(), "<script>") {
		t.Error("?done= put markup in the page")
	}
	want(t, c.get("/admin?page=0"), http.StatusBadRequest)
}

// FuzzSessionCookie sends arbitrary session cookies: none signs anyone in,
// and none makes the server fail.
func FuzzSessionCookie(f *testing.F) {
	for _, seed := range []string{"", ".", "..", "YWRh.1.", "YWRh.99999999999.AAAA", "YWRh.-1.AAAA", "YWRh.1e9.AAAA",
		"YWRh." + strconv.Itoa(1<<62) + ".AAAA", "\x00.\x00.\x00", "YWRh.1.AAAA.extra", "%zz.1.2"} {
		f.Add(seed)
	}
	lib := quotertest.NewLibrary(f)
	h, err := passwd.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash(curatorPassword)
	if err != nil {
		f.Fatal(err)
	}
	if err := lib.SetPassword(context.Background(), curatorName, h); err != nil {
		f.Fatal(err)
	}
	handler, err := web.New(web.Config{Library: lib, Admin: true, Log: slog.New(slog.DiscardHandler), NoAccessLog: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest(http.MethodGet, "/admin", nil)
		r.Header.Set("Cookie", "quotesd_session="+v)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("cookie %q: status %d, want 303 to the sign-in page", v, w.Code)
		}
	})
}
