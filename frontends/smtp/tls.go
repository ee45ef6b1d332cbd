package smtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Certificate is the server's certificate for STARTTLS (RFC 3207), read
// from PEM files. Certificates are renewed every few months (Let's Encrypt:
// 60 to 90 days), so it can be read again while the server runs (Reload):
// the TLS configuration asks for it at each handshake through
// GetCertificate, so a new one serves the next handshake and sessions
// already encrypted keep theirs.
type Certificate struct {
	cur atomic.Pointer[loadedCert]
}

// loadedCert is a parsed key pair and the files it came from.
type loadedCert struct {
	cert              *tls.Certificate
	certFile, keyFile string
}

// LoadCertificate reads a certificate chain and its private key from PEM
// files. The error names the file that could not be read or used.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	lc, err := loadCert(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	c := &Certificate{}
	c.cur.Store(lc)
	return c, nil
}

// Reload reads the certificate again from certFile and keyFile (the same
// files as before or new ones). On an error the certificate in use stays.
func (c *Certificate) Reload(certFile, keyFile string) error {
	lc, err := loadCert(certFile, keyFile)
	if err != nil {
		return err
	}
	c.cur.Store(lc)
	return nil
}

// Files returns the files the certificate in use was read from.
func (c *Certificate) Files() (certFile, keyFile string) {
	lc := c.cur.Load()
	return lc.certFile, lc.keyFile
}

// NotAfter returns the expiry of the certificate in use.
func (c *Certificate) NotAfter() time.Time { return c.cur.Load().cert.Leaf.NotAfter }

// Names returns the DNS names the certificate in use is for (its subject
// alternative names), for logs: a sending MTA that checks the name at all
// checks it against the MX host name.
func (c *Certificate) Names() []string { return c.cur.Load().cert.Leaf.DNSNames }

// getCertificate is the tls.Config hook: the certificate in use at the
// moment of the handshake.
func (c *Certificate) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load().cert, nil
}

func loadCert(certFile, keyFile string) (*loadedCert, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("reading TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("reading TLS key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// X509KeyPair says whether the certificate or the key input is at
		// fault, but knows no file names.
		return nil, fmt.Errorf("TLS certificate %s with key %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil { // filled in by X509KeyPair since Go 1.23
		return nil, errors.New("TLS certificate " + certFile + ": no leaf certificate")
	}
	return &loadedCert{cert: &cert, certFile: certFile, keyFile: keyFile}, nil
}

// tlsConfig is the server side of STARTTLS with cert: TLS 1.2 at least
// (RFC 8996 deprecates 1.0 and 1.1; every MTA in use speaks 1.2), and Go's
// default cipher suites, which are the modern AEAD ones.
func tlsConfig(cert *Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: cert.getCertificate,
	}
}
