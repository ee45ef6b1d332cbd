package qotd

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/quotesd/quotesd/quoter/quotertest"
)

// BenchmarkQOTD_TCP measures a whole QOTD exchange over loopback (connect,
// reply, close), client included; bench/qotd/run.sh compares it with a bare
// server in separate processes.
func BenchmarkQOTD_TCP(b *testing.B) {
	lib := quotertest.NewLibrary(b)
	s := NewServer(lib, nil, nil, nil, Config{})
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
			io.Copy(io.Discard, c)
			c.Close()
		}
	})
}

// BenchmarkQOTD_Reply measures the reply alone: today's quote from the
// cache, the path every connection takes.
func BenchmarkQOTD_Reply(b *testing.B) {
	s := NewServer(quotertest.NewLibrary(b), nil, nil, nil, Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Reply(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
