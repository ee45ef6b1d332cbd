// Command idle opens n connections to a server and holds them open, idle,
// until it is stopped: the load of the memory benchmark, which reads the
// server's resident memory while they are held.
//
// With -proto qotd a connection is a bare TCP connect that never reads (a
// client that hangs around after asking for the quote); with -proto http
// each connection makes one keep-alive request, reads the answer and then
// stays open and silent, as a browser's connection between two pages.
// Once every connection is open it writes "ready N" to the file given by
// -ready (the benchmark script waits for it), then waits for a signal.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1717", "server `address`")
	n := flag.Int("n", 10000, "connections to hold")
	proto := flag.String("proto", "qotd", "qotd (connect only) or http (one GET, then keep-alive)")
	path := flag.String("path", "/api/v1/today", "HTTP path requested once on each connection")
	ready := flag.String("ready", "", "`file` to write \"ready N\" to once every connection is open")
	flag.Parse()
	if *proto != "qotd" && *proto != "http" {
		log.Fatalf("-proto %q: want qotd or http", *proto)
	}

	conns := make([]net.Conn, *n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	// A few dialers at once: fast, without a burst of SYNs larger than the
	// server's accept backlog.
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := open(*addr, *proto, *path)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("connection %d: %w", i, err)
				}
				conns[i] = c
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		log.Fatal(firstErr)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(fmt.Sprintf("ready %d\n", *n)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	for _, c := range conns {
		c.Close()
	}
}

// open dials addr and, for HTTP, makes one request and reads the answer
// to the end, leaving the connection open and idle.
func open(addr, proto, path string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if proto == "qotd" {
		return c, nil
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
