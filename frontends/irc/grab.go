package irc

// What people said last in each channel, for !grab: in memory only, and
// bounded.

import (
	"sync"
	"time"
)

// maxGrabNicks bounds the lines remembered per channel: past it, the
// oldest line is forgotten. maxGrabChannels bounds the channels (the bot
// is only in those configured, but a server may put it in others).
const (
	maxGrabNicks    = 1000
	maxGrabChannels = 100
)

// said is a line someone said in a channel.
type said struct {
	Nick string // as they were known when they said it
	Text string // cleaned as chat.CleanText does; "* nick waves" for a CTCP ACTION
	At   time.Time
}

// lastLines remembers, per channel, each nick's last line there. Lines
// that are commands to the bot are not remembered: "!grab bob" must
// grab what bob said, not his last request.
type lastLines struct {
	mu    sync.Mutex
	chans map[string]map[string]said // lower-cased channel, then nick
}

func newLastLines() *lastLines {
	return &lastLines{chans: make(map[string]map[string]said)}
}

// record remembers l as the last line of its nick in channel.
func (ll *lastLines) record(channel string, l said) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	ch := ircLower(channel)
	m := ll.chans[ch]
	if m == nil {
		if len(ll.chans) >= maxGrabChannels {
			return
		}
		m = make(map[string]said)
		ll.chans[ch] = m
	}
	key := ircLower(l.Nick)
	if _, ok := m[key]; !ok && len(m) >= maxGrabNicks {
		oldest := ""
		for k, v := range m {
			if oldest == "" || v.At.Before(m[oldest].At) {
				oldest = k
			}
		}
		delete(m, oldest)
	}
	m[key] = l
}

// last returns nick's last line in channel.
func (ll *lastLines) last(channel, nick string) (said, bool) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	l, ok := ll.chans[ircLower(channel)][ircLower(nick)]
	return l, ok
}

// rename follows a NICK change: the line is still theirs.
func (ll *lastLines) rename(from, to string) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	for _, m := range ll.chans {
		if l, ok := m[ircLower(from)]; ok {
			delete(m, ircLower(from))
			m[ircLower(to)] = l
		}
	}
}
