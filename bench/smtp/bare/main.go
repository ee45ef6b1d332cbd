// Command bare is the in-runtime baseline of the mail benchmark: the least
// a Go server built on go-smtp, as quotesd's mail frontend is, can do for
// each message smtp-source sends. It accepts mail for quote@ at any domain,
// reads each message to its end and discards it, stores nothing and sends
// nothing. Beside postfix's smtp-sink (C, the same do-nothing work) it
// shows what the library and the Go runtime cost by themselves, before
// anything quotesd does.
//
//	go run ./bench/smtp/bare -addr 127.0.0.1:2526
package main

import (
	"flag"
	"io"
	"log"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2526", "address to listen on")
	flag.Parse()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return session{}, nil }))
	srv.Addr = *addr
	srv.Domain = "localhost"
	// The limits quotesd's mail frontend sets by default (frontends/smtp.New
	// and the --smtp-max-* and --smtp-*-timeout flags).
	srv.MaxMessageBytes = 64 << 10
	srv.MaxRecipients = 10
	srv.MaxLineLength = 2000
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	log.Fatal(srv.ListenAndServe())
}

type session struct{}

func (session) Mail(string, *smtp.MailOptions) error { return nil }

func (session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if local, _, ok := strings.Cut(to, "@"); !ok || !strings.EqualFold(local, "quote") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	return nil
}

func (session) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (session) Reset()        {}
func (session) Logout() error { return nil }
