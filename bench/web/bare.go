//go:build ignore

// bare is the baseline of the web benchmark: the least a Go HTTP server can
// do for /api/v1/today, writing a fixed JSON body with net/http alone.
//
//	go run bare.go -addr 127.0.0.1:18081 -body today.json
//
// With -headers (a file of "Name: value" lines, as curl -D writes them) it
// sends those header fields too, and with -hardened it runs behind the
// http.Server timeouts quotesd uses: together, the least net/http can do
// for the response quotesd must send, with no code of quotesd's in the way.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "address to listen on")
	file := flag.String("body", "", "file holding the JSON body to serve")
	hardened := flag.Bool("hardened", false, "serve with the http.Server timeouts and limits quotesd uses")
	headers := flag.String("headers", "", `file of "Name: value" header lines to send as well (the status line, Date and Content-Length are skipped)`)
	flag.Parse()
	body := []byte(`{"id":1,"text":"Simplify, simplify.","author":"Henry David Thoreau"}` + "\n")
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			log.Fatal(err)
		}
		body = b
	}
	fixed := http.Header{
		"Content-Type":   {"application/json; charset=utf-8"},
		"Content-Length": {strconv.Itoa(len(body))},
	}
	if *headers != "" {
		// As quotesd does for a body this short, leave Content-Length to
		// net/http: one header field fewer to store, sort and copy.
		delete(fixed, "Content-Length")
		if err := readHeaders(*headers, fixed); err != nil {
			log.Fatal(err)
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		w.Write(body)
	})
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

// readHeaders adds the header fields of file (a response head as curl -D
// saves it) to h, but for the ones net/http writes itself.
func readHeaders(file string, h http.Header) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || strings.HasPrefix(name, "HTTP/") {
			continue
		}
		switch name = http.CanonicalHeaderKey(strings.TrimSpace(name)); name {
		case "Date", "Content-Length":
		default:
			h[name] = []string{strings.TrimSpace(value)}
		}
	}
	return nil
}
