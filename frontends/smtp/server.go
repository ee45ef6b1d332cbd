// Package smtp is the mail frontend of quotesd: mail to quote@<domain> gets
// a quote back. It is an SMTP server (github.com/emersion/go-smtp) that
// accepts mail only for its own addresses, decides by RFC 3834 whether a
// message deserves an automatic reply, composes the reply with
// github.com/emersion/go-message, and hands it to the durable queue in
// package queue, answering 250 only once the queue has committed it.
package smtp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message"
	// Subjects come in every charset mail clients use (windows-1252,
	// iso-2022-jp, koi8-r, gb2312...), not only UTF-8: this registers the
	// decoders of golang.org/x/text with go-message, without which such a
	// subject would be echoed as its raw encoded words and its command
	// not understood.
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/limits"
	"github.com/quotesd/quotesd/ops/metric"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/reactor"
)

// MaxReceived is the number of Received header fields past which a message
// is taken to be looping (RFC 5321 §6.3 suggests a limit; 30 is common).
const MaxReceived = 30

// SkipMalformed is the reason for not answering a message whose header
// cannot be parsed: what it says about itself cannot be trusted.
const SkipMalformed = "malformed"

// ServerConfig holds the limits and names of the server: Config's
// ServerConfig method makes one from the settings. Its limits follow the
// settings package's rule: 0 is no limit, and negative values are invalid;
// Config.Validate refuses 0 for those a public mail server needs. No zero
// means a default.
type ServerConfig struct {
	Addresses Addresses
	// Hostname is the name in the greeting; "" means the first domain.
	Hostname string
	// MaxMessageBytes is the largest message accepted (552 past it).
	MaxMessageBytes int64
	// MaxRecipients per message (452 past it).
	MaxRecipients int
	// MaxLineLength of a command or message line.
	MaxLineLength int
	// ReadTimeout and WriteTimeout bound each command read and reply
	// written.
	ReadTimeout, WriteTimeout time.Duration
	// MaxConns bounds concurrent connections; more get 421 at once.
	MaxConns int
	// MaxClientConns bounds the concurrent connections of one client:
	// an IPv4 address, or an IPv6 /64 (limits.Client). More get 421 at once, so
	// that one client cannot take every MaxConns slot.
	MaxClientConns int
	// IPRate and IPBurst limit messages per client (an IPv4 address or an
	// IPv6 /64, limits.Client; 450 past it).
	IPRate  rate.Limit
	IPBurst int
	// ComposeTimeout bounds composing one reply, the library lookups
	// behind it included: a stalled library then costs the sender a 451
	// (try again later) instead of holding its session, and a connection
	// slot, until the client gives up. Config.ServerConfig sets
	// DefaultComposeTimeout.
	ComposeTimeout time.Duration
	// TLS, when not nil, is the certificate offered with STARTTLS (RFC
	// 3207), which EHLO then advertises. Plain sessions are served all the
	// same: a public MX must accept mail from senders without TLS. go-smtp
	// shakes hands under the deadlines set for the STARTTLS command and
	// its 220 reply, so a stalled handshake fails within ReadTimeout; the
	// connection then closes after one more ReadTimeout without a command.
	TLS *Certificate
	Log *slog.Logger
	// Now is the clock for reply dates; nil means time.Now.
	Now func() time.Time
}

// DefaultComposeTimeout is the bound Config.ServerConfig gives
// ServerConfig.ComposeTimeout: the library answers in milliseconds, and a
// client waits minutes for the reply to its data (RFC 5321 §4.5.3.2.6
// suggests 10), so this only ever cuts a library that is stuck.
const DefaultComposeTimeout = 10 * time.Second

// Recorder is what the server needs from the queue (*queue.Queue).
// Record must not keep e.Data once it returns (the queue has copied it into
// the database by then): the server reuses that buffer for the next reply.
// e.Shared is the composer's and must not be modified.
type Recorder interface {
	Record(ctx context.Context, e queue.Entry) (skip string, err error)
	Receiving(delta int)
}

