// Command bare is the baseline of the QOTD benchmark: the least a Go server
// can do for RFC 865 (accept, write a fixed reply, close), with none of
// quotesd's limits, logging or library. quotesd's QOTD is measured against it.
//
// With -query it is the least a Finger server (RFC 1288) can do: accept,
// read the client's query line, write the fixed reply, close. The two side
// by side tell what the query line alone costs, whoever serves it.
package main

import (
	"bytes"
	"context"
	"flag"
	"log"
	"net"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1718", "address to listen on")
	size := flag.Int("size", 120, "bytes of the fixed reply")
	query := flag.Bool("query", false, "read the client's query line (to its LF) before replying, as Finger does")
	keepAlive := flag.Bool("keepalive", true, "TCP keep-alive on accepted connections (Go's default; quotesd turns it off for QOTD)")
	flag.Parse()
	reply := []byte(strings.Repeat("x", max(*size-2, 0)) + "\r\n")
	lc := net.ListenConfig{}
	if !*keepAlive {
		lc.KeepAlive = -1
	}
	ln, err := lc.Listen(context.Background(), "tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("bare QOTD listening on %s", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			if *query && !readLine(c) {
				return
			}
			c.Write(reply)
		}()
	}
}

// readLine reads until a LF, at most 512 bytes; false if the client
// closed first or sent more.
func readLine(c net.Conn) bool {
	var buf [512]byte
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		if bytes.IndexByte(buf[n:n+m], '\n') >= 0 {
			return true
		}
		n += m
		if err != nil {
			return false
		}
	}
	return false
}
