package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/reactor"
)

// startWatchdog pings systemd's watchdog (WatchdogSec= in the unit) while
// serve is healthy, when systemd asked for pings (WATCHDOG_USEC, for this
// process). It returns at once; the pings stop when ctx ends.
func startWatchdog(ctx context.Context, log *slog.Logger, lib quoter.Quoter, sup *reactor.Supervisor) {
	timeout, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog: ignoring a bad WATCHDOG_USEC", "err", err)
		return
	}
	if timeout <= 0 {
		return
	}
	log.Info("systemd watchdog on", "timeout", timeout.String())
	check := func(ctx context.Context) error { return healthCheck(ctx, lib, sup, timeout) }
	go watchdog(ctx, log, timeout/2, check, func() error {
		_, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog)
		return err
	})
}

// healthCheck is what the watchdog asks before each ping: the library
// answers a primary-key read within a quarter of the watchdog's timeout
// (no such quote is an answer too), and no frontend's serve loop has been
// down for a whole timeout (one the supervisor is restarting is down for a
// moment; one it has given up restarting for a back-off is not serving).
// Readiness (/readyz: the mail queue cannot write) is not asked: a full
// disk is not fixed by a restart.
func healthCheck(ctx context.Context, lib quoter.Quoter, sup *reactor.Supervisor, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout/4)
	defer cancel()
	if _, err := lib.Quote(ctx, 1); err != nil && quoter.ErrorCode(err) != quoter.ENOTFOUND {
		return fmt.Errorf("library: %w", err)
	}
	return sup.Down(timeout)
}

// watchdog runs check every interval and calls ping after each check that
// passes, until ctx ends. Check and ping run in turn on one goroutine, so
// a check that never returns stops the pings, and systemd, seeing none for
// WatchdogSec, kills and restarts quotesd: that is the point. A failing
// check is logged when it starts and stops failing, not at every tick.
func watchdog(ctx context.Context, log *slog.Logger, interval time.Duration, check func(context.Context) error, ping func() error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		if err := check(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				log.Error("health check failed: no longer pinging the systemd watchdog", "err", err)
			}
			failing = true
		} else {
			if failing {
				log.Info("health check passes again: pinging the systemd watchdog")
			}
			failing = false
			if err := ping(); err != nil {
				log.Warn("sd_notify failed", "state", daemon.SdNotifyWatchdog, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
