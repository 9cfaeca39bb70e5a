package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func mustWebhook(t *testing.T, cfg WebhookConfig) *WebhookSMS {
	t.Helper()
	w, err := NewWebhookSMS(cfg)
	if err != nil {
		t.Fatalf("NewWebhookSMS: %v", err)
	}
	return w
}

func TestWebhookSMS(t *testing.T) {
	type request struct {
		Method, Path, Query, ContentType string
		Body                             map[string]string
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("request body: %v", err)
		}
		got <- request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	s := mustWebhook(t, WebhookConfig{URL: srv.URL + "/sms?token=hook-secret", Log: slog.New(slog.NewJSONHandler(&logs, nil))})

	if err := s.SendSMS(t.Context(), SMS{To: "+44 7700 900000", Text: "Your Roster code is 123456"}); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	r := <-got
	if r.Method != http.MethodPost || r.Path != "/sms" || r.Query != "token=hook-secret" || r.ContentType != "application/json" {
		t.Errorf("request = %s %s?%s (%s), want POST /sms?token=hook-secret (application/json)", r.Method, r.Path, r.Query, r.ContentType)
	}
	if want := map[string]string{"to": "+447700900000", "message": "Your Roster code is 123456"}; len(r.Body) != 2 || r.Body["to"] != want["to"] || r.Body["message"] != want["message"] {
		t.Errorf("body = %v, want %v", r.Body, want)
	}
	if l := logs.String(); !strings.Contains(l, "+44******0000") || strings.Contains(l, "123456") || strings.Contains(l, "hook-secret") {
		t.Errorf("log = %s, want the number masked and no text or URL", l)
	}
}

func TestWebhookSMSNon2xx(t *testing.T) {
	echo := "gateway down; request was: to=+447700900000 message=Your Roster code is 123456 " + strings.Repeat("x", 500)
	for _, status := range []int{http.StatusBadRequest, http.StatusBadGateway, http.StatusFound} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusFound {
				http.Redirect(w, r, "http://example.com/elsewhere", status)
				return
			}
			http.Error(w, echo, status)
		}))
		s := mustWebhook(t, WebhookConfig{URL: srv.URL})

		err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "Your Roster code is 123456"})
		srv.Close()
		var perr *ProviderError
		if !errors.As(err, &perr) || perr.Status != status || perr.Driver != "webhook" {
			t.Errorf("status %d: err = %v, want a webhook *ProviderError with that status", status, err)
			continue
		}
		if len(perr.Message) > maxErrorBody {
			t.Errorf("status %d: error quotes %d bytes of the response, want at most %d", status, len(perr.Message), maxErrorBody)
		}
		if msg := err.Error(); strings.Contains(msg, "123456") || strings.Contains(msg, "+447700900000") {
			t.Errorf("status %d: err = %q leaks the text or the number", status, msg)
		}
	}
}

func TestWebhookSMSTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := mustWebhook(t, WebhookConfig{URL: srv.URL, Timeout: 200 * time.Millisecond})

	start := time.Now()
	err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "Your code is 123456"})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("SendSMS took %s with a 200ms timeout", elapsed)
	}
}

func TestWebhookSMSTransportErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/sms?token=hook-secret"
	srv.Close() // nothing listens there any more

	err := mustWebhook(t, WebhookConfig{URL: url}).SendSMS(t.Context(), SMS{To: "+447700900000", Text: "Your code is 123456"})
	if err == nil || strings.Contains(err.Error(), "hook-secret") || strings.Contains(err.Error(), "123456") {
		t.Errorf("err = %v, want an error without the URL's token or the text", err)
	}
}

func TestWebhookSMSInvalid(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	s := mustWebhook(t, WebhookConfig{URL: srv.URL})

	if err := s.SendSMS(t.Context(), SMS{To: "07700 900000", Text: "hi"}); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("SendSMS to a number without country code: err = %v, want %s", err, roster.EINVALID)
	}
	if err := s.SendSMS(t.Context(), SMS{To: "+447700900000", Text: "  "}); err == nil {
		t.Error("SendSMS without text succeeded")
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("webhook called %d times for invalid messages", n)
	}

	for _, cfg := range []WebhookConfig{
		{URL: ""},
		{URL: "/relative"},
		{URL: "ftp://example.com/sms"},
		{URL: "https://example.com/sms", Timeout: -time.Second},
	} {
		if _, err := NewWebhookSMS(cfg); err == nil {
			t.Errorf("NewWebhookSMS(%+v) succeeded", cfg)
		}
	}
}
