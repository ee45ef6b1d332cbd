// Command bare is the baseline of the QOTD benchmark: the least a Go server
// can do for RFC 865 (accept, write a fixed reply, close), with none of
// quotesd's limits, logging or library. quotesd's QOTD is measured against it.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1718", "address to listen on")
	size := flag.Int("size", 120, "bytes of the fixed reply")
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
			c.Write(reply)
			c.Close()
		}()
	}
}