// Server is the SMTP frontend: a go-smtp server whose sessions turn
// requests into queued replies. Create it with New and run it with Serve.
type Server struct {
	cfg      ServerConfig
	composer *Composer
	queue    Recorder
	log      *slog.Logger
	srv      *smtp.Server
	ln       net.Listener
	limiter  *limits.Limiter // messages per client; see SetIPRate
	metrics  metrics
	conns    conns // open connections, for shutdown (see shutdown.go)
	// subs, when not nil, handles subscription commands and the bounce
	// addresses (see SetSubscriptions).
	subs *Subscriptions
}

// SetSubscriptions turns mail subscriptions on: "subscribe", "confirm"
// and "unsubscribe" messages and the bounces of the daily mail are
// handled by sub rather than answered with a quote. Call it before Serve.
func (s *Server) SetSubscriptions(sub *Subscriptions) { s.subs = sub }

type metrics struct {
	received prometheus.Counter
	queued   prometheus.Counter
	skipped  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	tls      *prometheus.CounterVec
}

// Reasons a connection, a recipient or a message is refused, as the
// "reason" label of quotesd_smtp_rejected_total.
const (
	rejectMaxConns          = "max_conns"            // over MaxConns sessions at once (421)
	rejectMaxConnsPerClient = "max_conns_per_client" // over MaxClientConns from one client (421)
	rejectIPRate            = "ip_rate"              // over the per-client message rate (450)
	rejectRecipient         = "recipient"            // not one of our addresses (550)
	rejectSize              = "size"                 // over MaxMessageBytes (552)
	rejectLoop              = "loop"                 // over MaxReceived Received fields (554)
)

// The label values the counters can have, each made at zero when the
// frontend starts (metric.CounterVecKnown): every reason a message gets
// no reply (the policy's, the composer's, the queue's daily caps), every
// reason for a refusal, and the TLS versions STARTTLS negotiates (1.2 at
// least, see tlsConfig).
var (
	skipReasons = []string{
		SkipNullSender, SkipInvalidSender, SkipAutoSubmitted, SkipPrecedence, SkipMailingList,
		SkipSuppress, SkipRoleSender, SkipOwnAddress, SkipNonPublicDomain, SkipMalformed,
		queue.SkipRecipientLimit, queue.SkipIPLimit, SkipNoQuote,
		SkipSubscription, SkipConfirmationLimit, SkipBounce,
	}
	rejectReasons = []string{rejectMaxConns, rejectMaxConnsPerClient, rejectIPRate, rejectRecipient, rejectSize, rejectLoop}
	tlsVersions   = []string{tls.VersionName(tls.VersionTLS12), tls.VersionName(tls.VersionTLS13)}
)

func newMetrics(reg prometheus.Registerer) metrics {
	r := metric.For(reg, "smtp")
	return metrics{
		received: r.Counter("messages_received_total", "Messages accepted with 250 at the end of DATA."),
		queued:   r.Counter("replies_queued_total", "Replies durably queued for delivery."),
		skipped:  r.CounterVecKnown("replies_skipped_total", "Accepted messages that got no reply, by reason.", metric.Each(skipReasons...), "reason"),
		rejected: r.CounterVecKnown("rejected_total", "Connections, commands or messages refused, by reason.", metric.Each(rejectReasons...), "reason"),
		tls:      r.CounterVecKnown("tls_sessions_total", "Sessions upgraded to TLS with STARTTLS, by TLS version.", metric.Each(tlsVersions...), "version"),
	}
}

