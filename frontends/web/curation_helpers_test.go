package web_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/passwd"
	"github.com/quotesd/quotesd/quoter"
)

// The curator of the curation tests, and their password.
const (
	curatorName     = "ada"
	curatorPassword = "correct horse battery staple"
)

// withCuration turns on /admin and the public submissions, and the admin
// API (withToken).
func withCuration(c *web.Config) {
	c.Admin, c.Submissions = true, true
	withToken(c)
}

// newCurationEnv is newEnv with curation on and a curator whose password
// is curatorPassword.
func newCurationEnv(t *testing.T, edit ...func(*web.Config)) *testEnv {
	t.Helper()
	e := newEnv(t, append([]func(*web.Config){withCuration}, edit...)...)
	setPassword(t, e.lib, curatorName, curatorPassword)
	return e
}

func setPassword(t *testing.T, lib quoter.Library, name, password string) {
	t.Helper()
	if err := lib.SetPassword(context.Background(), name, hashPassword(t, password)); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
}

// client is a browser without a browser: it keeps cookies, sends forms,
// and reads the CSRF token of the last page.
type client struct {
	t       *testing.T
	e       *testEnv
	remote  string
	cookies map[string]*http.Cookie
	headers []string
	tls     bool // the requests came over TLS
	last    *httptest.ResponseRecorder
	token   string // the CSRF token of the last page that had one
}

func (e *testEnv) client() *client {
	return &client{t: e.t, e: e, remote: "192.0.2.10:51000", cookies: map[string]*http.Cookie{}}
}

func (c *client) send(r *http.Request) *httptest.ResponseRecorder {
	c.t.Helper()
	r.RemoteAddr = c.remote
	if c.tls {
		r.TLS = &tls.ConnectionState{}
	}
	for _, ck := range c.cookies {
		r.AddCookie(ck)
	}
	r.Header.Set("Accept", browserAccept)
	for i := 0; i+1 < len(c.headers); i += 2 {
		r.Header.Set(c.headers[i], c.headers[i+1])
	}
	w := httptest.NewRecorder()
	c.e.handler.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	c.last = w
	if m := csrfRE.FindStringSubmatch(w.Body.String()); m != nil {
		c.token = html.UnescapeString(m[1])
	}
	return w
}

func (c *client) get(target string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.send(httptest.NewRequest(http.MethodGet, target, nil))
}

// post sends form, adding the CSRF token of the last page unless form has
// one (an empty one sends none).
func (c *client) post(target string, form url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	form = addCSRF(c, form)
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.send(r)
}

func addCSRF(c *client, form url.Values) url.Values {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf())
	} else if form.Get("csrf") == "" {
		form.Del("csrf")
	}
	return form
}

// upload sends a multipart form with one file.
func (c *client) upload(target string, form url.Values, name, content string) *httptest.ResponseRecorder {
	c.t.Helper()
	form = addCSRF(c, form)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	r := httptest.NewRequest(http.MethodPost, target, &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(r)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the last page that had one, as a browser
// that went back to a form would send.
func (c *client) csrf() string {
	c.t.Helper()
	if c.token == "" {
		c.t.Fatal("no page with a CSRF token read yet")
	}
	return c.token
}

// signIn signs the client in as the test curator.
func (c *client) signIn() {
	c.t.Helper()
	want(c.t, c.get("/admin/signin"), http.StatusOK)
	w := c.post("/admin/signin", url.Values{"name": {curatorName}, "password": {curatorPassword}})
	want(c.t, w, http.StatusSeeOther)
	if c.cookies["quotesd_session"] == nil {
		c.t.Fatalf("signing in set no session cookie; Set-Cookie: %q", w.Header().Values("Set-Cookie"))
	}
}

// wantBody fails unless the body contains every one of subs.
func wantBody(t *testing.T, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("body lacks %q:\n%s", s, truncate(w.Body.String()))
		}
	}
}

// newFormRequest is a POST of a raw urlencoded body.
func newFormRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// hashPassword makes the PHC string "quotesd admin passwd" would store,
// with cheap costs: the tests check sessions, not the hash's cost.
func hashPassword(t *testing.T, password string) string {
	t.Helper()
	h, err := passwd.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
