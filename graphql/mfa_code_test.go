package graphql_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/notify"
)

// TestEmailCodeEnrollment enrols email as a factor with the code a real
// SMTP server receives: a wrong code is invalid naming code, the right one
// enables it. SMS, with no sender configured, is a conflict.
func TestEmailCodeEnrollment(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	mb := testkit.StartSMTP(t, testkit.SMTPOptions{})
	mailer, err := notify.NewSMTPMailer(notify.SMTPConfig{Addr: mb.Addr, From: "Roster <no-reply@roster.test>",
		TLS: notify.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.app.MFA.Mailer = mailer
	email := uniqueEmail(t, "code")
	_, token := e.signedInUser(email)

	e.wantCode(token, "conflict", "", `mutation { startCodeEnrollment(method: SMS, phone: "+15555550100") { target } }`)
	var sent struct {
		StartCodeEnrollment struct {
			Method    string
			Target    string
			ExpiresIn int `json:"expiresIn"`
		} `json:"startCodeEnrollment"`
	}
	e.query(token, `mutation { startCodeEnrollment(method: EMAIL) { method target expiresIn } }`, &sent)
	if s := sent.StartCodeEnrollment; s.Method != "EMAIL" || s.Target == email || s.ExpiresIn <= 0 {
		t.Fatalf("sent %+v", s)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(mb.Wait(t, email, 1)[0].Body)
	if code == "" {
		t.Fatal("no code in the mail")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	e.wantCode(token, "invalid", "code", `mutation($c: String!) { confirmCodeEnrollment(method: EMAIL, code: $c) { mfa { enabled } } }`, "c", wrong)
	var confirmed struct {
		ConfirmCodeEnrollment struct{ Mfa mfaStatus } `json:"confirmCodeEnrollment"`
	}
	e.query(token, `mutation($c: String!) { confirmCodeEnrollment(method: EMAIL, code: $c) { mfa { `+mfaFields+` } } }`, &confirmed, "c", code)
	if m := confirmed.ConfirmCodeEnrollment.Mfa; !m.Enabled || len(m.Methods) != 1 || m.Methods[0].Type != "EMAIL" {
		t.Fatalf("confirmed %+v", m)
	}
}
