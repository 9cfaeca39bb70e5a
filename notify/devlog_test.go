package notify

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

// jsonLog is a logger whose records can be read back.
func jsonLog() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewJSONHandler(&b, nil)), &b
}

func lastRecord(t *testing.T, b *bytes.Buffer) map[string]any {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	var rec map[string]any
	if err := json.Unmarshal(lines[len(lines)-1], &rec); err != nil {
		t.Fatalf("log record %q: %v", lines[len(lines)-1], err)
	}
	return rec
}

func TestLogSMS(t *testing.T) {
	log, buf := jsonLog()
	if _, err := NewLogSMS(log, false); err == nil {
		t.Fatal("NewLogSMS outside development mode succeeded")
	}
	if _, err := NewLogSMS(nil, true); err == nil {
		t.Fatal("NewLogSMS without a logger succeeded")
	}
	s, err := NewLogSMS(log, true)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.SendSMS(t.Context(), SMS{To: "+44 7700 900000", Text: "Your code is 123456"}); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	rec := lastRecord(t, buf)
	if rec["level"] != "INFO" || rec["msg"] != "SMS to +44******0000" || rec["text"] != "Your code is 123456" {
		t.Errorf("record = %v, want INFO \"SMS to +44******0000\" with the text", rec)
	}
	if err := s.SendSMS(t.Context(), SMS{To: "not a number", Text: "hi"}); err == nil {
		t.Error("SendSMS to an invalid number succeeded")
	}
}

func TestLogMailer(t *testing.T) {
	log, buf := jsonLog()
	if _, err := NewLogMailer(log, false); err == nil {
		t.Fatal("NewLogMailer outside development mode succeeded")
	}
	m, err := NewLogMailer(log, true)
	if err != nil {
		t.Fatal(err)
	}

	if err := m.Send(t.Context(), Message{To: "alice@example.com", Subject: "Your code", Text: "Your code is 123456"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	rec := lastRecord(t, buf)
	if rec["level"] != "INFO" || rec["msg"] != "mail to a***@example.com" || rec["subject"] != "Your code" || rec["text"] != "Your code is 123456" {
		t.Errorf("record = %v, want INFO \"mail to a***@example.com\" with subject and text", rec)
	}
}
