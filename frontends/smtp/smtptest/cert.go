package smtptest

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
