package finger

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/quotesd/quotesd/quoter/quotertest"
)

// BenchmarkFinger_TCP measures a whole Finger exchange over loopback
// (connect, the empty query, today's quote, close), client included: QOTD's
// BenchmarkQOTD_TCP with the client's line first. bench/run compares the
// two servers in separate processes.
func BenchmarkFinger_TCP(b *testing.B) {
	s := NewServer(quotertest.NewLibrary(b), nil, nil, nil, DefaultConfig())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.TCP(ln).Serve(ctx)
	addr := ln.Addr().String()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			io.WriteString(c, "\r\n")
			io.Copy(io.Discard, c)
			c.Close()
		}
	})
}

// BenchmarkFinger_Parse measures parsing a query line.
func BenchmarkFinger_Parse(b *testing.B) {
	line := []byte("poetry")
	b.ReportAllocs()
	for b.Loop() {
		Parse(line)
	}
}
