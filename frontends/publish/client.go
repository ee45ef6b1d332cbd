package publish

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// answerMax is how much of a service's answer is read back: enough for an
// error message, not enough for a hostile server to fill the memory.
const answerMax = 64 << 10

// answerLogged is how much of a refused post's answer a log line shows.
const answerLogged = 512

// newClient returns the HTTP client of the posts: each request within
// timeout, dialled by dial (nil: a net.Dialer), certificates checked with
// tlsConfig (nil: the system's roots), no proxy (posts go only
// where they are configured to), and redirects followed only on the same
// host and scheme, three at most: a webhook that points elsewhere is a
// mistake to report, not a place to send a secret's post to.
func newClient(dial func(ctx context.Context, network, addr string) (net.Conn, error), tlsConfig *tls.Config, timeout time.Duration) *http.Client {
	if dial == nil {
		dial = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		TLSClientConfig:       tlsConfig.Clone(),
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       time.Minute,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			first := via[0].URL
			if req.URL.Host != first.Host || req.URL.Scheme != first.Scheme || len(via) > 3 {
				return http.ErrUseLastResponse // refused below, as a permanent failure
			}
			return nil
		},
	}
}

// request builds the HTTP request of one post to t.
func (t *target) request(ctx context.Context, p post, userAgent string) (*http.Request, error) {
	var body []byte
	var err error
	switch t.Kind {
	case Slack:
		body, err = slackBody(p)
	case Discord:
		body, err = discordBody(p)
	case Ntfy:
		body, err = ntfyBody(p, t.topic)
	case Gotify:
		body, err = gotifyBody(p)
	case JSON:
		body, err = jsonBody(p)
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url.String(), bytes.NewReader(body))
	if err != nil {
		return nil, errors.New(t.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	switch t.Kind {
	case Ntfy:
		if t.secret != "" {
			req.Header.Set("Authorization", "Bearer "+t.secret)
		}
	case Gotify:
		if t.secret != "" {
			req.Header.Set("X-Gotify-Key", t.secret)
		}
	case JSON:
		req.Header.Set("X-Quotesd-Signature", Sign([]byte(t.secret), body))
		req.Header.Set("X-Quotesd-Delivery", t.Name+"/"+p.Day.String())
	}
	return req, nil
}

// Sign returns the X-Quotesd-Signature of body under key: "sha256=" and
// the hex HMAC-SHA256, as GitHub signs its webhooks. A receiver computes
// the same over the raw body it got and compares in constant time.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// sendError is a post that failed: permanent (the service refused it:
// sending it again would be refused again) or not, in which case
// retryAfter, when above 0, is how long the service asked us to wait.
type sendError struct {
	status     int // 0 for a failure before an answer
	permanent  bool
	retryAfter time.Duration
	msg        string // secrets redacted
}

func (e *sendError) Error() string { return e.msg }

// send posts req and reads the answer back (answerMax at most). Any 2xx
// is success. 429 and 5xx are temporary, with the Retry-After the service
// gave; a network failure or timeout is temporary; any other status (a
// 4xx, a redirect not followed) is permanent.
func (t *target) send(client *http.Client, req *http.Request, now time.Time) error {
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, which may be a secret
		}
		return &sendError{msg: t.redact(err.Error())}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, answerMax))
	io.Copy(io.Discard, io.LimitReader(resp.Body, answerMax)) // let the connection be reused when little is left
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &sendError{status: resp.StatusCode, msg: t.redact(fmt.Sprintf("answered %s: %s", resp.Status, shorten(string(answer))))}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		e.permanent = true
		e.msg = t.redact(fmt.Sprintf("answered %s, a redirect to another host or one too many: not followed", resp.Status))
	default:
		e.permanent = true
	}
	return e
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
// Zero when absent or malformed.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// shorten keeps a log line's answer short and on one line.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > answerLogged {
		s = cutBytes(s, answerLogged)
	}
	if s == "" {
		return "(no body)"
	}
	return s
}
