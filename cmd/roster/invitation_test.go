package main_test

import (
	"database/sql"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

// eventually polls cond every 50 ms for up to 15 seconds.
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
	inbox := testkit.StartSMTP(t, testkit.SMTPOptions{})
	inbox.Refuse(true)
	env := []string{"ROSTER_SMTP_ADDR=" + inbox.Addr, "ROSTER_SMTP_FROM=Roster <no-reply@roster.test>", "ROSTER_SMTP_TLS=none"}
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
	inbox.Refuse(false)
	srv = startServe(t, env...)
	mail := inbox.Wait(t, "crash@example.com", 1)
	token := regexp.MustCompile(`riv_[0-9A-Za-z]{40}`).FindString(mail[0].Body)
	if len(mail) != 1 || token == "" {
		t.Fatalf("received %+v", mail)
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
