package irc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

var (
	certOnce sync.Once
	testCert tls.Certificate
	testPool *x509.CertPool
	certErr  error
)

// makeTestCert makes a self-signed certificate for "irc.test", once.
func makeTestCert() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		certErr = err
		return
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "irc.test"},
		DNSNames:              []string{"irc.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		certErr = err
		return
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		certErr = err
		return
	}
	testCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
	testPool = x509.NewCertPool()
	testPool.AddCert(cert)
}

func testServerTLS(t testing.TB) *tls.Config {
	t.Helper()
	certOnce.Do(makeTestCert)
	if certErr != nil {
		t.Fatal(certErr)
	}
	return &tls.Config{Certificates: []tls.Certificate{testCert}}
}

func testCertPool(t testing.TB) *x509.CertPool {
	t.Helper()
	certOnce.Do(makeTestCert)
	if certErr != nil {
		t.Fatal(certErr)
	}
	return testPool
}
