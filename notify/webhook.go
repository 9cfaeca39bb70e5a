package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
)

// WebhookConfig configures a WebhookSMS.
type WebhookConfig struct {
	// URL receives a POST of {"to": "+E164", "message": "..."} per SMS. Put
	// any secret the gateway needs in it; it never appears in errors or logs.
	URL string
	// Timeout bounds one request, response included. Zero means DefaultTimeout.
	Timeout time.Duration
	// Log, if set, records each accepted SMS: the number masked and the status.
	Log *slog.Logger
}

// WebhookSMS hands each SMS to an HTTP gateway of the operator's own.
type WebhookSMS struct {
	url    string
	client *http.Client
	log    *slog.Logger
}

var _ SMSSender = (*WebhookSMS)(nil)

// NewWebhookSMS validates cfg and returns a sender for it. It returns an
// error when URL is not an absolute http or https URL or Timeout is negative.
func NewWebhookSMS(cfg WebhookConfig) (*WebhookSMS, error) {
	if err := checkURL("SMS webhook URL", cfg.URL); err != nil {
		return nil, err
	}
	timeout, err := checkTimeout("SMS webhook", cfg.Timeout)
	if err != nil {
		return nil, err
	}
	return &WebhookSMS{url: cfg.URL, client: newHTTPClient(timeout), log: cfg.Log}, nil
}

// SendSMS posts m to the webhook. Any status outside 2xx is a *ProviderError
// carrying the status and at most 200 bytes of the response, with m's text
// and number taken out of them.
func (w *WebhookSMS) SendSMS(ctx context.Context, m SMS) error {
	m, err := m.normalized()
	if err != nil {
		return err
	}
	payload, err := json.Marshal(struct {
		To      string `json:"to"`
		Message string `json:"message"`
	}{m.To, m.Text})
	if err != nil {
		return fmt.Errorf("notify: SMS webhook payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("notify: SMS webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := do(ctx, w.client, req, maxReadBody)
	if err != nil {
		return fmt.Errorf("notify: SMS webhook to %s: %w", roster.MaskPhone(m.To), err)
	}
	if resp.status < 200 || resp.status > 299 {
		return &ProviderError{
			Driver:  "webhook",
			To:      roster.MaskPhone(m.To),
			Status:  resp.status,
			Message: snippet(redact(string(resp.body), m)),
		}
	}
	if w.log != nil {
		w.log.InfoContext(ctx, "sms sent", "to", roster.MaskPhone(m.To), "driver", "webhook", "status", resp.status)
	}
	return nil
}
