package main

// What the end-to-end tests of replicas share: several `quotesd serve` on
// one PostgreSQL database, one of which leads a role (irc, xmpp,
// publish) and is killed.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startReplicas starts n `quotesd serve` on the library db, waiting for
// the listeners named in wait; each gets a state directory of its own
// (stateDirs, in order) and args(its state directory) as its arguments.
func startReplicas(t *testing.T, db string, n int, wait []string, args func(stateDir string) []string) (rs []*server, stateDirs []string) {
	t.Helper()
	for range n {
		dir := t.TempDir()
		stateDirs = append(stateDirs, dir)
		rs = append(rs, startServe(t, db, wait, args(dir)...))
	}
	return rs, stateDirs
}

// leading returns the replicas whose logs say they won their lease and
// have not given it up since.
func leading(rs []*server) []*server {
	var out []*server
	for _, s := range rs {
		lead := false
		for _, l := range s.Logs() {
			switch {
			case strings.Contains(l, `"msg":"lease won: leading"`):
				lead = true
			case strings.Contains(l, `"msg":"lease given up: following"`):
				lead = false
			}
		}
		if lead {
			out = append(out, s)
		}
	}
	return out
}

// theLeader returns the one replica of rs that leads, and the others; the
// test stops unless exactly one does.
func theLeader(t *testing.T, rs []*server) (leader *server, rest []*server) {
	t.Helper()
	leaders := leading(rs)
	if len(leaders) != 1 {
		t.Fatalf("%d replicas say they lead, want 1", len(leaders))
	}
	for _, s := range rs {
		if s != leaders[0] {
			rest = append(rest, s)
		}
	}
	return leaders[0], rest
}

// stopReplicas stops rs, each of which must exit with status 0, and
// holds each of stateDirs to having no file named dailyFile: with
// replicas, the database holds the daily posts.
func stopReplicas(t *testing.T, rs []*server, stateDirs []string, dailyFile string) {
	t.Helper()
	for _, s := range rs {
		if err := s.Stop(); err != nil {
			t.Errorf("quotesd serve exited with %v, want status 0", err)
		}
	}
	for _, dir := range stateDirs {
		if _, err := os.Stat(filepath.Join(dir, dailyFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s/%s: %v; want none: the database holds the daily posts", dir, dailyFile, err)
		}
	}
}
