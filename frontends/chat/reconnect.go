package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/quotesd/quotesd/reactor"
)

// Reconnect is the Serve loop of a bot that connects out (the Connector of
// Acceptor-Connector): it runs session, and again whenever the link is
// lost, until ctx ends, then returns nil. Waits between attempts come from
// Backoff, which starts again from its Min after a session that was
// established and stayed up for HealthyAfter, so that a server that
// accepts and at once drops the bot is not hammered. The only errors it
// returns are those that retrying cannot fix, marked with
// reactor.Permanent (an account refused): network failures, TLS failures
// and the server's errors are retried, for they may pass and the bot must
// not stop the other frontends.
type Reconnect struct {
	Name         string // the protocol, the logs' first word: "irc", "xmpp"
	Backoff      Backoff
	HealthyAfter time.Duration
	Log          *slog.Logger
	// Attrs are what the logs say of the server (its address, the
	// account), asked for at each line: they may change between sessions.
	Attrs func() []any
}

// Run runs session until ctx ends or it fails for good (see Reconnect).
// session reports whether it got as far as an established session
// (registered, bound) and why it ended.
func (r *Reconnect) Run(ctx context.Context, session func(context.Context) (established bool, err error)) error {
	for {
		start := time.Now()
		established, err := session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if reactor.IsPermanent(err) {
			r.Log.Error(r.Name+" giving up", append(r.Attrs(), "err", err)...)
			return err
		}
		if established && time.Since(start) >= r.HealthyAfter {
			r.Backoff.Reset()
		}
		wait := r.Backoff.Next()
		r.Log.Warn(r.Name+" disconnected", append(r.Attrs(), "err", err, "retry_in", wait.Round(time.Millisecond).String())...)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
