package main

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/quotesd/quotesd/reactor"
	"github.com/quotesd/quotesd/settings"
)

// signalLoop handles signals until served is closed: SIGHUP reloads; the
// first SIGINT or SIGTERM (or the end of parent, the caller's context)
// cancels the supervisor's context with cancel, so it stops accepting and
// drains; a second signal exits at once.
func (r *reloader) signalLoop(parent context.Context, cancel context.CancelFunc, sigs <-chan os.Signal, served <-chan struct{}, timeout time.Duration) {
	done := parent.Done()
	stopping, signals := false, 0
	stop := func() {
		if !stopping {
			stopping = true
			done = nil // seen: stop selecting on it
			sdNotify(r.log, daemon.SdNotifyStopping)
			cancel()
		}
	}
	for {
		select {
		case <-served:
			return
		case <-done:
			r.log.Info("shutting down: no new connections; finishing those in flight", "timeout", timeout)
			stop()
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if !stopping {
					r.reload()
				}
				continue
			}
			if signals++; signals > 1 {
				r.log.Warn("second signal: exiting at once", "signal", sig.String())
				exitNow(1)
				return
			}
			if !stopping {
				r.log.Info("shutting down: no new connections; finishing those in flight", "signal", sig.String(), "timeout", timeout)
			}
			stop()
		}
	}
}

// sdNotify tells systemd about a state change; without NOTIFY_SOCKET it
// does nothing.
func sdNotify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// reloader applies SIGHUP: re-read the settings, set the log level, reopen
// the library, and give each running component its live settings.
type reloader struct {
	g        *globals
	args     []string
	log      *slog.Logger
	level    *slog.LevelVar
	lib      *reactor.Library
	health   *libraryHealth
	writable bool
	inForce  *serveSettings // the settings in force: restart-only ones as at start
	running  []any          // per components: what start left running; nil if disabled
}

func (r *reloader) reload() {
	sdNotify(r.log, daemon.SdNotifyReloading)
	defer sdNotify(r.log, daemon.SdNotifyReady)
	r.log.Info("reloading settings and reopening the library")
	r.reloadSettings()
	if db, err := openServeLibrary(r.g.DB, r.writable); err != nil {
		r.log.Error("reload: cannot reopen the library; keeping the open one", "db", displayDB(r.g.DB), "err", err)
	} else {
		r.health.set(db)
		if err := r.lib.Swap(db, db); err != nil {
			r.log.Warn("reload: closing the previous library", "err", err)
		}
	}
	r.log.Info("reloaded", "level", r.level.Level().String())
}

// reloadSettings reads every setting again and applies the live part of
// them all at once, or, if anything is wrong, none: each changed setting is
// then logged as applied, or, at WARN, as needing a restart.
func (r *reloader) reloadSettings() {
	next, err := loadServe(r.args)
	if err != nil {
		r.log.Error("reload refused: keeping every setting in force", "err", err)
		return
	}
	changes := settings.Diff(r.inForce.set, next.set)
	if err := next.set.Retain(r.inForce.set); err != nil {
		r.log.Error("reload refused: keeping every setting in force", "err", err)
		return
	}
	// The new live settings must also hold beside the restart-only ones in
	// force (a new rate with the burst of the start).
	if err := next.validate(); err != nil {
		r.log.Error("reload refused: the new settings do not hold with those that need a restart; keeping every setting in force", "err", err)
		return
	}
	if next.writes() && !r.writable {
		r.log.Error("reload refused: the settings now need a writable library (the web admin token, --web-admin or --web-submissions), but it was opened read-only at start: restart quotesd to change that; keeping every setting in force")
		return
	}
	failed := map[string]bool{}
	for i, c := range components {
		if r.running[i] == nil {
			continue
		}
		if err := c.apply(r.running[i], next.configs[i]); err != nil {
			failed[c.name] = true
			r.log.Error("reload: that frontend refused its new settings and keeps those in force", "frontend", c.name, "err", err)
			if err := next.set.Keep(r.inForce.set, func(st *settings.Setting) bool { return componentOf(st.Name) == c.name }); err != nil {
				r.log.Error("reload: restoring the settings in force", "frontend", c.name, "err", err)
			}
		}
	}
	r.level.Set(next.serve.level())
	r.inForce = next
	for _, ch := range changes {
		switch {
		case failed[componentOf(ch.Name)]:
			r.log.Error("reload: not applied: its frontend refused it", "setting", ch.Name, "in_force", ch.Old, "new", ch.New)
		case !ch.Live:
			r.log.Warn("reload: this setting needs a restart; the value in force stays", "setting", ch.Name, "in_force", ch.Old, "new", ch.New)
		case !r.serving(ch.Name):
			r.log.Info("reload: setting changed; its frontend is off", "setting", ch.Name, "new", ch.New)
		default:
			r.log.Info("reload: applied", "setting", ch.Name, "old", ch.Old, "new", ch.New)
		}
	}
	if len(changes) == 0 {
		r.log.Info("reload: no setting changed")
	}
}

// serving reports whether the setting name belongs to serve itself or to a
// running component.
func (r *reloader) serving(name string) bool {
	comp := componentOf(name)
	i := slices.IndexFunc(components, func(c component) bool { return c.name == comp })
	return i < 0 || r.running[i] != nil
}

// componentOf returns the component whose setting name is: each names its
// settings <component> (--publish) or <component>-...; "" for serve's own.
func componentOf(name string) string {
	for _, c := range components {
		if name == c.name || strings.HasPrefix(name, c.name+"-") {
			return c.name
		}
	}
	return ""
}
