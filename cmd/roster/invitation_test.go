package main_test

import (
	"database/sql"
	"encoding/json"
	"io"
	"log"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpInbox is a real SMTP server (emersion/go-smtp) that keeps the mail
// it takes, or refuses every message while refusing is set.
type smtpInbox struct {
	addr     string
	mu       sync.Mutex
	mails    []inboxMail
	refusing bool
}

type inboxMail struct{ to, subject, body string }

type smtpSession struct{ in *smtpInbox }

func (s smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s smtpSession) Reset()                               {}
func (s smtpSession) Logout() error                        { return nil }

func (s smtpSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		return err
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		return err
	}
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	if s.in.refusing {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.in.mails = append(s.in.mails, inboxMail{to: to.Address, subject: msg.Header.Get("Subject"), body: string(body)})
	return nil
}

func startSMTPInbox(t *testing.T) *smtpInbox {
	t.Helper()
	in := &smtpInbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return smtpSession{in}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	in.addr = ln.Addr().String()
	return in
}

func (in *smtpInbox) setRefusing(v bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.refusing = v
}

// received returns the bodies of the mail taken so far.
func (in *smtpInbox) received() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	bodies := make([]string, len(in.mails))
	for i, m := range in.mails {
		bodies[i] = m.body
	}
	return bodies
}

// to returns the mail taken so far for addresses ending in suffix: a
// server's worker delivers the queued mail of every tenant in the
// package's shared database, not only its own test's.
func (in *smtpInbox) to(suffix string) []inboxMail {
	in.mu.Lock()
	defer in.mu.Unlock()
	var mails []inboxMail
	for _, m := range in.mails {
		if strings.HasSuffix(m.to, suffix) {
			mails = append(mails, m)
		}
	}
	return mails
}

// eventually polls cond for up to 15 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 15*time.Second, what, cond)
}

// TestInvitationMailSurvivesACrash invites through `roster serve` while the
// mail server refuses, kills the process (SIGKILL: no shutdown of any
// kind), and starts another: its worker delivers the mail that was queued
// with the invitation, and the link in it works.
func TestInvitationMailSurvivesACrash(t *testing.T) {
	b := createTenant(t, "Invite Crash")
	inbox := startSMTPInbox(t)
	inbox.setRefusing(true)
	env := []string{"ROSTER_SMTP_ADDR=" + inbox.addr, "ROSTER_SMTP_FROM=Roster <no-reply@roster.test>", "ROSTER_SMTP_TLS=none"}
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	srv := startServe(t, env...)
	status, raw := srv.call(t, "POST", "/api/v1/invitations", b.AdminToken, `{"email":"crash@example.com","role":"viewer"}`)
	var inv struct {
		ID         string  `json:"id"`
		MailStatus string  `json:"mail_status"`
		SentAt     *string `json:"sent_at"`
	}
	if err := json.Unmarshal(raw, &inv); err != nil || status != 201 || inv.MailStatus != "pending" {
		t.Fatalf("invite: %d %s", status, raw)
	}
	attempts := func() (n int, lastError string) {
		var e sql.NullString
		if err := db.QueryRow(`SELECT e.attempts, e.last_error FROM invitations i
			JOIN email_outbox e ON e.tenant_id = i.tenant_id AND e.id = i.email_id WHERE i.id = $1`, inv.ID).Scan(&n, &e); err != nil {
			t.Fatal(err)
		}
		return n, e.String
	}
	eventually(t, "the worker's first attempt", func() bool { n, e := attempts(); return n == 1 && e != "" })
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.wait()
	firstLogs := srv.logs.String()

	// The retry is due (instead of in 30 s), the server accepts again, and
	// a new process starts.
	if _, err := db.Exec(`UPDATE email_outbox e SET next_attempt_at = now() FROM invitations i
		WHERE i.id = $1 AND e.tenant_id = i.tenant_id AND e.id = i.email_id`, inv.ID); err != nil {
		t.Fatal(err)
	}
	inbox.setRefusing(false)
	srv = startServe(t, env...)
	eventually(t, "the mail", func() bool { return len(inbox.received()) > 0 })
	bodies := inbox.received()
	token := regexp.MustCompile(`riv_[0-9A-Za-z]{40}`).FindString(bodies[0])
	if len(bodies) != 1 || token == "" {
		t.Fatalf("received %q", bodies)
	}
	eventually(t, "the invitation to read as sent", func() bool {
		status, raw := srv.call(t, "GET", "/api/v1/invitations", b.AdminToken, "")
		var page struct {
			Items []struct {
				MailStatus string `json:"mail_status"`
			}
		}
		return status == 200 && json.Unmarshal(raw, &page) == nil && len(page.Items) == 1 && page.Items[0].MailStatus == "sent"
	})
	if n, _ := attempts(); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	if status, raw := srv.call(t, "POST", "/api/v1/invitations/accept", "", `{"token":"`+token+`","password":"a-long-passphrase-42"}`); status != 201 {
		t.Fatalf("accept: %d %s", status, raw)
	}
	if strings.Contains(firstLogs+srv.logs.String(), "riv_") {
		t.Fatal("an invitation token reached the logs")
	}
}