// New returns a server that will serve ln. Replies are composed by c and
// recorded in q. Counters are registered on reg when it is not nil.
func New(ln net.Listener, cfg ServerConfig, c *Composer, q Recorder, reg prometheus.Registerer) *Server {
	if cfg.Hostname == "" && len(cfg.Addresses.Domains) > 0 {
		cfg.Hostname = cfg.Addresses.Domains[0]
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, composer: c, queue: q, log: log, metrics: newMetrics(reg), limiter: limits.NewLimiter(0, 1)}
	s.SetIPRate(cfg.IPRate, cfg.IPBurst)
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.MaxLineLength = cfg.MaxLineLength
	srv.ReadTimeout = cfg.ReadTimeout
	srv.WriteTimeout = cfg.WriteTimeout
	srv.ErrorLog = slogPrintf{log}
	if cfg.TLS != nil {
		srv.TLSConfig = tlsConfig(cfg.TLS)
	}
	s.srv = srv
	s.ln = newLimitListener(ln, cfg.MaxConns, cfg.MaxClientConns, func(reason string) {
		s.metrics.rejected.WithLabelValues(reason).Inc()
	})
	return s
}

// String names the service in the supervisor's logs.
func (s *Server) String() string { return "smtp" }

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// shutdownGrace is how long Serve lets sessions in a mail transaction
// finish after ctx ends; less than serve's default --shutdown-timeout, so
// that slow clients are cut off before the supervisor gives up on the
// service. Idle sessions are closed at once.
const shutdownGrace = 5 * time.Second

// Serve accepts connections until ctx ends, then stops accepting, closes
// idle sessions with 421, gives sessions in a mail transaction a few
// seconds to finish, and returns nil.
//
// go-smtp backs off and accepts again after an error that leaves the
// listener alive (reactor.KeepAccepting), so it returns only when the
// listener is dead. Then Serve closes the sessions as above and returns a
// permanent error (see reactor.ListenerFailed): the process is about to
// stop.
//
// The queue takes records until Serve returns, when it has a Hold method
// (*queue.Queue does): messages that sessions finish receiving after ctx
// ends are stored, not refused, although delivery stops at once.
func (s *Server) Serve(ctx context.Context) error {
	if h, ok := s.queue.(interface{ Hold() (func(), error) }); ok {
		if release, err := h.Hold(); err == nil {
			defer release()
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(&trackListener{Listener: reactor.KeepAccepting(s.ln), set: &s.conns}) }()
	select {
	case err := <-errc:
		err = reactor.ListenerFailed(s.ln.Addr(), err)
		if reactor.IsPermanent(err) {
			s.shutdown(ctx)
		}
		return err
	case <-ctx.Done():
	}
	s.shutdown(ctx)
	<-errc
	return nil
}

// shutdown stops accepting, closes idle sessions with 421 and gives those
// in a mail transaction shutdownGrace to finish before closing them.
func (s *Server) shutdown(ctx context.Context) {
	s.conns.closeIdle()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
}

// session is one SMTP connection's state.
type session struct {
	s       *Server
	ip      string        // the client's address, as logged and recorded
	client  limits.Client // whose budgets the session spends
	from    string
	hasMail bool
	// The first of our addresses the message was sent to decides the
	// reply; a message gets one reply however many of them it names.
	domain  string
	command string
	rcpts   int
	conn    *trackedConn // nil when not accepted by Serve
}

// newSession is called at the first EHLO or HELO of a connection, and
// again at the first one after STARTTLS (RFC 3207 §4.2: the client starts
// over once encrypted), when the TLS state is known.
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	ip := c.Conn().RemoteAddr().String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if st, ok := c.TLSConnectionState(); ok {
		version := tls.VersionName(st.Version)
		s.metrics.tls.WithLabelValues(version).Inc()
		s.log.Debug("smtp session encrypted", "ip", ip, "tls", version,
			"cipher", tls.CipherSuiteName(st.CipherSuite), "server_name", st.ServerName)
	}
	ss := &session{s: s, ip: ip, client: limits.ClientOfNetAddr(c.Conn().RemoteAddr()), conn: tracked(c.Conn())}
	if ss.conn != nil {
		ss.conn.beginSession(c.Conn())
	}
	return ss, nil
}

