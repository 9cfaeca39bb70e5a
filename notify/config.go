package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// FromEnv builds the mailer and SMS sender the environment configures:
//
//   - mail: SMTP when ROSTER_SMTP_ADDR is set, with ROSTER_SMTP_FROM,
//     ROSTER_SMTP_TLS (default starttls), ROSTER_SMTP_USERNAME and
//     ROSTER_SMTP_PASSWORD;
//   - SMS: a webhook when ROSTER_SMS_WEBHOOK_URL is set; Twilio when
//     ROSTER_TWILIO_ACCOUNT_SID is set, with ROSTER_TWILIO_AUTH_TOKEN and one
//     of ROSTER_TWILIO_FROM and ROSTER_TWILIO_MESSAGING_SERVICE_SID.
//
// A channel with nothing configured gets the logging stand-in in devMode and
// nil otherwise; the caller then refuses email or SMS MFA with a clear error.
// FromEnv returns an error when a configuration is incomplete or invalid
// (ROSTER_SMTP_USERNAME without ROSTER_SMTP_ADDR, a webhook and Twilio both
// set) and when log is nil. Secrets never appear in its errors or logs.
func FromEnv(getenv func(string) string, log *slog.Logger, devMode bool) (Mailer, SMSSender, error) {
	if log == nil {
		return nil, nil, errors.New("notify: FromEnv needs a logger")
	}
	env := envReader(getenv)
	mailer, err := mailerFromEnv(env, log, devMode)
	if err != nil {
		return nil, nil, err
	}
	sms, err := smsFromEnv(env, log, devMode)
	if err != nil {
		return nil, nil, err
	}
	return mailer, sms, nil
}

func mailerFromEnv(env envReader, log *slog.Logger, devMode bool) (Mailer, error) {
	addr := env.get("ROSTER_SMTP_ADDR")
	if addr == "" {
		for _, key := range []string{"ROSTER_SMTP_FROM", "ROSTER_SMTP_TLS", "ROSTER_SMTP_USERNAME", "ROSTER_SMTP_PASSWORD"} {
			if env.get(key) != "" {
				return nil, fmt.Errorf("notify: %s is set but ROSTER_SMTP_ADDR is not", key)
			}
		}
		if !devMode {
			log.Warn("no mail sender configured: email MFA is unavailable and queued mail (invitations, reminders) waits in the outbox (set ROSTER_SMTP_ADDR)")
			return nil, nil
		}
		log.Info("mail goes to the log (development mode)")
		return NewLogMailer(log, devMode)
	}
	if env.get("ROSTER_SMTP_FROM") == "" {
		return nil, errors.New("notify: ROSTER_SMTP_ADDR is set but ROSTER_SMTP_FROM is not")
	}
	m, err := NewSMTPMailer(SMTPConfig{
		Addr:     addr,
		From:     env.get("ROSTER_SMTP_FROM"),
		TLS:      strings.ToLower(env.get("ROSTER_SMTP_TLS")),
		Username: env.get("ROSTER_SMTP_USERNAME"),
		Password: env.secret("ROSTER_SMTP_PASSWORD"),
		Log:      log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("mail goes through SMTP", "addr", addr, "tls", m.cfg.TLS, "auth", m.cfg.Username != "")
	return m, nil
}

func smsFromEnv(env envReader, log *slog.Logger, devMode bool) (SMSSender, error) {
	webhook := env.get("ROSTER_SMS_WEBHOOK_URL")
	twilio := false
	for _, key := range []string{"ROSTER_TWILIO_ACCOUNT_SID", "ROSTER_TWILIO_AUTH_TOKEN", "ROSTER_TWILIO_FROM", "ROSTER_TWILIO_MESSAGING_SERVICE_SID"} {
		twilio = twilio || env.get(key) != ""
	}
	switch {
	case webhook != "" && twilio:
		return nil, errors.New("notify: set ROSTER_SMS_WEBHOOK_URL or the ROSTER_TWILIO_ variables, not both")
	case webhook != "":
		s, err := NewWebhookSMS(WebhookConfig{URL: webhook, Log: log})
		if err != nil {
			return nil, fmt.Errorf("%w (ROSTER_SMS_WEBHOOK_URL)", err)
		}
		log.Info("SMS goes through a webhook")
		return s, nil
	case twilio:
		s, err := NewTwilioSMS(TwilioConfig{
			AccountSID:          env.get("ROSTER_TWILIO_ACCOUNT_SID"),
			AuthToken:           env.secret("ROSTER_TWILIO_AUTH_TOKEN"),
			From:                env.get("ROSTER_TWILIO_FROM"),
			MessagingServiceSID: env.get("ROSTER_TWILIO_MESSAGING_SERVICE_SID"),
			Log:                 log,
		})
		if err != nil {
			return nil, fmt.Errorf("%w (ROSTER_TWILIO_ variables)", err)
		}
		log.Info("SMS goes through Twilio")
		return s, nil
	case devMode:
		log.Info("SMS goes to the log (development mode)")
		return NewLogSMS(log, devMode)
	default:
		log.Warn("no SMS sender configured: SMS MFA is unavailable (set ROSTER_SMS_WEBHOOK_URL or ROSTER_TWILIO_ACCOUNT_SID)")
		return nil, nil
	}
}

// envReader trims settings, where stray whitespace is a copy-paste slip, but
// not secrets, which may end in a space on purpose.
type envReader func(string) string

func (e envReader) get(key string) string { return strings.TrimSpace(e(key)) }

func (e envReader) secret(key string) string { return e(key) }
