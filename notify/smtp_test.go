package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

func mustMailer(t *testing.T, cfg SMTPConfig) *SMTPMailer {
	t.Helper()
	m, err := NewSMTPMailer(cfg)
	if err != nil {
		t.Fatalf("NewSMTPMailer: %v", err)
	}
	return m
}

// parseReceived parses a received message and returns it with its plain
// body decoded.
func parseReceived(t *testing.T, r testkit.Mail) (*mail.Message, string) {
	t.Helper()
	if !isASCII(r.Data) {
		t.Errorf("message is not 7-bit clean:\n%s", r.Data)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("net/mail cannot parse the message: %v\n%s", err, r.Data)
	}
	if got := msg.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" && !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/") {
		t.Errorf("Content-Transfer-Encoding = %q, want quoted-printable", got)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decoding quoted-printable body: %v", err)
	}
	return msg, string(body)
}

func TestSMTPPlain(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "Roster <no-reply@roster.test>", TLS: TLSNone})

	err := m.Send(t.Context(), Message{To: "alice@example.com", Subject: "Your code", Text: "Your code is 123456.\nIt expires in 10 minutes."})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}

	r := srv.Only(t)
	if r.From != "no-reply@roster.test" || len(r.To) != 1 || r.To[0] != "alice@example.com" {
		t.Errorf("envelope = %q -> %q, want no-reply@roster.test -> [alice@example.com]", r.From, r.To)
	}
	if r.TLS {
		t.Error("session was encrypted with TLS none")
	}
	msg, body := parseReceived(t, r)
	// SMTP framing ends the last line with CRLF where the text did not.
	if body != "Your code is 123456.\r\nIt expires in 10 minutes.\r\n" {
		t.Errorf("body = %q", body)
	}
	for name, want := range map[string]string{
		"From":         `"Roster" <no-reply@roster.test>`,
		"To":           "<alice@example.com>",
		"Subject":      "Your code",
		"MIME-Version": "1.0",
		"Content-Type": "text/plain; charset=utf-8",
	} {
		if got := msg.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if date, err := msg.Header.Date(); err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date = %q (%v), want about now", msg.Header.Get("Date"), err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@roster.test>") {
		t.Errorf("Message-ID = %q, want <...@roster.test>", id)
	}
}

func TestSMTPStartTLS(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{TLS: testkit.StartTLS})

	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSStartTLS, RootCAs: srv.Roots})
	if err := m.Send(t.Context(), Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := srv.Only(t); !r.TLS {
		t.Error("the message went over plain text, want STARTTLS")
	}

	// Without the test CA the self-signed certificate must be refused.
	untrusting := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSStartTLS})
	err := untrusting.Send(t.Context(), Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Send with an untrusted certificate: err = %v, want a STARTTLS certificate error", err)
	}
}

func TestSMTPStartTLSNotOffered(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSStartTLS})

	err := m.Send(t.Context(), Message{To: "bob@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("err = %v, want a refusal to fall back to plain text", err)
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("server received %d messages over plain text", n)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{TLS: testkit.ImplicitTLS})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSImplicit, RootCAs: srv.Roots})

	if err := m.Send(t.Context(), Message{To: "carol@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := srv.Only(t); !r.TLS {
		t.Error("the message went over plain text, want implicit TLS")
	}
}