var (
	errNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such user here; this server does not relay"}
	errRateLimited = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: "Too many messages from your address; try again later"}
	errLoop = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6},
		Message: "Too many Received headers: mail loop"}
	errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Cannot store the message now; try again later"}
	// errIncomplete answers data that stopped coming: the read error's own
	// text (a timeout names both sockets' addresses) goes to the log only.
	errIncomplete = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "The message did not arrive whole; nothing was kept, try again"}
)

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.allowMessage() {
		return errRateLimited
	}
	if ss.conn != nil && !ss.conn.beginTxn() {
		return errShuttingDown
	}
	ss.from, ss.hasMail = from, true
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	domain, command, ok := ss.s.cfg.Addresses.Match(to)
	if !ok {
		ss.s.metrics.rejected.WithLabelValues(rejectRecipient).Inc()
		return errNoSuchUser
	}
	if ss.rcpts == 0 {
		ss.domain, ss.command = domain, command
	}
	ss.rcpts++
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.hasMail, ss.domain, ss.command, ss.rcpts = "", false, "", "", 0
	if ss.conn != nil {
		ss.conn.endTxn()
	}
}

func (ss *session) Logout() error {
	if ss.conn != nil {
		ss.conn.endSession()
	}
	return nil
}

// Data reads the message, decides about the reply, and returns (so that
// go-smtp answers 250) only once the queue has committed the decision.
func (ss *session) Data(r io.Reader) error {
	s := ss.s
	// Let the queue's writer know a Record is coming, so that a commit
	// under way can wait a moment for it (group commit).
	s.queue.Receiving(1)
	receiving := true
	stopReceiving := func() {
		if receiving {
			receiving = false
			s.queue.Receiving(-1)
		}
	}
	defer stopReceiving()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	_, err := buf.ReadFrom(r)
	msg := buf.Bytes()
	if err != nil {
		var se *smtp.SMTPError
		switch {
		case errors.Is(err, smtp.ErrDataTooLarge):
			s.metrics.rejected.WithLabelValues(rejectSize).Inc()
			return err
		case errors.As(err, &se), errors.Is(err, smtp.ErrTooLongLine):
			return err // go-smtp's own replies, in its words
		}
		s.log.Info("smtp message data incomplete", "ip", ss.ip, "err", err)
		return errIncomplete
	}
	ctx := context.Background()
	entry := queue.Entry{IP: ss.ip, Sender: ss.from}
	h, received, herr := scanHeader(msg)
	switch {
	case herr != nil:
		entry.Skip = SkipMalformed
	case received > MaxReceived:
		s.metrics.rejected.WithLabelValues(rejectLoop).Inc()
		s.log.Info("smtp message refused: loop", "sender", ss.from, "ip", ss.ip, "received", received)
		return errLoop
	default:
		entry.Skip = ShouldReply(Inbound{Sender: ss.from, Header: h}, s.cfg.Addresses.IsOwn)
	}
	if s.subs != nil && herr == nil {
		handled, queued, err := ss.subscription(ctx, h, msg, &entry)
		if err != nil {
			s.log.Error("smtp subscription not handled", "sender", ss.from, "err", err)
			return errTemporary
		}
		if queued {
			s.metrics.received.Inc()
			s.metrics.queued.Inc()
			return nil
		}
		if handled {
			entry.Skip = cmp.Or(entry.Skip, SkipSubscription)
		}
	}
	if entry.Skip == "" {
		// The reply is composed into a pooled buffer: Record has stored
		// (copied) it by the time it returns.
		out := bufPool.Get().(*bytes.Buffer)
		out.Reset()
		defer func() {
			if out.Cap() <= 1<<20 {
				bufPool.Put(out)
			}
		}()
		// Bounded by its own deadline, not by Serve's context: a session
		// in a mail transaction may finish after that ends (shutdownGrace).
		cctx, cancel := s.composeContext(ctx)
		head, shared, err := s.composer.compose(cctx, out, ss.request(h), s.cfg.Now())
		cancel()
		switch {
		case err == nil:
			entry.Rcpt, entry.Data, entry.Shared = ss.from, head, shared
		case quoter.ErrorCode(err) == quoter.ENOTFOUND:
			entry.Skip = SkipNoQuote
		default:
			s.log.Error("smtp reply not composed", "sender", ss.from, "err", err)
			return errTemporary
		}
	}
	stopReceiving()
	skip, err := s.queue.Record(ctx, entry)
	if err != nil {
		s.log.Error("smtp reply not queued", "sender", ss.from, "err", err)
		return errTemporary
	}
	s.metrics.received.Inc()
	if skip != "" {
		s.metrics.skipped.WithLabelValues(skip).Inc()
		s.log.Info("smtp reply skipped", "reason", skip, "sender", ss.from, "ip", ss.ip)
		return nil
	}
	s.metrics.queued.Inc()
	if s.log.Enabled(ctx, slog.LevelDebug) { // its attributes cost allocations
		s.log.Debug("smtp reply queued", "rcpt", ss.from, "ip", ss.ip, "command", ss.command)
	}
	return nil
}

