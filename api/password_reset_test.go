package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var resetLinkPattern = regexp.MustCompile(regexp.QuoteMeta(testPublicURL+"/account/reset?tenant=") + `[^&\s]+&token=(rsl_[A-Za-z0-9]+)`)

// TestPasswordReset is a forgotten password: the request answers alike for
// an account and for nobody, the mail carries a link that works once, the
// new password follows the policy and ends the old sessions, and the user
// is told.
func TestPasswordReset(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	const email = "forgetful@example.com"
	created := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": email, "password": goodPassword}})
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	id := created.Object(t)["id"].(string)
	login := func(password string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"tenant": e.A.ID, "username": email, "password": password}})
	}
	var old struct {
		RefreshToken string `json:"refresh_token"`
	}
	login(goodPassword).JSON(t, &old)

	ask := func(tenant, address string) (response, time.Duration) {
		start := time.Now()
		r := e.do(request{Method: "POST", Path: "/api/v1/auth/password-reset", Body: map[string]any{"tenant": tenant, "email": address}})
		return r, time.Since(start)
	}
	known, knownTook := ask(e.A.ID, "Forgetful@Example.com")
	for _, other := range []struct{ tenant, email string }{{e.A.ID, "nobody@example.com"}, {"no-such-tenant", email}, {e.B.ID, email}} {
		r, took := ask(other.tenant, other.email)
		if r.Status != known.Status || string(r.Body) != string(known.Body) {
			t.Fatalf("%+v answered %d %s, an account %d %s", other, r.Status, r.Body, known.Status, known.Body)
		}
		if took < 250*time.Millisecond || knownTook < 250*time.Millisecond {
			t.Fatalf("answers took %s (%+v) and %s (an account): both must take the same floor", took, other, knownTook)
		}
	}
	if known.Status != http.StatusAccepted {
		t.Fatalf("request: %d %s", known.Status, known.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/password-reset", Body: map[string]any{"tenant": e.A.ID}, Invalid: true}), 400, "email")

	mb.deliver(t)
	m := resetLinkPattern.FindStringSubmatch(mb.lastMail(t, email, 1).Body)
	if m == nil {
		t.Fatalf("no reset link in %q", mb.lastMail(t, email, 1).Body)
	}
	token := m[1]
	if strings.Contains(dumpTables(t, "setup_links", "email_outbox"), token) {
		t.Fatal("the reset token is stored in the clear")
	}

	confirm := func(token, password string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/password-reset/confirm", Body: map[string]any{"token": token, "new_password": password}})
	}
	wantProblem(t, confirm(token, "short"), http.StatusBadRequest, "new_password")
	const newPassword = "a-brand-new-passphrase-7"
	if r := confirm(token, newPassword); r.Status != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	wantProblem(t, confirm(token, "yet-another-passphrase-9"), http.StatusGone, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": old.RefreshToken}}), http.StatusUnauthorized, "")
	wantProblem(t, login(goodPassword), http.StatusUnauthorized, "")
	if r := login(newPassword); r.Status != http.StatusOK {
		t.Fatalf("sign-in with the new password: %d %s", r.Status, r.Body)
	}
	mb.deliver(t)
	if told := mb.lastMail(t, email, 2); !strings.Contains(told.Header.Get("Subject"), "password was changed") {
		t.Fatalf("the second mail is %q", told.Header.Get("Subject"))
	}
	events := e.do(request{Method: "GET", Path: "/api/v1/audit-events?target_id=" + id, Token: e.A.Admin})
	for _, want := range []string{`"purpose":"reset"`, `"via":"password_reset"`} {
		if !strings.Contains(string(events.Body), want) {
			t.Errorf("the audit trail lacks %s: %s", want, events.Body)
		}
	}

	// An account asks five times an hour at most; nobody's address too.
	for i := 0; i < 4; i++ {
		if r, _ := ask(e.A.ID, email); r.Status != http.StatusAccepted {
			t.Fatalf("request %d: %d %s", i+2, r.Status, r.Body)
		}
	}
	r, _ := ask(e.A.ID, email)
	wantProblem(t, r, http.StatusTooManyRequests, "")
}

// TestAdminSendsPasswordReset: an admin mails a user a reset link; others
// may not, another tenant's user is not found, a deactivated user gets none.
func TestAdminSendsPasswordReset(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	ids := e.createUsers(e.A.Admin, "reset-me", 2, nil)
	send := func(token, id string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/users/" + id + "/password-reset", Token: token})
	}
	wantProblem(t, send(e.A.Viewer, ids[0]), http.StatusForbidden, "")
	wantProblem(t, send(e.B.Admin, ids[0]), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/not-a-uuid/password-reset", Token: e.A.Admin, Invalid: true}), http.StatusNotFound, "")
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ids[1], Token: e.A.Admin, Body: map[string]any{"active": false}}); r.Status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	wantProblem(t, send(e.A.Admin, ids[1]), http.StatusConflict, "")
	if r := send(e.A.Admin, ids[0]); r.Status != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	user := e.do(request{Method: "GET", Path: "/api/v1/users/" + ids[0], Token: e.A.Admin}).Object(t)
	mb.deliver(t)
	if !resetLinkPattern.MatchString(mb.lastMail(t, user["email"].(string), 1).Body) {
		t.Fatal("the mail has no reset link")
	}
}
