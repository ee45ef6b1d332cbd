package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// selfSigned makes a certificate for localhost and 127.0.0.1, valid for an
// hour around now, with the given serial number: the serial tells one
// certificate from another in tests of certificate reloads.
func selfSigned(tb testing.TB, serial int64) (der []byte, key *ecdsa.PrivateKey) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return der, key
}

// CertFiles are PEM files of a self-signed certificate and its key, as an
// operator would give them to quotesd, and a pool trusting the certificate.
type CertFiles struct {
	Cert, Key string
	Pool      *x509.CertPool
}

// WriteSelfSigned writes a fresh self-signed certificate for localhost and
// 127.0.0.1 with the given serial number, and its private key, to PEM files
// in dir (cert-<serial>.pem and key-<serial>.pem).
func WriteSelfSigned(tb testing.TB, dir string, serial int64) CertFiles {
	tb.Helper()
	der, key := selfSigned(tb, serial)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	f := CertFiles{
		Cert: filepath.Join(dir, fmt.Sprintf("cert-%d.pem", serial)),
		Key:  filepath.Join(dir, fmt.Sprintf("key-%d.pem", serial)),
		Pool: x509.NewCertPool(),
	}
	if err := os.WriteFile(f.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(f.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	f.Pool.AddCert(cert)
	return f
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
