package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/thejerf/suture/v4"
)

// Supervisor runs services until its context ends, restarting those that
// fail, and on shutdown gives them a bounded time to drain.
//
// It is built on github.com/thejerf/suture/v4, whose Service interface is
// exactly ours (Serve(ctx) error) and which already does what we would
// otherwise write by hand: restarts with a decaying failure count and a
// back-off once a service thrashes, panic recovery with the stack, a stop
// timeout per service, and an error that terminates the tree.
// errgroup and oklog/run stop everything on the first error and restart
// nothing, so a lost IRC link would take the QOTD port down with it.
type Supervisor struct {
	Log *slog.Logger
	// ShutdownTimeout bounds how long services may take to drain after the
	// context ends; the ones still running then are abandoned (and logged).
	ShutdownTimeout time.Duration
	// FailureThreshold failures (decaying by half every FailureDecay) make the
	// supervisor wait FailureBackoff before restarting anything more.
	// Zero values take 5, 30s and 15s.
	FailureThreshold float64
	FailureDecay     time.Duration
	FailureBackoff   time.Duration

	services []named
}

// serviceState is whether a service's Serve is running, and since when it
// is not: what Down reads.
type serviceState struct {
	mu      sync.Mutex
	running bool
	since   time.Time // when it last stopped (or was added)
}

// named gives a service the name suture logs it under, and logs its
// permanent failure (suture's events do not include it) the moment it
// happens, before the other services drain.
type named struct {
	name  string
	svc   Service
	log   *slog.Logger // set by Supervisor.Serve
	state *serviceState
}

func (n named) String() string { return n.name }

func (n named) Serve(ctx context.Context) error {
	n.state.mu.Lock()
	n.state.running = true
	n.state.mu.Unlock()
	defer func() {
		n.state.mu.Lock()
		n.state.running, n.state.since = false, time.Now()
		n.state.mu.Unlock()
	}()
	err := n.svc.Serve(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	var p *permanentError
	if errors.As(err, &p) {
		n.log.Error("service failed, and a restart cannot fix it: stopping every service", "service", n.name, "err", p.err)
		return &permanentError{err: p.err, service: n.name}
	}
	return fmt.Errorf("%s: %w", n.name, err)
}

// Add registers svc under name (e.g. "qotd-tcp"). Call it before Serve.
func (s *Supervisor) Add(name string, svc Service) {
	s.services = append(s.services, named{name: name, svc: svc, state: &serviceState{since: time.Now()}})
}

// Down returns an error naming a service whose Serve has not been running
// for grace or longer (it failed and the supervisor has not restarted it,
// backing off, or it was never started), or nil. A service being restarted
// is down for a moment; one down for long is what a watchdog should see.
func (s *Supervisor) Down(grace time.Duration) error {
	now := time.Now()
	for _, n := range s.services {
		n.state.mu.Lock()
		running, since := n.state.running, n.state.since
		n.state.mu.Unlock()
		if !running && now.Sub(since) >= grace {
			return fmt.Errorf("service %s has not been running for %v", n.name, now.Sub(since).Round(time.Millisecond))
		}
	}
	return nil
}

// Serve runs every added service until ctx ends, then stops them all and
// waits up to ShutdownTimeout: the result is nil. If a service fails
// permanently (see Permanent), that is logged as an error naming the
// service, the others are stopped the same way, and the error is returned,
// saying which service cannot be restarted and why.
func (s *Supervisor) Serve(ctx context.Context) error {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	spec := suture.Spec{
		EventHook:        s.eventHook(log),
		FailureThreshold: s.FailureThreshold,
		FailureDecay:     s.FailureDecay.Seconds(),
		FailureBackoff:   s.FailureBackoff,
		Timeout:          s.ShutdownTimeout,
	}
	sup := suture.New("quotesd", spec)
	for _, n := range s.services {
		n.log = log
		sup.Add(n)
	}
	err := sup.Serve(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	var p *permanentError
	if errors.As(err, &p) {
		return fmt.Errorf("%s cannot be restarted: %w", p.service, p.err)
	}
	return err
}

// eventHook logs suture's events with slog.
func (s *Supervisor) eventHook(log *slog.Logger) suture.EventHook {
	return func(ev suture.Event) {
		switch e := ev.(type) {
		case suture.EventServiceTerminate:
			log.Error("service failed", "service", e.ServiceName, "err", e.Err, "restarting", e.Restarting)
		case suture.EventServicePanic:
			log.Error("service panicked", "service", e.ServiceName, "panic", e.PanicMsg, "stack", e.Stacktrace, "restarting", e.Restarting)
		case suture.EventBackoff:
			log.Warn("services failing repeatedly; backing off before restarting", "for", s.backoff())
		case suture.EventResume:
			log.Info("resuming restarts after back-off")
		case suture.EventStopTimeout:
			log.Warn("service did not stop within the shutdown timeout; abandoning it", "service", e.ServiceName, "timeout", s.ShutdownTimeout)
		default:
			log.Info(ev.String())
		}
	}
}

func (s *Supervisor) backoff() time.Duration {
	if s.FailureBackoff == 0 {
		return 15 * time.Second
	}
	return s.FailureBackoff
}
