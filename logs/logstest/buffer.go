// Package logstest holds what tests of log output share.
package logstest

import (
	"bytes"
	"sync"
)

// Buffer collects log output written from several goroutines (a server's
// and the test's), for a test to read back at any time.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
