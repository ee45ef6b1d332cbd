// Package testcert makes the self-signed certificates the tests give to
// quotesd and to the servers it talks to (a relay with STARTTLS, an XMPP
// server), one way for every test.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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
)

// SelfSigned makes an ECDSA certificate for hosts (names or IP
// addresses; the first is its common name), valid for an hour around now,
// with the given serial number: the serial tells one certificate from
// another in tests of certificate reloads.
func SelfSigned(tb testing.TB, serial int64, hosts ...string) (der []byte, key *ecdsa.PrivateKey) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(hosts) > 0 {
		tmpl.Subject = pkix.Name{CommonName: hosts[0]}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return der, key
}

// Files are PEM files of a self-signed certificate and its key, as an
// operator would give them to a server, and a pool trusting the
// certificate.
type Files struct {
	Cert, Key string
	Pool      *x509.CertPool
}

// Write writes a fresh self-signed certificate for hosts with the given
// serial number, and its private key (PKCS #8), to PEM files in dir
// (cert-<serial>.pem and key-<serial>.pem).
func Write(tb testing.TB, dir string, serial int64, hosts ...string) Files {
	tb.Helper()
	der, key := SelfSigned(tb, serial, hosts...)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	f := Files{
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
