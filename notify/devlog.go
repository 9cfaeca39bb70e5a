package notify

import (
	"context"
	"errors"
	"log/slog"

	"github.com/rosterhq/roster"
)

// LogSMS is the development stand-in for a phone: it writes each SMS, text
// included, to a logger at Info. It is the one sender allowed to log a
// message body, which may hold a one-time code, so NewLogSMS refuses to build
// it outside development mode.
type LogSMS struct {
	log *slog.Logger
}

var _ SMSSender = (*LogSMS)(nil)

// NewLogSMS returns a LogSMS writing to log. It returns an error unless
// devMode is true, and when log is nil.
func NewLogSMS(log *slog.Logger, devMode bool) (*LogSMS, error) {
	if !devMode {
		return nil, errors.New("notify: the log SMS driver writes one-time codes to the log and runs only in development mode")
	}
	if log == nil {
		return nil, errors.New("notify: the log SMS driver needs a logger")
	}
	return &LogSMS{log: log}, nil
}

// SendSMS logs "SMS to +44******0000" with m's text.
func (l *LogSMS) SendSMS(ctx context.Context, m SMS) error {
	m, err := m.normalized()
	if err != nil {
		return err
	}
	l.log.InfoContext(ctx, "SMS to "+roster.MaskPhone(m.To), "text", m.Text)
	return nil
}

// LogMailer is the development stand-in for an inbox: it writes each mail,
// subject and text included, to a logger at Info. Like LogSMS it logs what
// may be a one-time code, so NewLogMailer refuses to build it outside
// development mode.
type LogMailer struct {
	log *slog.Logger
}

var _ Mailer = (*LogMailer)(nil)

// NewLogMailer returns a LogMailer writing to log. It returns an error unless
// devMode is true, and when log is nil.
func NewLogMailer(log *slog.Logger, devMode bool) (*LogMailer, error) {
	if !devMode {
		return nil, errors.New("notify: the log mailer writes one-time codes to the log and runs only in development mode")
	}
	if log == nil {
		return nil, errors.New("notify: the log mailer needs a logger")
	}
	return &LogMailer{log: log}, nil
}

// Send logs "mail to a***@example.com" with m's subject and text; the HTML
// alternative, if any, is left out as it says the same thing.
func (l *LogMailer) Send(ctx context.Context, m Message) error {
	to, err := m.recipient()
	if err != nil {
		return err
	}
	l.log.InfoContext(ctx, "mail to "+roster.MaskEmail(to.Address), "subject", m.Subject, "text", m.Text)
	return nil
}
