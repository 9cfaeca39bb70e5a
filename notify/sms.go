package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rosterhq/roster"
)

// SMS is one text message. To is a phone number in any form NormalizePhone
// accepts; drivers send it in E.164 form.
type SMS struct {
	To   string
	Text string
}

// SMSSender sends text messages. SendSMS returns an error when the message is
// invalid or the provider does not accept it; a nil error means the provider
// took it.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}

// normalized validates m and returns it with To in E.164 form.
func (m SMS) normalized() (SMS, error) {
	to, err := roster.NormalizePhone(m.To)
	if err != nil {
		return SMS{}, fmt.Errorf("notify: SMS recipient: %w", err)
	}
	if strings.TrimSpace(m.Text) == "" {
		return SMS{}, errors.New("notify: SMS to " + roster.MaskPhone(to) + " has no text")
	}
	return SMS{To: to, Text: m.Text}, nil
}

// redact strips m's text and number from what a provider sent back, so an
// error that quotes it is safe to log: some gateways echo the request.
func redact(s string, m SMS) string {
	s = strings.ReplaceAll(s, m.Text, "[message]")
	return strings.ReplaceAll(s, m.To, roster.MaskPhone(m.To))
}

// ProviderError is an SMS provider's refusal of a message: an answer outside
// 2xx. Callers can use errors.As on it to tell a bad number (4xx) from an
// outage worth retrying (429, 5xx).
type ProviderError struct {
	Driver  string // "webhook" or "twilio"
	To      string // the recipient, masked
	Status  int    // the HTTP status
	Code    int    // the provider's own error code; 0 when it gave none
	Message string // the provider's explanation, redacted, at most 200 bytes
}

func (e *ProviderError) Error() string {
	s := fmt.Sprintf("notify: %s SMS to %s: status %d", e.Driver, e.To, e.Status)
	if e.Code != 0 {
		s += fmt.Sprintf(": code %d", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}
