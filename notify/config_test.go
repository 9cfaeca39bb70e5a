package notify

import (
	"fmt"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}

func TestFromEnv(t *testing.T) {
	const (
		logMailer   = "*notify.LogMailer"
		smtpMailer  = "*notify.SMTPMailer"
		logSMS      = "*notify.LogSMS"
		webhookSMS  = "*notify.WebhookSMS"
		twilioSMS   = "*notify.TwilioSMS"
		none        = "<nil>"
		smtpAddr    = "smtp.example.com:587"
		twilioSID   = "AC0123456789abcdef0123456789abcdef"
		twilioToken = "twilio-token"
	)
	smtpEnv := map[string]string{"ROSTER_SMTP_ADDR": smtpAddr, "ROSTER_SMTP_FROM": "Roster <no-reply@example.com>"}
	for _, tc := range []struct {
		name      string
		env       map[string]string
		devMode   bool
		wantMail  string
		wantSMS   string
		wantError string
	}{
		{name: "nothing, production", wantMail: none, wantSMS: none},
		{name: "nothing, development", devMode: true, wantMail: logMailer, wantSMS: logSMS},
		{name: "smtp", env: smtpEnv, wantMail: smtpMailer, wantSMS: none},
		{name: "smtp, development", env: smtpEnv, devMode: true, wantMail: smtpMailer, wantSMS: logSMS},
		{name: "smtp with auth", env: map[string]string{
			"ROSTER_SMTP_ADDR": smtpAddr, "ROSTER_SMTP_FROM": "no-reply@example.com", "ROSTER_SMTP_TLS": "TLS",
			"ROSTER_SMTP_USERNAME": "roster", "ROSTER_SMTP_PASSWORD": " smtp-secret ",
		}, wantMail: smtpMailer, wantSMS: none},
		{name: "webhook", env: map[string]string{"ROSTER_SMS_WEBHOOK_URL": "https://sms.example.com/send?token=hook-secret"}, devMode: true, wantMail: logMailer, wantSMS: webhookSMS},
		{name: "twilio from", env: map[string]string{
			"ROSTER_TWILIO_ACCOUNT_SID": twilioSID, "ROSTER_TWILIO_AUTH_TOKEN": twilioToken, "ROSTER_TWILIO_FROM": "+14155550100",
		}, wantMail: none, wantSMS: twilioSMS},
		{name: "twilio messaging service", env: map[string]string{
			"ROSTER_TWILIO_ACCOUNT_SID": twilioSID, "ROSTER_TWILIO_AUTH_TOKEN": twilioToken,
			"ROSTER_TWILIO_MESSAGING_SERVICE_SID": "MG0123456789abcdef0123456789abcdef",
		}, wantMail: none, wantSMS: twilioSMS},

		{name: "smtp without from", env: map[string]string{"ROSTER_SMTP_ADDR": smtpAddr}, wantError: "ROSTER_SMTP_FROM"},
		{name: "smtp from without addr", env: map[string]string{"ROSTER_SMTP_FROM": "no-reply@example.com"}, devMode: true, wantError: "ROSTER_SMTP_ADDR"},
		{name: "smtp username without addr", env: map[string]string{"ROSTER_SMTP_USERNAME": "roster"}, wantError: "ROSTER_SMTP_ADDR"},
		{name: "smtp bad TLS mode", env: map[string]string{"ROSTER_SMTP_ADDR": smtpAddr, "ROSTER_SMTP_FROM": "no-reply@example.com", "ROSTER_SMTP_TLS": "ssl"}, wantError: "TLS mode"},
		{name: "smtp password in clear", env: map[string]string{
			"ROSTER_SMTP_ADDR": smtpAddr, "ROSTER_SMTP_FROM": "no-reply@example.com", "ROSTER_SMTP_TLS": "none",
			"ROSTER_SMTP_USERNAME": "roster", "ROSTER_SMTP_PASSWORD": "smtp-secret",
		}, wantError: "only sent over TLS"},
		{name: "webhook and twilio", env: map[string]string{
			"ROSTER_SMS_WEBHOOK_URL": "https://sms.example.com/send", "ROSTER_TWILIO_ACCOUNT_SID": twilioSID,
			"ROSTER_TWILIO_AUTH_TOKEN": twilioToken, "ROSTER_TWILIO_FROM": "+14155550100",
		}, wantError: "not both"},
		{name: "webhook not a URL", env: map[string]string{"ROSTER_SMS_WEBHOOK_URL": "sms.example.com"}, wantError: "ROSTER_SMS_WEBHOOK_URL"},
		{name: "twilio without token", env: map[string]string{"ROSTER_TWILIO_ACCOUNT_SID": twilioSID, "ROSTER_TWILIO_FROM": "+14155550100"}, devMode: true, wantError: "auth token"},
		{name: "twilio without sender", env: map[string]string{"ROSTER_TWILIO_ACCOUNT_SID": twilioSID, "ROSTER_TWILIO_AUTH_TOKEN": twilioToken}, wantError: "exactly one"},
		{name: "twilio token only", env: map[string]string{"ROSTER_TWILIO_AUTH_TOKEN": twilioToken}, devMode: true, wantError: "account SID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := jsonLog()
			mailer, sms, err := FromEnv(envOf(tc.env), log, tc.devMode)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantError)
				}
				if mailer != nil || sms != nil {
					t.Errorf("senders = %T, %T alongside an error", mailer, sms)
				}
			} else if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			for _, secret := range []string{"smtp-secret", twilioToken, "hook-secret"} {
				if (err != nil && strings.Contains(err.Error(), secret)) || strings.Contains(logs.String(), secret) {
					t.Errorf("secret %q shown: err = %v, log = %s", secret, err, logs.String())
				}
			}
			if tc.wantError != "" {
				return
			}
			// A nil sender must be an untyped nil so the caller's nil check works.
			if got := fmt.Sprintf("%T", mailer); got != tc.wantMail {
				t.Errorf("mailer = %s, want %s", got, tc.wantMail)
			}
			if got := fmt.Sprintf("%T", sms); got != tc.wantSMS {
				t.Errorf("SMS sender = %s, want %s", got, tc.wantSMS)
			}
		})
	}
}

func TestFromEnvSMTPSettings(t *testing.T) {
	log, _ := jsonLog()
	mailer, _, err := FromEnv(envOf(map[string]string{
		"ROSTER_SMTP_ADDR": " smtp.example.com:465 ", "ROSTER_SMTP_FROM": "no-reply@example.com", "ROSTER_SMTP_TLS": "tls",
		"ROSTER_SMTP_USERNAME": "roster", "ROSTER_SMTP_PASSWORD": " pass with spaces ",
	}), log, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mailer.(*SMTPMailer).cfg
	if cfg.Addr != "smtp.example.com:465" || cfg.TLS != TLSImplicit || cfg.Username != "roster" || cfg.Password != " pass with spaces " {
		t.Errorf("config = %+v", cfg)
	}

	mailer, _, err = FromEnv(envOf(map[string]string{"ROSTER_SMTP_ADDR": "smtp.example.com:587", "ROSTER_SMTP_FROM": "no-reply@example.com"}), log, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := mailer.(*SMTPMailer).cfg.TLS; got != TLSStartTLS {
		t.Errorf("default TLS = %q, want starttls", got)
	}
}

func TestFromEnvNeedsLogger(t *testing.T) {
	if _, _, err := FromEnv(envOf(nil), nil, true); err == nil {
		t.Error("FromEnv without a logger succeeded")
	}
}
