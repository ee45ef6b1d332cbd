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
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "address to listen on")
	file := flag.String("body", "", "file holding the JSON body to serve")
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
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{n}
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
