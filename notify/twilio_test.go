package notify

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "twilio-token"
)

// twilioRequest is what the fake Twilio saw of one request.
type twilioRequest struct {
	Method, Path, ContentType string
	User, Password            string
	AuthOK                    bool
	Form                      url.Values
}

// fakeTwilio records each request and answers with status and body.
func fakeTwilio(t *testing.T, status int, body string) (*httptest.Server, chan twilioRequest) {
	t.Helper()
	got := make(chan twilioRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		user, pass, ok := r.BasicAuth()
		got <- twilioRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), user, pass, ok, r.PostForm}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func mustTwilio(t *testing.T, cfg TwilioConfig) *TwilioSMS {
	t.Helper()
	s, err := NewTwilioSMS(cfg)
	if err != nil {
		t.Fatalf("NewTwilioSMS: %v", err)
	}
	return s
}

func TestTwilioSMS(t *testing.T) {
	srv, got := fakeTwilio(t, http.StatusCreated, `{"sid":"SM123","status":"queued","body":"Your Roster code is 123456"}`)
	var logs bytes.Buffer
	s := mustTwilio(t, TwilioConfig{
		AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+1 415 555 0100",
		BaseURL: srv.URL, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})

	if err := s.SendSMS(t.Context(), SMS{To: "+44 7700 900000", Text: "Your Roster code is 123456"}); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	r := <-got
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+testAccountSID+"/Messages.json" {
		t.Errorf("request = %s %s, want POST /2010-04-01/Accounts/%s/Messages.json", r.Method, r.Path, testAccountSID)
	}
	if r.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
	if !r.AuthOK || r.User != testAccountSID || r.Password != testAuthToken {
		t.Errorf("basic auth = %q:%q (%v), want the account SID and token", r.User, r.Password, r.AuthOK)
	}
	want := url.Values{"To": {"+447700900000"}, "From": {"+14155550100"}, "Body": {"Your Roster code is 123456"}}
	if r.Form.Encode() != want.Encode() {
		t.Errorf("form = %v, want %v", r.Form, want)
	}
	l := logs.String()
	if !strings.Contains(l, "+44******0000") || !strings.Contains(l, `"status":"queued"`) || strings.Contains(l, "123456") {
		t.Errorf("log = %s, want the masked number and Twilio's status, no text", l)
	}
}

func TestTwilioSMSMessagingService(t *testing.T) {
	srv, got := fakeTwilio(t, http.StatusCreated, `{"status":"accepted"}`)
	s := mustTwilio(t, TwilioConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", BaseURL: srv.URL + "/"})

	if err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "hi"}); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	r := <-got
	if r.Path != "/2010-04-01/Accounts/"+testAccountSID+"/Messages.json" {
		t.Errorf("path = %s", r.Path)
	}
	if r.Form.Get("MessagingServiceSid") != "MG0123456789abcdef0123456789abcdef" || r.Form.Has("From") {
		t.Errorf("form = %v, want MessagingServiceSid and no From", r.Form)
	}
}

func TestTwilioSMSError(t *testing.T) {
	srv, _ := fakeTwilio(t, http.StatusBadRequest,
		`{"code": 21211, "message": "The 'To' number +447700900000 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`)
	s := mustTwilio(t, TwilioConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+14155550100", BaseURL: srv.URL})

	err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "Your code is 123456"})
	var perr *ProviderError
	if !errors.As(err, &perr) || perr.Status != 400 || perr.Code != 21211 || perr.Driver != "twilio" {
		t.Fatalf("err = %v, want a twilio *ProviderError with status 400 and code 21211", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "code 21211") || !strings.Contains(msg, "is not a valid phone number") {
		t.Errorf("err = %q, want Twilio's code and message", msg)
	}
	for _, secret := range []string{"+447700900000", "123456", testAuthToken} {
		if strings.Contains(msg, secret) {
			t.Errorf("err = %q shows %q", msg, secret)
		}
	}
}

func TestTwilioSMSNonJSONError(t *testing.T) {
	srv, _ := fakeTwilio(t, http.StatusServiceUnavailable, "<html>"+strings.Repeat("busy ", 100)+"</html>")
	s := mustTwilio(t, TwilioConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+14155550100", BaseURL: srv.URL})

	err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "hi"})
	var perr *ProviderError
	if !errors.As(err, &perr) || perr.Status != 503 || perr.Code != 0 || len(perr.Message) > maxErrorBody {
		t.Fatalf("err = %v, want status 503 with at most %d bytes of the body", err, maxErrorBody)
	}
}

func TestTwilioSMSTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := mustTwilio(t, TwilioConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+14155550100", BaseURL: srv.URL, Timeout: 200 * time.Millisecond})

	start := time.Now()
	err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "hi"})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("SendSMS took %s with a 200ms timeout", elapsed)
	}
}

func TestNewTwilioSMSValidation(t *testing.T) {
	ok := TwilioConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+14155550100"}
	if _, err := NewTwilioSMS(ok); err != nil {
		t.Fatalf("NewTwilioSMS(valid): %v", err)
	}
	for name, edit := range map[string]func(*TwilioConfig){
		"no account SID":   func(c *TwilioConfig) { c.AccountSID = "" },
		"API key SID":      func(c *TwilioConfig) { c.AccountSID = "SK0123456789abcdef0123456789abcdef" },
		"SID with a slash": func(c *TwilioConfig) { c.AccountSID = "AC01/../x" },
		"no token":         func(c *TwilioConfig) { c.AuthToken = "" },
		"no sender":        func(c *TwilioConfig) { c.From = "" },
		"two senders":      func(c *TwilioConfig) { c.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef" },
		"bad service SID":  func(c *TwilioConfig) { c.From, c.MessagingServiceSID = "", "AC0123" },
		"bad from number":  func(c *TwilioConfig) { c.From = "+1 (415" },
		"bad base URL":     func(c *TwilioConfig) { c.BaseURL = "api.twilio.com" },
		"negative timeout": func(c *TwilioConfig) { c.Timeout = -time.Second },
	} {
		cfg := ok
		edit(&cfg)
		_, err := NewTwilioSMS(cfg)
		if err == nil {
			t.Errorf("%s: NewTwilioSMS succeeded", name)
		} else if strings.Contains(err.Error(), testAuthToken) {
			t.Errorf("%s: err = %q shows the auth token", name, err)
		}
	}
}
