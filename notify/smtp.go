package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"time"

	"github.com/rosterhq/roster"
)

// TLS modes of SMTPConfig.TLS.
const (
	TLSNone     = "none"     // plain text; only for a relay on a trusted network
	TLSStartTLS = "starttls" // upgrade with STARTTLS, usually on port 587
	TLSImplicit = "tls"      // TLS from the first byte, usually on port 465
)

// DefaultTimeout bounds one whole send when a config leaves Timeout zero.
const DefaultTimeout = 10 * time.Second

// SMTPConfig configures an SMTPMailer.
type SMTPConfig struct {
	Addr     string // host:port of the server
	From     string // envelope and header sender, e.g. "Roster <no-reply@example.com>"
	TLS      string // TLSNone, TLSStartTLS or TLSImplicit; empty means TLSStartTLS
	Username string // optional; with Password, sent with AUTH PLAIN, only over TLS
	Password string
	// Timeout bounds the whole exchange: dial, TLS, auth and DATA. Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// HelloName is the name sent with EHLO; empty means "localhost".
	HelloName string
	// Log, if set, records each accepted message: the recipient masked, never
	// the subject or body.
	Log *slog.Logger
}

// SMTPMailer sends mail through one SMTP server, one connection per message.
type SMTPMailer struct {
	cfg  SMTPConfig
	host string
	from *mail.Address
}

var _ Mailer = (*SMTPMailer)(nil)

// NewSMTPMailer validates cfg and returns a mailer for it. It returns an
// error when Addr is not host:port, From is not a valid address, TLS is not
// one of the three modes, only one of Username and Password is set, or
// credentials would be sent without TLS.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("notify: smtp address %q is not host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp from address %q: %w", cfg.From, err)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("notify: smtp TLS mode %q: want %q, %q or %q", cfg.TLS, TLSNone, TLSStartTLS, TLSImplicit)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("notify: smtp username and password must be set together")
	}
	if cfg.Username != "" && cfg.TLS == TLSNone {
		return nil, errors.New("notify: smtp credentials are only sent over TLS: use starttls or tls")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("notify: smtp timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	return &SMTPMailer{cfg: cfg, host: host, from: from}, nil
}

// Send delivers m within the configured timeout (or ctx's deadline, if
// sooner). Errors name the step that failed, so a rejected recipient
// ("RCPT TO ... rejected"), an auth failure ("AUTH PLAIN ... rejected") and a
// timeout ("timeout") tell apart; a server's reply is wrapped as a
// *textproto.Error and a timeout matches context.DeadlineExceeded.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	to, err := m.recipient()
	if err != nil {
		return err
	}
	msg, err := compose(s.from, to, m, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.deliver(ctx, to.Address, msg); err != nil {
		return err
	}
	if s.cfg.Log != nil {
		s.cfg.Log.InfoContext(ctx, "mail sent", "to", roster.MaskEmail(to.Address), "driver", "smtp")
	}
	return nil
}

func (s *SMTPMailer) deliver(ctx context.Context, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return stepError(ctx, "dial "+s.cfg.Addr, err)
	}
	defer conn.Close()
	// net/smtp takes no context: one deadline on the socket bounds every
	// step, and cancelling ctx moves it to the past to abort a blocked read.
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return stepError(ctx, "set deadline", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := &tls.Config{ServerName: s.host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	if s.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return stepError(ctx, "TLS handshake", err)
		}
		conn = tc
	}

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return stepError(ctx, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return stepError(ctx, "EHLO", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		// Never fall back to plain text: that is what a downgrade attack wants.
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return stepError(ctx, "STARTTLS", errors.New("server does not offer STARTTLS"))
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return stepError(ctx, "STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return stepError(ctx, "AUTH PLAIN", errors.New("server does not offer AUTH"))
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)); err != nil {
			return stepError(ctx, "AUTH PLAIN as "+s.cfg.Username, err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return stepError(ctx, "MAIL FROM "+s.from.Address, err)
	}
	if err := c.Rcpt(to); err != nil {
		return stepError(ctx, "RCPT TO "+roster.MaskEmail(to), err)
	}
	w, err := c.Data()
	if err != nil {
		return stepError(ctx, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return stepError(ctx, "DATA", err)
	}
	// Close sends the final dot and reads the server's verdict on the message.
	if err := w.Close(); err != nil {
		return stepError(ctx, "end of DATA", err)
	}
	// The server has already accepted the message, so a failed QUIT is only
	// worth a warning: returning it would make the caller send the mail twice.
	if err := c.Quit(); err != nil && s.cfg.Log != nil {
		s.cfg.Log.WarnContext(ctx, "smtp QUIT failed after the message was accepted", "to", roster.MaskEmail(to), "err", err)
	}
	return nil
}

// stepError wraps err with the SMTP step it broke and what kind of failure it
// was: a timeout, a cancellation, a server rejection or a transport error.
func stepError(ctx context.Context, step string, err error) error {
	var reply *textproto.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("notify: smtp %s: cancelled: %w", step, withCause(err, context.Canceled))
	case ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("notify: smtp %s: timeout: %w", step, withCause(err, context.DeadlineExceeded))
	case errors.As(err, &reply):
		return fmt.Errorf("notify: smtp %s: rejected by server: %w", step, err)
	default:
		return fmt.Errorf("notify: smtp %s: %w", step, err)
	}
}
