package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows how a long command is getting on, as one line that
// rewrites itself, only when stderr is a terminal: in a pipe, a log or a
// test it stays silent.
type progress struct {
	w     io.Writer // nil when silent
	last  time.Time
	shown bool
}

func newProgress(stderr io.Writer) *progress {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		return &progress{w: stderr}
	}
	return &progress{}
}

// printf replaces the progress line, at most ten times a second.
func (p *progress) printf(format string, args ...any) {
	if p.w == nil || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\r\x1b[K"+format, args...)
}

// done clears the progress line.
func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
