//go:build ignore

// bare is the baseline of the web benchmark: the least a Go HTTP server can
// do for /api/v1/today, writing a fixed JSON body with net/http alone.
//
//	go run bare.go -addr 127.0.0.1:18081 -body today.json
//
// With -headers (a response head as curl -D saves it) it sends those
// header fields in place of its own, and with -hardened it runs behind the
// http.Server timeouts quotesd uses: together, what net/http alone makes of
// the response quotesd must send, with no code of quotesd's in the way.
// With -status 304 it answers every request 304 Not Modified with those
// header fields and no body: the reference for a conditional GET.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "address to listen on")
	file := flag.String("body", "", "file holding the JSON body to serve")
	hardened := flag.Bool("hardened", false, "serve with the http.Server timeouts and limits quotesd uses")
	headers := flag.String("headers", "", `file of "Name: value" header lines to send as well (the status line, Date and Content-Length are skipped)`)
	status := flag.Int("status", http.StatusOK, "status of every answer: 200 with the body, or 304 with no body (needs -headers)")
	flag.Parse()
	body := []byte(`{"id":1,"text":"Simplify, simplify.","author":"Henry David Thoreau"}` + "\n")
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			log.Fatal(err)
		}
		body = b
	}
	n := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{n}
		w.Write(body)
	})
	if *headers != "" {
		fields, err := readHeaders(*headers)
		if err != nil {
			log.Fatal(err)
		}
		// Content-Length is left to net/http, as quotesd leaves it for a
		// body this short: one header field fewer to store, sort and copy.
		handler = func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for _, f := range fields {
				h[f.name] = f.value
			}
			if *status == http.StatusNotModified {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Write(body)
		}
	}
	srv := &http.Server{Addr: *addr, Handler: handler}
	if *hardened { // as frontends/web.NewServer: deadlines on every request
		srv.ReadHeaderTimeout = 5 * time.Second
		srv.ReadTimeout = 15 * time.Second
		srv.WriteTimeout = 30 * time.Second
		srv.IdleTimeout = 120 * time.Second
		srv.MaxHeaderBytes = 32 << 10
	}
	log.Fatal(srv.ListenAndServe())
}

type field struct {
	name  string
	value []string
}

// readHeaders returns the header fields of file (a response head as curl
// -D saves it), but for the ones net/http writes itself, with their names
// in canonical form and the values of a repeated name together.
func readHeaders(file string) ([]field, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var fields []field
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || strings.HasPrefix(name, "HTTP/") {
			continue
		}
		name, value = http.CanonicalHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "Date" || name == "Content-Length" {
			continue
		}
		// A name on several lines is one field of several values, as
		// net/http keeps it, so the reference sends every line as well.
		if i := slices.IndexFunc(fields, func(f field) bool { return f.name == name }); i >= 0 {
			fields[i].value = append(fields[i].value, value)
		} else {
			fields = append(fields, field{name, []string{value}})
		}
	}
	// A head without a Content-Type or an ETag is not a response quotesd
	// sends (an empty file, a body saved by mistake): say so rather than
	// measure it. (A 304 carries no Content-Type.)
	if !slices.ContainsFunc(fields, func(f field) bool { return f.name == "Content-Type" || f.name == "Etag" }) {
		return nil, fmt.Errorf("%s: no Content-Type or ETag header field: want a response head as curl -D saves it", file)
	}
	return fields, nil
}
