package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawAdmin sends an admin request to addr over a real socket: the request
// line, the token, the given headers, then body, and, when closeWrite, ends
// its half of the stream. It returns the status and the decoded error.
func rawAdmin(t *testing.T, addr, method, target, body string, closeWrite bool, headers ...string) (int, apiError) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A safety net for a broken server, never a measure: the server's own
	// read timeout (15 s) is shorter.
	c.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: quotes.test\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n", method, target, token)
	for _, h := range headers {
		fmt.Fprintf(c, "%s\r\n", h)
	}
	io.WriteString(c, "\r\n"+body)
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: no response: %v", method, target, err)
	}
	defer resp.Body.Close()
	var e apiError
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s %s: %d with a body that is not the JSON error: %q", method, target, resp.StatusCode, b)
	}
	return resp.StatusCode, e
}

// wantNoInternals fails if a message shown to a client carries socket
// addresses or Go's error text.
func wantNoInternals(t *testing.T, what, msg string) {
	t.Helper()
	for _, s := range []string{"127.0.0.1", "tcp", "i/o timeout", "EOF", "json:", "invalid character", "http:", "[]string", "int64", "Go value"} {
		if strings.Contains(msg, s) {
			t.Errorf("%s: message %q shows %q to the client", what, msg, s)
		}
	}
}

// A declared Content-Length over the admin body cap is a 413 at once: the
// server does not wait for a body it will refuse (it used to hold the
// connection for the whole read timeout, then answer 400 with the socket
// addresses in the message).
func TestAdmin_DeclaredBodyOverTheCapIs413AtOnce(t *testing.T) {
	e := newEnv(t, withToken)
	addr := listenRaw(t, e.handler, 0)
	for _, tc := range []struct{ method, target string }{
		{"POST", "/api/v1/quotes"}, {"PUT", "/api/v1/quotes/1"}, {"PATCH", "/api/v1/quotes/1"},
	} {
		status, apiErr := rawAdmin(t, addr, tc.method, tc.target, "", false, "Content-Length: 10000000000")
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with a 10 GB Content-Length and no body sent: %d %q, want 413 without waiting for the body",
				tc.method, tc.target, status, apiErr.StatusMessage)
		}
		wantNoInternals(t, tc.method+" "+tc.target, apiErr.StatusMessage)
	}
}

// A body that ends before its declared length is a 400 that says so, in
// words of our own: no addresses, no Go error text.
func TestAdmin_TruncatedBodyIs400WithoutInternals(t *testing.T) {
	e := newEnv(t, withToken)
	addr := listenRaw(t, e.handler, 0)
	status, apiErr := rawAdmin(t, addr, "POST", "/api/v1/quotes", `{"text":"cut`, true, "Content-Length: 100")
	if status != http.StatusBadRequest || apiErr.Parameter != "body" {
		t.Errorf("truncated body: %d %+v, want 400 naming the body", status, apiErr)
	}
	wantNoInternals(t, "truncated body", apiErr.StatusMessage)
}

// Bodies that do not decode are refused with messages that name the field
// and the JSON type wanted, never Go's types or the decoder's text.
func TestAdmin_BadJSONMessagesShowNoGoInternals(t *testing.T) {
	e := newEnv(t, withToken)
	for _, tc := range []struct{ name, body, param, want string }{
		{"Syntax", `{"text": x}`, "body", "invalid JSON body at byte 10"},
		{"Truncated", `{"text": "a", "author": `, "body", "invalid JSON body: it ends before the object does"},
		{"TextNumber", `{"text": 5, "author": "A"}`, "text", "invalid text: want a JSON string"},
		{"YearString", `{"text": "t", "author": "A", "year": "1850"}`, "year", "invalid year: want a JSON number (a whole one)"},
		{"YearFraction", `{"text": "t", "author": "A", "year": 1.5}`, "year", "invalid year: want a JSON number (a whole one)"},
		{"TagsString", `{"text": "t", "author": "A", "tags": "a"}`, "tags", "invalid tags: want a JSON array of strings"},
		{"TagNumber", `{"text": "t", "author": "A", "tags": [1]}`, "tags", "invalid tags: want a JSON array of strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wantAPIError(t, e.admin(http.MethodPost, "/api/v1/quotes", tc.body), http.StatusBadRequest, tc.param)
			if got.StatusMessage != tc.want {
				t.Errorf("message = %q, want %q", got.StatusMessage, tc.want)
			}
			wantNoInternals(t, tc.name, got.StatusMessage)
		})
	}
}
