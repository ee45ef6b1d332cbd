package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// A curator's session is a stateless signed cookie, so that it works
// across any number of replicas behind a load balancer and survives
// restarts, with nothing stored:
//
//	quotesd_session = base64url(curator) "." expiry (Unix seconds) "." base64url(mac)
//
// mac is HMAC-SHA256 over the name and the expiry, keyed by a key derived
// from the curator's stored password hash (sessionKey). Changing a
// curator's password (or removing the curator) changes the key, and so
// signs out every session of theirs at once. The cookie is HttpOnly,
// SameSite=Strict and, when the request came over TLS, Secure.
//
// The CSRF token of a session's forms is another MAC under the same key
// (csrfToken): a page of another site can neither read nor compute it.
// Forms without a session (sign-in, public submissions) carry a random
// token that must equal the one in the quotesd_form cookie (the
// double-submit pattern; the cookie is SameSite=Strict and HttpOnly).

const (
	sessionCookie = "quotesd_session"
	formCookie    = "quotesd_form"
	csrfField     = "csrf"

	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 12 * time.Hour
)

// session is a signed-in curator.
type session struct {
	Curator string
	Expires time.Time
	key     []byte
}

// sessionKey derives the key that signs a curator's sessions from their
// stored password hash (a PHC string, itself salted).
func sessionKey(hash string) []byte {
	m := hmac.New(sha256.New, []byte("quotesd web session v1"))
	m.Write([]byte(hash))
	return m.Sum(nil)
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// cookieValue is s as the session cookie's value.
func (s *session) cookieValue() string {
	exp := strconv.FormatInt(s.Expires.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(s.Curator)) + "." + exp + "." +
		base64.RawURLEncoding.EncodeToString(mac(s.key, "session", s.Curator, exp))
}

// csrfToken is the token every form of s carries.
func (s *session) csrfToken() string {
	exp := strconv.FormatInt(s.Expires.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString(mac(s.key, "csrf", s.Curator, exp))
}

// session returns the request's signed-in curator, or nil when there is
// none: no cookie, a malformed or expired one, a bad signature, or a
// curator whose password has changed or who is gone since.
func (h *Handler) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return nil
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || quoter.ValidCurator(string(name)) != nil {
		return nil
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !h.cal.Time().Before(time.Unix(exp, 0)) {
		return nil
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil
	}
	hash, err := h.q.PasswordHash(r.Context(), string(name))
	if err != nil || hash == "" {
		if err != nil && quoter.ErrorCode(err) != quoter.ENOTFOUND {
			h.log.Error("reading a curator's password hash", "curator", string(name), "err", err)
		}
		return nil
	}
	s := &session{Curator: string(name), Expires: time.Unix(exp, 0), key: sessionKey(hash)}
	if !hmac.Equal(sig, mac(s.key, "session", s.Curator, parts[1])) {
		return nil
	}
	return s
}

// secure reports whether r came over TLS: to this server, or to a trusted
// proxy that says so (X-Forwarded-Proto: https from a peer among
// --web-trusted-proxies), or the site's --web-base-url is https.
func (h *Handler) secure(r *http.Request) bool {
	if r.TLS != nil || h.baseURL != nil && h.baseURL.Scheme == "https" {
		return true
	}
	if len(h.trusted) == 0 || !strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	peer := peerAddr(r.RemoteAddr).Unmap()
	for _, p := range h.trusted {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// setCookie sets an HttpOnly, SameSite=Strict cookie for the whole site,
// Secure when r came over TLS. maxAge < 0 deletes it.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

// startSession signs curator in: it sets the session cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, curator, hash string) {
	s := &session{Curator: curator, Expires: h.cal.Time().Add(SessionTTL).Truncate(time.Second), key: sessionKey(hash)}
	h.setCookie(w, r, sessionCookie, s.cookieValue(), int(SessionTTL/time.Second))
}

// formToken returns the token for a form shown without a session, setting
// the quotesd_form cookie it must match when the request has none.
func (h *Handler) formToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	tok := base64.RawURLEncoding.EncodeToString(b)
	h.setCookie(w, r, formCookie, tok, 0)
	return tok
}

// errCSRF is the refusal of a form sent without its token.
var errCSRF = &httpError{http.StatusForbidden, "this form has expired or did not come from this site: reload the page and send it again"}

// checkFormToken checks a form without a session: its csrf field must
// equal the quotesd_form cookie.
func checkFormToken(r *http.Request) error {
	c, err := r.Cookie(formCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue(csrfField))) {
		return errCSRF
	}
	return nil
}

type curatorKey struct{}

// withCurator puts s in ctx, for the admin pages' handlers.
func withCurator(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, curatorKey{}, s)
}

// curatorOf returns the session the admin middleware found.
func curatorOf(r *http.Request) *session {
	s, _ := r.Context().Value(curatorKey{}).(*session)
	return s
}
