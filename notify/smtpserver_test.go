package notify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server got it.
type received struct {
	From   string
	To     []string
	Data   []byte
	TLS    bool   // the session was encrypted when MAIL FROM came
	AuthAs string // the user that authenticated, if any
}

// smtpServerOptions shapes a test SMTP server.
type smtpServerOptions struct {
	TLS        string // TLSNone, TLSStartTLS or TLSImplicit
	Username   string // when set, AUTH PLAIN is offered and required
	Password   string
	RejectRcpt string // this recipient is refused with 550
}

// testSMTPServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 that
// records what it receives.
type testSMTPServer struct {
	Addr  string
	Roots *x509.CertPool // trusts the server's self-signed certificate

	opts smtpServerOptions
	mu   sync.Mutex
	msgs []received
}

func startSMTPServer(t *testing.T, opts smtpServerOptions) *testSMTPServer {
	t.Helper()
	ts := &testSMTPServer{opts: opts}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{srv: ts, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout = 5 * time.Second
	s.WriteTimeout = 5 * time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLS != TLSNone {
		cert, roots := selfSignedCert(t)
		ts.Roots = roots
		tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
		if opts.TLS == TLSImplicit {
			ln = tls.NewListener(ln, tlsConfig)
		} else {
			s.TLSConfig = tlsConfig
		}
	}
	ts.Addr = ln.Addr().String()
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return ts
}

func (ts *testSMTPServer) Messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

// only returns the one message the server received, failing otherwise.
func (ts *testSMTPServer) only(t *testing.T) received {
	t.Helper()
	msgs := ts.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

type testSession struct {
	srv    *testSMTPServer
	conn   *smtp.Conn
	authAs string
	msg    received
}

func (s *testSession) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.authAs = username
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && s.authAs == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.msg = received{From: from, TLS: isTLS, AuthAs: s.authAs}
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.srv.opts.RejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = data
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.msg = received{} }
func (s *testSession) Logout() error { return nil }

// startSilentServer accepts connections on 127.0.0.1:0 and never answers,
// like an SMTP server that has hung.
func startSilentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// selfSignedCert makes a certificate for 127.0.0.1 and localhost and a pool
// that trusts it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "roster test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// isASCII reports whether b is 7-bit clean, as a message with encoded
// headers and quoted-printable bodies must be.
func isASCII(b []byte) bool {
	return !bytes.ContainsFunc(b, func(r rune) bool { return r > 127 })
}
