package testkit

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPTLS is how an SMTPServer encrypts its sessions.
type SMTPTLS int

const (
	PlainText   SMTPTLS = iota // no TLS at all
	StartTLS                   // plain text, offering STARTTLS
	ImplicitTLS                // TLS from the first byte
)

// SMTPOptions shapes an SMTPServer; the zero value is a plain-text server
// that takes every message.
type SMTPOptions struct {
	TLS             SMTPTLS
	Username        string // when set, AUTH PLAIN is offered and required
	Password        string
	RejectRecipient string // RCPT TO this address is refused with 550
}

// waitTimeout bounds Wait: long enough for a worker's poll and a retry on a
// busy machine.
const waitTimeout = 60 * time.Second

// SMTPServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that
// keeps the mail it takes.
type SMTPServer struct {
	Addr  string         // host:port, on the loopback interface
	Roots *x509.CertPool // trusts the server's certificate; nil in plain text

	opts     SMTPOptions
	mu       sync.Mutex
	mail     []Mail
	refusing bool
}

// StartSMTP starts an SMTP server on a free port of 127.0.0.1 and stops it
// when the test ends.
func StartSMTP(tb testing.TB, opts SMTPOptions) *SMTPServer {
	tb.Helper()
	s := &SMTPServer{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if opts.TLS != PlainText {
		cert, roots := selfSignedCert(tb)
		s.Roots = roots
		config := &tls.Config{Certificates: []tls.Certificate{cert}}
		if opts.TLS == ImplicitTLS {
			ln = tls.NewListener(ln, config)
		} else {
			srv.TLSConfig = config
		}
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return s
}

// Refuse makes the server refuse every message with a 451 at the end of
// DATA, as a mail server in trouble does, until it is called with false.
func (s *SMTPServer) Refuse(refusing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusing = refusing
}

// Received returns the mail taken so far, in the order it came.
func (s *SMTPServer) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// To returns the mail taken so far for recipients ending in suffix (an
// address, or a domain such as "@acme.example"). Tests that share a
// database, whose workers deliver every tenant's queued mail, read their
// own mail with it.
func (s *SMTPServer) To(suffix string) []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var mail []Mail
	for _, m := range s.mail {
		if m.sentTo(suffix) {
			mail = append(mail, m)
		}
	}
	return mail
}

// Wait waits until at least n messages for recipients ending in suffix
// have come and returns them, or fails the test after a minute.
func (s *SMTPServer) Wait(tb testing.TB, suffix string, n int) []Mail {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		mail := s.To(suffix)
		if len(mail) >= n {
			return mail
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d messages to *%s came in %s", len(mail), n, suffix, waitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Only returns the one message the server took, failing the test unless
// there is exactly one.
func (s *SMTPServer) Only(tb testing.TB) Mail {
	tb.Helper()
	mail := s.Received()
	if len(mail) != 1 {
		tb.Fatalf("the server took %d messages, want 1", len(mail))
	}
	return mail[0]
}

type smtpSession struct {
	srv    *SMTPServer
	conn   *smtp.Conn
	authAs string
	mail   Mail
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.authAs = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && s.authAs == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.mail = Mail{From: from, TLS: isTLS, AuthAs: s.authAs}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.opts.RejectRecipient != "" && to == s.srv.opts.RejectRecipient {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	}
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := s.mail
	m.Data = data
	if err := parseMail(&m); err != nil {
		return fmt.Errorf("unreadable message: %w", err)
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.refusing {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.srv.mail = append(s.srv.mail, m)
	return nil
}

func (s *smtpSession) Reset()        { s.mail = Mail{} }
func (s *smtpSession) Logout() error { return nil }
