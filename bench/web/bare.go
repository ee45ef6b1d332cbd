//go:build ignore

// bare is the baseline of the web benchmark: the least a Go HTTP server can
// do for /api/v1/today, writing a fixed JSON body with net/http alone.
//
//	go run bare.go -addr 127.0.0.1:18081 -body today.json
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "address to listen on")
	file := flag.String("body", "", "file holding the JSON body to serve")
	hardened := flag.Bool("hardened", false, "serve with the http.Server timeouts and limits quotesd uses")
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