// subscription handles a message about a subscription (see
// Subscriptions): a bounce to a bounce address, whoever sent it, or a
// command from a sender the reply policy accepted (entry.Skip is ""). It
// reports whether the message was one (entry.Skip then says why it gets
// no reply), and whether a confirmation request was queued instead.
func (ss *session) subscription(ctx context.Context, h textproto.Header, msg []byte, entry *queue.Entry) (handled, queued bool, err error) {
	sub := ss.s.subs
	r := ss.request(h)
	refs := append(h.Values("In-Reply-To"), h.Values("References")...)
	cmd, arg := SubscriptionCommand(ss.command, r.Subject, refs)
	switch {
	case cmd == "":
		return false, false, nil
	case cmd == cmdBounce:
		entry.Skip = SkipBounce
		return true, false, sub.bounce(ctx, arg, msg)
	case entry.Skip != "" && (cmd != CmdUnsubscribe || arg == ""):
		// The policy's reason stands: no confirmation request to a bounce
		// or a list, and no confirmation by an auto-responder answering
		// the request. An unsubscribe that carries its token is honoured
		// whoever sends it (a provider's automated List-Unsubscribe mailto
		// says Auto-Submitted): it is never answered anyway.
		return true, false, nil
	}
	skip, err := sub.Handle(ctx, ss.ip, ss.from, ss.domain, cmd, arg)
	if err != nil {
		return true, false, err
	}
	entry.Skip = cmp.Or(entry.Skip, skip)
	return true, entry.Skip == "", nil
}

// composeContext bounds composing a reply by ComposeTimeout, if any.
func (s *Server) composeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.cfg.ComposeTimeout > 0 {
		return context.WithTimeout(ctx, s.cfg.ComposeTimeout)
	}
	return context.WithCancel(ctx)
}

// bufPool holds buffers for received messages and composed replies, which
// are dropped once Data has recorded its decision: no allocation per
// message under load.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// request extracts what the reply needs from the message header.
func (ss *session) request(h textproto.Header) Request {
	mh := mail.Header{Header: message.Header{Header: h}}
	subject, err := mh.Subject()
	if err != nil {
		// An unknown charset: keep the raw text; SanitizeSubject makes it safe.
		subject = h.Get("Subject")
	}
	id, err := mh.MessageID()
	if err != nil || len(id) > 250 {
		id = "" // malformed: better no In-Reply-To than a broken one
	}
	return Request{Sender: ss.from, Domain: ss.domain, Command: ss.command, Subject: subject, MessageID: id}
}

// slogPrintf adapts go-smtp's Printf-style error log to slog. Most of what
// go-smtp reports there are clients dropping connections, which is routine
// for a public mail server (debug); a panic in a session is an error.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, v ...any) { l.print(fmt.Sprintf(format, v...)) }
func (l slogPrintf) Println(v ...any)               { l.print(fmt.Sprint(v...)) }

func (l slogPrintf) print(msg string) {
	if strings.Contains(msg, "panic") {
		l.log.Error("smtp session panicked", "err", msg)
		return
	}
	l.log.Debug("smtp connection error", "err", msg)
}