func TestSMTPAuthPlain(t *testing.T) {
	for mode, serverTLS := range map[string]testkit.SMTPTLS{TLSStartTLS: testkit.StartTLS, TLSImplicit: testkit.ImplicitTLS} {
		t.Run(mode, func(t *testing.T) {
			srv := testkit.StartSMTP(t, testkit.SMTPOptions{TLS: serverTLS, Username: "roster", Password: "s3cret pass"})
			cfg := SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: mode, RootCAs: srv.Roots, Username: "roster", Password: "s3cret pass"}

			if err := mustMailer(t, cfg).Send(t.Context(), Message{To: "dan@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if r := srv.Only(t); r.AuthAs != "roster" {
				t.Errorf("authenticated as %q, want roster", r.AuthAs)
			}

			cfg.Password = "wrong"
			err := mustMailer(t, cfg).Send(t.Context(), Message{To: "dan@example.com", Subject: "Hi", Text: "Hello"})
			var reply *textproto.Error
			if !errors.As(err, &reply) || reply.Code != 535 || !strings.Contains(err.Error(), "AUTH PLAIN") {
				t.Fatalf("Send with a wrong password: err = %v, want a 535 AUTH PLAIN rejection", err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestSMTPTimeout(t *testing.T) {
	addr := startSilentServer(t)
	m := mustMailer(t, SMTPConfig{Addr: addr, From: "no-reply@roster.test", TLS: TLSNone, Timeout: 300 * time.Millisecond})

	start := time.Now()
	err := m.Send(t.Context(), Message{To: "erin@example.com", Subject: "Hi", Text: "Hello"})
	elapsed := time.Since(start)

	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("Send took %s with a 300ms timeout", elapsed)
	}
}

func TestSMTPContextCancel(t *testing.T) {
	addr := startSilentServer(t)
	m := mustMailer(t, SMTPConfig{Addr: addr, From: "no-reply@roster.test", TLS: TLSNone, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()

	start := time.Now()
	err := m.Send(ctx, Message{To: "erin@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Send took %s past the caller's 200ms deadline", elapsed)
	}

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = m.Send(ctx, Message{To: "erin@example.com", Subject: "Hi", Text: "Hello"})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("err = %v, want cancelled", err)
	}
}

func TestSMTPRecipientRejected(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{RejectRecipient: "nobody@example.com"})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSNone})

	err := m.Send(t.Context(), Message{To: "nobody@example.com", Subject: "Hi", Text: "Your code is 123456"})
	var reply *textproto.Error
	if !errors.As(err, &reply) || reply.Code != 550 {
		t.Fatalf("err = %v, want the server's 550", err)
	}
	for _, want := range []string{"RCPT TO n***@example.com", "rejected"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "123456") {
		t.Errorf("err = %q shows the message body", err)
	}
}

func TestSMTPNonASCII(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "Équipe Roster <no-reply@roster.test>", TLS: TLSNone})
	subject := "Votre code de vérification pour Équipe Roster — 認証コード ✓ — à utiliser avant dix minutes"
	text := "Bonjour Zoë,\n\nvotre code : 123 456 — à saisir dans 10 minutes.\n.\nUne ligne très longue " + strings.Repeat("é", 120) + " fin.\nTrailing space \n"

	if err := m.Send(t.Context(), Message{To: "Zoë Dupré <zoe@example.com>", Subject: subject, Text: text}); err != nil {
		t.Fatalf("Send: %v", err)
	}

	r := srv.Only(t)
	if !bytes.Contains(r.Data, []byte("?=\r\n =?")) {
		t.Errorf("long subject is not folded:\n%s", r.Data)
	}
	msg, body := parseReceived(t, r)
	var dec mime.WordDecoder
	if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != subject {
		t.Errorf("Subject = %q (%v), want %q", got, err, subject)
	}
	for name, want := range map[string]mail.Address{
		"From": {Name: "Équipe Roster", Address: "no-reply@roster.test"},
		"To":   {Name: "Zoë Dupré", Address: "zoe@example.com"},
	} {
		got, err := msg.Header.AddressList(name)
		if err != nil || len(got) != 1 || *got[0] != want {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); body != want {
		t.Errorf("body = %q, want %q", body, want)
	}
}

func TestSMTPHTMLAlternative(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSNone})
	text := "Join Acme on Roster: https://roster.test/invite/abc"
	html := `<p>Join <b>Acmé</b> on Roster: <a href="https://roster.test/invite/abc">accept</a></p>`

	if err := m.Send(t.Context(), Message{To: "fay@example.com", Subject: "Invitation", Text: text, HTML: html}); err != nil {
		t.Fatalf("Send: %v", err)
	}

	r := srv.Only(t)
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" || params["boundary"] == "" {
		t.Fatalf("Content-Type = %q, want multipart/alternative with a boundary", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []struct{ contentType, body string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("reading the %s part: %v", want.contentType, err)
		}
		if got := part.Header.Get("Content-Type"); got != want.contentType {
			t.Errorf("part Content-Type = %q, want %q", got, want.contentType)
		}
		if got := part.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
			t.Errorf("part Content-Transfer-Encoding = %q, want quoted-printable", got)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil || string(body) != want.body {
			t.Errorf("part body = %q (%v), want %q", body, err, want.body)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("after two parts: %v, want io.EOF", err)
	}
}

func TestSMTPLogsNoBody(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{})
	var logs bytes.Buffer
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSNone, Log: slog.New(slog.NewJSONHandler(&logs, nil))})

	if err := m.Send(t.Context(), Message{To: "gus@example.com", Subject: "Code 123456", Text: "Your code is 123456"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.Contains(logs.String(), "g***@example.com") || strings.Contains(logs.String(), "123456") || strings.Contains(logs.String(), "gus@") {
		t.Errorf("log = %s, want the recipient masked and no subject or body", logs.String())
	}
}

func TestSMTPInvalidMessage(t *testing.T) {
	srv := testkit.StartSMTP(t, testkit.SMTPOptions{})
	m := mustMailer(t, SMTPConfig{Addr: srv.Addr, From: "no-reply@roster.test", TLS: TLSNone})

	for name, msg := range map[string]Message{
		"no recipient":        {Subject: "Hi", Text: "Hello"},
		"bad recipient":       {To: "not an address", Subject: "Hi", Text: "Hello"},
		"header injection":    {To: "a@example.com", Subject: "Hi\r\nBcc: victim@example.com", Text: "Hello"},
		"recipient with CRLF": {To: "a@example.com\r\nRCPT TO:<b@example.com>", Subject: "Hi", Text: "Hello"},
		"no text":             {To: "a@example.com", Subject: "Hi"},
	} {
		if err := m.Send(t.Context(), msg); err == nil {
			t.Errorf("%s: Send succeeded", name)
		}
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("server received %d invalid messages", n)
	}
}

func TestNewSMTPMailerValidation(t *testing.T) {
	ok := SMTPConfig{Addr: "smtp.example.com:587", From: "no-reply@example.com"}
	m, err := NewSMTPMailer(ok)
	if err != nil {
		t.Fatalf("NewSMTPMailer(%+v): %v", ok, err)
	}
	if m.cfg.TLS != TLSStartTLS || m.cfg.Timeout != DefaultTimeout {
		t.Errorf("defaults: TLS %q, timeout %s; want starttls and %s", m.cfg.TLS, m.cfg.Timeout, DefaultTimeout)
	}

	for name, tc := range map[string]struct {
		edit func(*SMTPConfig)
		want string
	}{
		"no port":              {func(c *SMTPConfig) { c.Addr = "smtp.example.com" }, "host:port"},
		"no host":              {func(c *SMTPConfig) { c.Addr = ":587" }, "host:port"},
		"bad from":             {func(c *SMTPConfig) { c.From = "no-reply" }, "from address"},
		"empty from":           {func(c *SMTPConfig) { c.From = "" }, "from address"},
		"bad TLS mode":         {func(c *SMTPConfig) { c.TLS = "ssl" }, "TLS mode"},
		"username only":        {func(c *SMTPConfig) { c.Username = "u" }, "together"},
		"password only":        {func(c *SMTPConfig) { c.Password = "p" }, "together"},
		"credentials in clear": {func(c *SMTPConfig) { c.TLS, c.Username, c.Password = TLSNone, "u", "p" }, "only sent over TLS"},
		"negative timeout":     {func(c *SMTPConfig) { c.Timeout = -time.Second }, "negative"},
	} {
		cfg := ok
		tc.edit(&cfg)
		_, err := NewSMTPMailer(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

// startSilentServer accepts connections on 127.0.0.1:0 and never answers,
// like an SMTP server that has hung.
func startSilentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// isASCII reports whether b is 7-bit clean, as a message with encoded
// headers and quoted-printable bodies must be.
func isASCII(b []byte) bool {
	return !bytes.ContainsFunc(b, func(r rune) bool { return r > 127 })
}
