package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/quotesd/quotesd/internal/testcert"

	"github.com/emersion/go-smtp"
)

// CertFiles are PEM files of a self-signed certificate and its key, as an
// operator would give them to quotesd, and a pool trusting the certificate.
type CertFiles = testcert.Files

// WriteSelfSigned writes a fresh self-signed certificate for localhost and
// 127.0.0.1 with the given serial number, and its private key, to PEM files
// in dir (cert-<serial>.pem and key-<serial>.pem).
func WriteSelfSigned(tb testing.TB, dir string, serial int64) CertFiles {
	tb.Helper()
	return testcert.Write(tb, dir, serial, "localhost", "127.0.0.1")
}

// DialSTARTTLS opens an SMTP session to addr and upgrades it with
// STARTTLS, trusting only pool and checking the name localhost, as a
// verifying MTA would. The session is closed when the test ends.
func DialSTARTTLS(tb testing.TB, addr string, pool *x509.CertPool) *smtp.Client {
	tb.Helper()
	c, err := smtp.DialStartTLS(addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		tb.Fatalf("STARTTLS to %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	// The client shakes hands at its first command after STARTTLS.
	if err := c.Hello("client.test"); err != nil {
		tb.Fatalf("EHLO over TLS to %s: %v", addr, err)
	}
	return c
}

// PeerSerial is the serial number of the certificate the server presented
// on c, which must be encrypted.
func PeerSerial(tb testing.TB, c *smtp.Client) string {
	tb.Helper()
	st, ok := c.TLSConnectionState()
	if !ok || len(st.PeerCertificates) == 0 {
		tb.Fatal("session is not encrypted")
	}
	return st.PeerCertificates[0].SerialNumber.String()
}
