package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// TwilioAPI is the default TwilioConfig.BaseURL.
const TwilioAPI = "https://api.twilio.com"

// TwilioConfig configures a TwilioSMS. Exactly one of From and
// MessagingServiceSID names the sender.
type TwilioConfig struct {
	AccountSID          string // "AC..."
	AuthToken           string
	From                string // a Twilio number in E.164 form, a short code or an alphanumeric sender ID
	MessagingServiceSID string // "MG..."
	// BaseURL replaces TwilioAPI, for tests. Empty means TwilioAPI.
	BaseURL string
	// Timeout bounds one request, response included. Zero means DefaultTimeout.
	Timeout time.Duration
	// Log, if set, records each accepted SMS: the number masked and Twilio's
	// status for it ("queued", "accepted"...).
	Log *slog.Logger
}

// TwilioSMS sends SMS through Twilio's Messages API.
type TwilioSMS struct {
	cfg      TwilioConfig
	endpoint string
	client   *http.Client
}

var _ SMSSender = (*TwilioSMS)(nil)

// NewTwilioSMS validates cfg and returns a sender for it. It returns an error
// when the account SID or auth token is missing or malformed, when not
// exactly one of From and MessagingServiceSID is set, or when BaseURL or
// Timeout is invalid.
func NewTwilioSMS(cfg TwilioConfig) (*TwilioSMS, error) {
	if !validSID(cfg.AccountSID, "AC") {
		return nil, errors.New("notify: Twilio account SID must be AC followed by letters and digits")
	}
	if cfg.AuthToken == "" {
		return nil, errors.New("notify: Twilio auth token is missing")
	}
	if (cfg.From == "") == (cfg.MessagingServiceSID == "") {
		return nil, errors.New("notify: set exactly one of Twilio from number and messaging service SID")
	}
	if cfg.MessagingServiceSID != "" && !validSID(cfg.MessagingServiceSID, "MG") {
		return nil, errors.New("notify: Twilio messaging service SID must be MG followed by letters and digits")
	}
	if strings.HasPrefix(cfg.From, "+") {
		from, err := roster.NormalizePhone(cfg.From)
		if err != nil {
			return nil, fmt.Errorf("notify: Twilio from number: %w", err)
		}
		cfg.From = from
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = TwilioAPI
	}
	if err := checkURL("Twilio base URL", cfg.BaseURL); err != nil {
		return nil, err
	}
	timeout, err := checkTimeout("Twilio", cfg.Timeout)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
	return &TwilioSMS{cfg: cfg, endpoint: endpoint, client: newHTTPClient(timeout)}, nil
}

func validSID(sid, prefix string) bool {
	if len(sid) <= len(prefix) || !strings.HasPrefix(sid, prefix) {
		return false
	}
	for _, r := range sid[len(prefix):] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// twilioReply holds the fields Roster reads from Twilio's answers: status on
// success, code and message on failure.
type twilioReply struct {
	Status  any    `json:"status"` // a string on success, the HTTP status on failure
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// SendSMS creates a message with Twilio. An answer outside 2xx is a
// *ProviderError carrying the status and Twilio's error code and message.
func (t *TwilioSMS) SendSMS(ctx context.Context, m SMS) error {
	m, err := m.normalized()
	if err != nil {
		return err
	}
	form := url.Values{"To": {m.To}, "Body": {m.Text}}
	if t.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", t.cfg.MessagingServiceSID)
	} else {
		form.Set("From", t.cfg.From)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("notify: Twilio request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(t.cfg.AccountSID, t.cfg.AuthToken)
	resp, err := do(ctx, t.client, req, maxReadBody)
	if err != nil {
		return fmt.Errorf("notify: twilio SMS to %s: %w", roster.MaskPhone(m.To), err)
	}
	var reply twilioReply
	jsonErr := json.Unmarshal(resp.body, &reply)
	if resp.status < 200 || resp.status > 299 {
		perr := &ProviderError{Driver: "twilio", To: roster.MaskPhone(m.To), Status: resp.status}
		if jsonErr == nil && (reply.Code != 0 || reply.Message != "") {
			perr.Code = reply.Code
			perr.Message = snippet(redact(reply.Message, m))
		} else {
			perr.Message = snippet(redact(string(resp.body), m))
		}
		return perr
	}
	if t.cfg.Log != nil {
		status, _ := reply.Status.(string)
		t.cfg.Log.InfoContext(ctx, "sms sent", "to", roster.MaskPhone(m.To), "driver", "twilio", "status", status)
	}
	return nil
}
