package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/thejerf/suture/v4"
)

// Permanent marks err as a failure that restarting cannot fix (a bad
// setting, a socket that cannot be used): a service returning it stops the
// whole process, and Supervisor.Serve returns err. Any other error from a
// running service is taken as transient, and the service is restarted.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Is makes a permanent error terminate the suture tree.
func (e *permanentError) Is(target error) bool { return target == suture.ErrTerminateSupervisorTree }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

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

// named gives a service the name suture logs it under.
type named struct {
	name string
	svc  Service
}

func (n named) String() string { return n.name }

func (n named) Serve(ctx context.Context) error {
	err := n.svc.Serve(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	var p *permanentError
	if errors.As(err, &p) {
		return Permanent(fmt.Errorf("%s: %w", n.name, p.err))
	}
	return fmt.Errorf("%s: %w", n.name, err)
}

// Add registers svc under name (e.g. "qotd-tcp"). Call it before Serve.
func (s *Supervisor) Add(name string, svc Service) {
	s.services = append(s.services, named{name, svc})
}

// Serve runs every added service until ctx ends, then stops them all and
// waits up to ShutdownTimeout: the result is nil. If a service fails
// permanently (see Permanent), the others are stopped the same way and its
// error is returned.
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
		sup.Add(n)
	}
	err := sup.Serve(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	var p *permanentError
	if errors.As(err, &p) {
		return p.err
	}
	return err
}

// eventHook logs suture's events with slog.
func (s *Supervisor) eventHook(log *slog.Logger) suture.EventHook {
	return func(ev suture.Event) {
		switch e := ev.(type) {
		case suture.EventServiceTerminate:
			if IsPermanent(asError(e.Err)) {
				return // Serve returns it; the caller reports it
			}
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

func asError(v any) error {
	err, _ := v.(error)
	return err
}
