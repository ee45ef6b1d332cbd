package qotd

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"time"

	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/frontends/internal/oneshot"
	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/reactor"
)

// UDPService is the QOTD service on one datagram socket: each datagram
// received gets one datagram back, at most MaxReply bytes, subject to the
// per-client and global rates.
type UDPService struct {
	s      *Server
	pc     net.PacketConn
	global *rate.Limiter
}

// UDP returns the service answering datagrams on pc. Serve closes pc when
// its context ends.
func (s *Server) UDP(pc net.PacketConn) *UDPService {
	cfg := s.cfg.Load()
	return &UDPService{
		s:      s,
		pc:     pc,
		global: rate.NewLimiter(rate.Limit(cfg.UDPGlobalRate), burst(cfg.UDPGlobalRate)),
	}
}

// Addr is the socket's address.
func (u *UDPService) Addr() net.Addr { return u.pc.LocalAddr() }

// loopPorts are the source ports of the small services that answer
// anything they receive (echo, discard, daytime, qotd, chargen, time):
// replying to one of them would start an endless exchange between two
// servers, so such datagrams are dropped, as BSD inetd does.
var loopPorts = [...]uint16{0, 7, 9, 13, 17, 19, 37}

// dropReason says why a datagram from src gets no reply, or "" if it may.
func dropReason(src netip.AddrPort) string {
	for _, p := range loopPorts {
		if src.Port() == p {
			return reasonLoopPort
		}
	}
	a := src.Addr().Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return reasonBadSource
	}
	return ""
}

// Serve answers datagrams until ctx ends, then returns nil. A socket that
// is dead (closed under the service) ends it with a permanent error (see
// reactor.ListenerFailed): no restart could read from it again.
func (u *UDPService) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { u.pc.Close() })
	defer stop()
	buf := make([]byte, 2048) // the request's content is ignored
	var delay time.Duration
	for {
		_, addr, err := u.pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil // closed by the AfterFunc above
			}
			if reactor.ListenerDead(err) {
				return reactor.ListenerFailed(u.pc.LocalAddr(), err)
			}
			// ICMP errors from earlier replies can surface here; they
			// concern one peer, not the socket. Back off all the same, so
			// that an error that persists cannot spin.
			delay = min(max(2*delay, time.Millisecond), time.Second)
			u.s.log.Debug("reading a datagram failed", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		delay = 0
		u.answer(ctx, addr)
	}
}

// answer replies to one datagram from addr, or drops it and counts why.
func (u *UDPService) answer(ctx context.Context, addr net.Addr) {
	defer func() {
		if r := recover(); r != nil {
			u.s.metrics.errors.WithLabelValues("udp").Inc()
			u.s.log.Error("panic while answering a datagram", "remote", addr.String(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	var src netip.AddrPort
	if ua, ok := addr.(*net.UDPAddr); ok {
		src = ua.AddrPort()
	}
	reason := dropReason(src)
	now := time.Now()
	if reason == "" {
		cfg := u.s.cfg.Load()
		if u.global.Limit() != rate.Limit(cfg.UDPGlobalRate) {
			u.global.SetLimitAt(now, rate.Limit(cfg.UDPGlobalRate))
			u.global.SetBurstAt(now, burst(cfg.UDPGlobalRate))
		}
		if !u.s.udpRate.Allow(limits.ClientOf(src.Addr()), now) {
			reason = reasonRate
		} else if !u.global.AllowN(now, 1) {
			reason = reasonGlobalRate
		}
	}
	if reason != "" {
		u.s.metrics.rejected.WithLabelValues("udp", reason).Inc()
		return
	}
	reply, err := u.s.Reply(ctx)
	if err != nil {
		u.s.metrics.errors.WithLabelValues("udp").Inc()
		u.s.replyFailed(err)
		return
	}
	u.pc.SetWriteDeadline(oneshot.Deadline(now, u.s.writeTimeout()))
	if _, err := u.pc.WriteTo(reply, addr); err != nil {
		u.s.metrics.errors.WithLabelValues("udp").Inc()
		u.s.log.Debug("sending the quote failed", "remote", addr.String(), "err", err)
		return
	}
	u.s.metrics.served.WithLabelValues("udp").Inc()
	if u.s.log.Enabled(ctx, slog.LevelDebug) {
		u.s.log.Debug("served", "remote", addr.String(), "bytes", len(reply), "proto", "udp")
	}
}

// String names the service in logs.
func (u *UDPService) String() string { return "qotd-udp" }
