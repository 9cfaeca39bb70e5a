package api_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/worker"
)

// invitationTokenPattern finds the token in an invitation mail.
var invitationTokenPattern = regexp.MustCompile(`riv_[0-9A-Za-z]{40}`)

// invitation is an invitation as the API answers it.
type invitation struct {
	ID         string  `json:"id"`
	Email      string  `json:"email"`
	Role       string  `json:"role"`
	Status     string  `json:"status"`
	InvitedBy  string  `json:"invited_by"`
	CreatedAt  string  `json:"created_at"`
	ExpiresAt  string  `json:"expires_at"`
	MailStatus string  `json:"mail_status"`
	SentAt     *string `json:"sent_at"`
	AcceptedAt *string `json:"accepted_at"`
	RevokedAt  *string `json:"revoked_at"`
	UserID     *string `json:"user_id"`
}

// inbox is a real SMTP server and the outbox worker of `roster serve`
// delivering to it.
type inbox struct {
	mailbox
	w *worker.Worker
}

// startInvitationMailbox starts a real SMTP server (which MFA codes go to
// as well) and a mail worker with a 1 ms backoff and 3 attempts.
func startInvitationMailbox(t *testing.T, e *testEnv) *inbox {
	t.Helper()
	mb := startMailbox(t, e)
	return &inbox{mailbox: mb, w: e.newWorker(e.mfa.Mailer, worker.Config{EmailBackoff: time.Millisecond, EmailMaxAttempts: 3})}
}

// deliver runs the worker until no mail is due, as `roster serve` does in
// the background.
func (ib *inbox) deliver(t *testing.T) {
	t.Helper()
	for {
		n, err := ib.w.DeliverEmails(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// cancelQueuedMail cancels the mail e's tenants left in the outbox, which
// the next test's worker would otherwise deliver to its own mailbox.
func (e *testEnv) cancelQueuedMail() {
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		e.t.Error(err)
		return
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE email_outbox SET status = 'cancelled', body = ''
		WHERE tenant_id IN ($1, $2) AND status = 'pending'`, e.A.ID, e.B.ID); err != nil {
		e.t.Error(err)
	}
}

// lastInvitationToken delivers the queued mail and returns the token of the
// last one received, which must be the count-th and have gone to to, with
// the link to the accept page.
func (mb *inbox) lastInvitationToken(t *testing.T, to string, count int) string {
	t.Helper()
	mb.deliver(t)
	body := mb.lastMail(t, to, count).Body
	token := invitationTokenPattern.FindString(body)
	if token == "" || !regexp.MustCompile(regexp.QuoteMeta(testPublicURL+"/account/accept?tenant=")+`[a-z0-9-]+&token=`+token).MatchString(body) {
		t.Fatalf("no accept link in %q", body)
	}
	return token
}

func invite(t *testing.T, e *testEnv, token, email, role string) invitation {
	t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: token, Body: map[string]any{"email": email, "role": role}})
	if r.Status != http.StatusCreated {
		t.Fatalf("invite %s: %d %s", email, r.Status, r.Body)
	}
	var inv invitation
	r.JSON(t, &inv)
	return inv
}

func accept(e *testEnv, token string, extra map[string]any) response {
	body := map[string]any{"token": token, "password": goodPassword}
	for k, v := range extra {
		body[k] = v
	}
	return e.do(request{Method: "POST", Path: "/api/v1/invitations/accept", Body: body})
}

func listInvitations(t *testing.T, e *testEnv, token, query string) []invitation {
	t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/invitations" + query, Token: token})
	if r.Status != 200 {
		t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
	}
	var page struct{ Items []invitation }
	r.JSON(t, &page)
	return page.Items
}

func TestInvitationIsMailedAndAcceptedOnce(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	before := time.Now()
	inv := invite(t, e, e.A.Admin, " Ada@Example.com ", "developer")
	if inv.Email != "Ada@Example.com" || inv.Role != "developer" || inv.Status != "pending" || inv.InvitedBy == "" ||
		inv.MailStatus != "pending" || inv.SentAt != nil {
		t.Fatalf("invitation %+v", inv)
	}
	if mb.count() != 0 {
		t.Fatal("the invitation was mailed inside the request")
	}
	expires, err := time.Parse(time.RFC3339Nano, inv.ExpiresAt)
	if err != nil || expires.Before(before.Add(7*24*time.Hour-time.Minute)) || expires.After(time.Now().Add(7*24*time.Hour)) {
		t.Fatalf("expires_at %s, want 7 days from now (%v)", inv.ExpiresAt, err)
	}
	token := mb.lastInvitationToken(t, "Ada@Example.com", 1)
	listed := listInvitations(t, e, e.A.Admin, "")
	if len(listed) != 1 || listed[0].MailStatus != "sent" || listed[0].SentAt == nil {
		t.Fatalf("listed after delivery %+v", listed)
	}
	listed[0].MailStatus, listed[0].SentAt = inv.MailStatus, nil
	if !reflect.DeepEqual(listed[0], inv) {
		t.Fatalf("listed %+v, want what the invitation answered %+v", listed, inv)
	}
	if strings.Contains(dumpTables(t, "invitations", "audit_events", "email_outbox"), token) {
		t.Fatal("the invitation token is stored in the clear")
	}

	// The address is invited, and a user's address cannot be.
	for _, email := range []string{"ada@example.COM", "admin-x@example.com"} {
		if email == "admin-x@example.com" {
			r := e.do(request{Method: "GET", Path: "/api/v1/users/" + e.A.AdminID, Token: e.A.Admin})
			var u struct{ Email string }
			r.JSON(t, &u)
			email = strings.ToUpper(u.Email)
		}
		r := e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: e.A.Admin, Body: map[string]any{"email": email, "role": "viewer"}})
		wantProblem(t, r, http.StatusConflict, "email")
	}

	r := accept(e, token, map[string]any{"given_name": "Ada", "family_name": "Lovelace"})
	if r.Status != http.StatusCreated {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	var u struct {
		ID, Email, Role string
		UserName        string `json:"user_name"`
		GivenName       string `json:"given_name"`
	}
	r.JSON(t, &u)
	if u.Email != "Ada@Example.com" || u.UserName != "Ada@Example.com" || u.Role != "developer" || u.GivenName != "Ada" {
		t.Fatalf("user %+v", u)
	}
	// The user signs in with the password chosen, in the invitation's tenant.
	if r := login(e, e.A.ID, "ada@example.com", goodPassword); r.Status != 200 {
		t.Fatalf("login after accepting: %d %s", r.Status, r.Body)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/users/" + u.ID, Token: e.B.Admin}); r.Status != 404 {
		t.Fatalf("tenant B sees the new user: %d", r.Status)
	}
	// Single use.
	wantProblem(t, accept(e, token, map[string]any{"user_name": "ada2"}), http.StatusGone, "")

	got := listInvitations(t, e, e.A.Viewer, "?status=accepted")
	if len(got) != 1 || got[0].ID != inv.ID || got[0].UserID == nil || *got[0].UserID != u.ID || got[0].AcceptedAt == nil {
		t.Fatalf("accepted invitations %+v", got)
	}
	if got := listInvitations(t, e, e.A.Viewer, "?status=pending"); len(got) != 0 {
		t.Fatalf("pending after accepting: %+v", got)
	}
	if actions := auditActions(t, e, inv.ID); !slices.Contains(actions, "invitation.created") || !slices.Contains(actions, "invitation.accepted") {
		t.Fatalf("invitation audit events %v", actions)
	}
	var actorType, actorID string
	if err := openTestDB(t).QueryRow(`SELECT actor_type, actor_id FROM audit_events WHERE target_id = $1 AND action = 'user.created'`,
		u.ID).Scan(&actorType, &actorID); err != nil || actorType != "invitation" || actorID != inv.ID {
		t.Fatalf("user.created by %s %s (%v), want the invitation", actorType, actorID, err)
	}
	if actions := auditActions(t, e, u.ID); !slices.Contains(actions, "user.created") {
		t.Fatalf("user audit events %v", actions)
	}
}

func TestInvitationResendAndRevoke(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	inv := invite(t, e, e.A.Admin, "grace@example.com", "viewer")
	first := mb.lastInvitationToken(t, "grace@example.com", 1)

	r := e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: e.A.Admin})
	if r.Status != 200 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	var resent invitation
	r.JSON(t, &resent)
	second := mb.lastInvitationToken(t, "grace@example.com", 2)
	if second == first || resent.Status != "pending" || resent.MailStatus != "pending" || resent.SentAt != nil || resent.ExpiresAt < inv.ExpiresAt {
		t.Fatalf("resent %+v (same token: %v)", resent, second == first)
	}
	wantProblem(t, accept(e, first, nil), http.StatusGone, "")

	if r := e.do(request{Method: "DELETE", Path: "/api/v1/invitations/" + inv.ID, Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	wantProblem(t, accept(e, second, nil), http.StatusGone, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/invitations/" + inv.ID, Token: e.A.Admin}), http.StatusConflict, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: e.A.Admin}), http.StatusConflict, "")
	if got := listInvitations(t, e, e.A.Admin, "?status=revoked"); len(got) != 1 || got[0].RevokedAt == nil {
		t.Fatalf("revoked invitations %+v", got)
	}
	actions := auditActions(t, e, inv.ID)
	for _, want := range []string{"invitation.created", "invitation.resent", "invitation.revoked"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("audit events %v lack %s", actions, want)
		}
	}
	// A revoked address can be invited again.
	invite(t, e, e.A.Admin, "grace@example.com", "viewer")

	// Resending to an address that has become a user's is refused.
	other := invite(t, e, e.A.Admin, "hopper@example.com", "viewer")
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": "hopper@example.com"}}); r.Status != 201 {
		t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/invitations/" + other.ID + "/resend", Token: e.A.Admin}), http.StatusConflict, "email")
	// And accepting it then conflicts with the user.
	token := mb.lastInvitationToken(t, "hopper@example.com", 4)
	wantProblem(t, accept(e, token, nil), http.StatusConflict, "email")
}

func TestExpiredInvitation(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	inv := invite(t, e, e.A.Admin, "expired@example.com", "viewer")
	token := mb.lastInvitationToken(t, "expired@example.com", 1)
	db := openTestDB(t)
	if _, err := db.Exec(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, inv.ID); err != nil {
		t.Fatal(err)
	}
	if got := listInvitations(t, e, e.A.Admin, "?status=expired"); len(got) != 1 || got[0].ID != inv.ID || got[0].Status != "expired" {
		t.Fatalf("expired invitations %+v", got)
	}
	wantProblem(t, accept(e, token, nil), http.StatusGone, "")

	// Resending revives it with a new expiry.
	r := e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: e.A.Admin})
	var resent invitation
	r.JSON(t, &resent)
	if r.Status != 200 || resent.Status != "pending" {
		t.Fatalf("resend expired: %d %s", r.Status, r.Body)
	}
	// Expired again, a new invitation to the address replaces it.
	if _, err := db.Exec(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, inv.ID); err != nil {
		t.Fatal(err)
	}
	fresh := invite(t, e, e.A.Admin, "EXPIRED@example.com", "developer")
	all := listInvitations(t, e, e.A.Admin, "")
	if len(all) != 2 || all[0].ID != fresh.ID || all[1].ID != inv.ID || all[1].Status != "revoked" {
		t.Fatalf("invitations after replacing an expired one %+v", all)
	}
	// The resent mail, not delivered before the invitation was replaced,
	// was cancelled with it: the new invitation's mail is the second.
	if status, body, _ := queuedMail(t, inv.ID); status != "cancelled" || body != "" {
		t.Fatalf("the replaced invitation's mail is %s: %q", status, body)
	}
	if r := accept(e, mb.lastInvitationToken(t, "EXPIRED@example.com", 2), nil); r.Status != 201 {
		t.Fatalf("accept the new invitation: %d %s", r.Status, r.Body)
	}
}

func TestInvitationTenantIsolation(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	inv := invite(t, e, e.A.Admin, "isolated@example.com", "viewer")
	token := mb.lastInvitationToken(t, "isolated@example.com", 1)

	if got := listInvitations(t, e, e.B.Admin, ""); len(got) != 0 {
		t.Fatalf("tenant B lists A's invitations: %+v", got)
	}
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/invitations/" + inv.ID, Token: e.B.Admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: e.B.Admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/invitations/not-an-id", Token: e.A.Admin}), http.StatusNotFound, "")
	// B may invite the same address to its own tenant.
	invite(t, e, e.B.Admin, "isolated@example.com", "admin")
	if r := accept(e, token, nil); r.Status != 201 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{e.A.Admin, 1}, {e.B.Admin, 0}} {
		r := e.do(request{Method: "GET", Path: "/api/v1/users?q=isolated", Token: tc.token})
		var page struct{ Items []struct{ Role string } }
		r.JSON(t, &page)
		if len(page.Items) != tc.want {
			t.Fatalf("users named isolated: %d, want %d", len(page.Items), tc.want)
		}
	}
	// B's invitation is still pending.
	if got := listInvitations(t, e, e.B.Admin, "?status=pending"); len(got) != 1 {
		t.Fatalf("B's pending invitations %+v", got)
	}
}

func TestInvitationPermissions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	inv := invite(t, e, e.A.Admin, "perm@example.com", "admin")
	for _, token := range []string{e.A.Developer, e.A.Viewer} {
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: token,
			Body: map[string]any{"email": "x@example.com", "role": "admin"}}), http.StatusForbidden, "")
		wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/invitations/" + inv.ID, Token: token}), http.StatusForbidden, "")
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: token}), http.StatusForbidden, "")
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/invitations/bulk", Token: token,
			Body: "email,role\nx@example.com,viewer\n", Header: map[string]string{"Content-Type": "text/csv"}}), http.StatusForbidden, "")
		if got := listInvitations(t, e, token, ""); len(got) != 1 {
			t.Fatalf("readers see %d invitations", len(got))
		}
	}
	// Below the permission check, the role check: no one invites above
	// their own role.
	dev := &roster.Principal{Kind: roster.PrincipalUser, TenantID: e.A.ID, Subject: "dev", Roles: []string{roster.RoleDeveloper}}
	for role, code := range map[string]string{"admin": roster.EFORBIDDEN, "developer": "", "viewer": ""} {
		_, err := e.invitations.Invite(t.Context(), dev, roster.ActorOf(dev, "req"), role+"-by-dev@example.com", role)
		if got := roster.ErrorCode(err); got != code {
			t.Fatalf("a developer inviting a %s: %q (%v), want %q", role, got, err, code)
		}
	}
	// The SCIM token reads nothing here.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/invitations", Token: e.A.SCIM}), http.StatusForbidden, "")
}

func TestInvitationBadInput(t *testing.T) {
	e := newTestEnv(t)
	inv := invite(t, e, e.A.Admin, "input@example.com", "viewer")
	create := func(body any) response {
		return e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: e.A.Admin, Body: body, Invalid: true})
	}
	wantProblem(t, create(map[string]any{"email": "a@example.com", "role": "viewer", "admin": true}), 400, "admin")
	wantProblem(t, create(map[string]any{"email": "not an address", "role": "viewer"}), 400, "email")
	wantProblem(t, create(map[string]any{"email": "b@example.com", "role": "owner"}), 400, "role")
	wantProblem(t, create(map[string]any{"email": "b@example.com"}), 400, "role")
	wantProblem(t, create(`{"email":`), 400, "body")
	wantProblem(t, create(strings.Repeat("x", 1<<20+1)), http.StatusRequestEntityTooLarge, "")

	for _, q := range []string{"?status=open", "?sort=email", "?limit=0", "?cursor=garbage"} {
		wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/invitations" + q, Token: e.A.Admin, Invalid: true}), 400, "")
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/invitations?status=open", Token: e.A.Admin, Invalid: true}), 400, "status")

	acceptBody := func(body any) response {
		return e.do(request{Method: "POST", Path: "/api/v1/invitations/accept", Body: body, Invalid: true})
	}
	wantProblem(t, acceptBody(map[string]any{"password": goodPassword}), 400, "token")
	wantProblem(t, acceptBody(map[string]any{"token": "riv_x", "password": goodPassword, "role": "admin"}), 400, "role")
	wantProblem(t, acceptBody(strings.Repeat("x", 1<<20+1)), http.StatusRequestEntityTooLarge, "")
	wantProblem(t, accept(e, "riv_"+strings.Repeat("A", 40), nil), http.StatusGone, "")
	wantProblem(t, accept(e, "rst_nope", nil), http.StatusGone, "")

	// The tenant's password policy applies, with the address as a user input.
	mb := startInvitationMailbox(t, e)
	if r := e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: e.A.Admin}); r.Status != 200 {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	token := mb.lastInvitationToken(t, "input@example.com", 1)
	for _, pw := range []string{"short", "password1234", "input@example.com-long"} {
		wantProblem(t, accept(e, token, map[string]any{"password": pw}), 400, "password")
	}
	wantProblem(t, accept(e, token, map[string]any{"user_name": "bad\x00name"}), 400, "user_name")
	// A taken user name is a conflict, and the invitation stays usable.
	wantProblem(t, accept(e, token, map[string]any{"user_name": strings.ToUpper(e.adminEmail(e.A))}), 409, "user_name")
	if r := accept(e, token, map[string]any{"user_name": "input"}); r.Status != 201 {
		t.Fatalf("accept after fixing the input: %d %s", r.Status, r.Body)
	}
}

// adminEmail is the email of the tenant's first admin.
func (e *testEnv) adminEmail(c tenantCreds) string {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/users/" + c.AdminID, Token: c.Admin})
	var u struct{ Email string }
	r.JSON(e.t, &u)
	return u.Email
}

// count is how many mails the server has taken.
func (mb *inbox) count() int {
	return len(mb.Received())
}

// queuedMail is the outbox message carrying an invitation's current link.
func queuedMail(t *testing.T, invitationID string) (status, body string, attempts int) {
	t.Helper()
	if err := openTestDB(t).QueryRow(`SELECT e.status, e.body, e.attempts FROM invitations i
		JOIN email_outbox e ON e.tenant_id = i.tenant_id AND e.id = i.email_id WHERE i.id = $1`,
		invitationID).Scan(&status, &body, &attempts); err != nil {
		t.Fatal(err)
	}
	return status, body, attempts
}

func TestInvitationMailGoesThroughTheOutbox(t *testing.T) {
	e := newTestEnv(t)
	db := openTestDB(t)
	// No worker runs, as when the process dies right after answering: the
	// mail is in the outbox already, committed with the invitation.
	// Its body, with the link, is sealed with the encryption key until sent.
	inv := invite(t, e, e.A.Admin, "queued@example.com", "viewer")
	status, body, _ := queuedMail(t, inv.ID)
	if status != "pending" || !strings.HasPrefix(body, "sealed:v1:") || strings.Contains(body, "riv_") || strings.Contains(body, "accept") {
		t.Fatalf("queued mail %s: %q", status, body)
	}
	if strings.Contains(dumpTables(t, "email_outbox", "invitations", "audit_events"), "riv_") {
		t.Fatal("a queued invitation token is readable in the database")
	}

	// A resend before delivery cancels that mail; its link is dead anyway.
	r := e.do(request{Method: "POST", Path: "/api/v1/invitations/" + inv.ID + "/resend", Token: e.A.Admin})
	var resent invitation
	r.JSON(t, &resent)
	if r.Status != 200 || resent.MailStatus != "pending" || resent.SentAt != nil {
		t.Fatalf("resend while the first mail is queued: %d %s", r.Status, r.Body)
	}
	var cancelled int
	if err := db.QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'cancelled' AND body = ''`,
		e.A.ID).Scan(&cancelled); err != nil || cancelled != 1 {
		t.Fatalf("%d cancelled mails (%v), want the first one", cancelled, err)
	}

	// The mail server refuses, then accepts: the worker retries and delivers.
	mb := startInvitationMailbox(t, e)
	mb.Refuse(true)
	if n, err := mb.w.DeliverEmails(t.Context()); n != 1 || err != nil {
		t.Fatalf("delivery to a refusing server: %d %v", n, err)
	}
	if status, _, attempts := queuedMail(t, inv.ID); status != "pending" || attempts != 1 {
		t.Fatalf("after a refusal the mail is %s after %d attempts", status, attempts)
	}
	if got := listInvitations(t, e, e.A.Admin, ""); len(got) != 1 || got[0].MailStatus != "pending" || got[0].SentAt != nil {
		t.Fatalf("listed after a refusal %+v", got)
	}
	time.Sleep(5 * time.Millisecond)
	mb.Refuse(false)
	second := mb.lastInvitationToken(t, "queued@example.com", 1)
	var matches bool
	if err := db.QueryRow(`SELECT token_hash = sha256($2::bytea) FROM invitations WHERE id = $1`, inv.ID, second).Scan(&matches); err != nil || !matches {
		t.Fatalf("the delivered link is not the invitation's current one (%v)", err)
	}
	got := listInvitations(t, e, e.A.Admin, "")
	if len(got) != 1 || got[0].MailStatus != "sent" || got[0].SentAt == nil {
		t.Fatalf("listed after delivery %+v", got)
	}
	if dump := dumpTables(t, "email_outbox"); strings.Contains(dump, "riv_") {
		t.Fatal("a link lingers in the outbox after delivery")
	}
	if strings.Contains(e.logs.String(), "riv_") {
		t.Fatal("a token was logged")
	}
	// Tenant B sees neither the invitation nor its mail.
	if got := listInvitations(t, e, e.B.Admin, ""); len(got) != 0 {
		t.Fatalf("tenant B lists %+v", got)
	}

	// Out of attempts, the mail is dead, and a resend queues a new one.
	dead := invite(t, e, e.A.Admin, "dead@example.com", "viewer")
	mb.Refuse(true)
	for range 3 {
		if n, err := mb.w.DeliverEmails(t.Context()); n != 1 || err != nil {
			t.Fatalf("delivery to a refusing server: %d %v", n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := listInvitations(t, e, e.A.Admin, "?limit=1"); got[0].ID != dead.ID || got[0].MailStatus != "dead" || got[0].SentAt != nil {
		t.Fatalf("listed after the last attempt %+v", got)
	}
	mb.Refuse(false)
	if r := e.do(request{Method: "POST", Path: "/api/v1/invitations/" + dead.ID + "/resend", Token: e.A.Admin}); r.Status != 200 {
		t.Fatalf("resend a dead mail: %d %s", r.Status, r.Body)
	}
	if r := accept(e, mb.lastInvitationToken(t, "dead@example.com", 2), nil); r.Status != 201 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if r := accept(e, second, nil); r.Status != 201 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
}

func TestInvitationAcceptRace(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	invite(t, e, e.A.Admin, "race@example.com", "viewer")
	token := mb.lastInvitationToken(t, "race@example.com", 1)
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = accept(e, token, map[string]any{"user_name": fmt.Sprintf("race%d", i)}).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 410:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if created != 1 {
		t.Fatalf("%d acceptances succeeded: %v", created, statuses)
	}
	r := e.do(request{Method: "GET", Path: "/api/v1/users?q=race", Token: e.A.Admin})
	var page struct{ Items []any }
	r.JSON(t, &page)
	if len(page.Items) != 1 {
		t.Fatalf("%d users made", len(page.Items))
	}
}

func TestInvitationListPages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var want []string
	for i := range 5 {
		want = append([]string{invite(t, e, e.A.Admin, fmt.Sprintf("page%d@example.com", i), "viewer").ID}, want...)
	}
	var got []string
	path := "/api/v1/invitations?status=pending&limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := e.do(request{Method: "GET", Path: path, Token: e.A.Admin})
		var page struct {
			Items      []invitation
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		for _, inv := range page.Items {
			got = append(got, inv.ID)
		}
		path = ""
		if page.NextCursor != nil {
			path = "/api/v1/invitations?status=pending&limit=2&cursor=" + *page.NextCursor
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want newest first %v", got, want)
	}
}

func bulk(e *testEnv, token, contentType, body string, invalid bool) response {
	return e.do(request{Method: "POST", Path: "/api/v1/invitations/bulk", Token: token, Body: body,
		Header: map[string]string{"Content-Type": contentType}, Invalid: invalid})
}

func TestBulkInvitations(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	invite(t, e, e.A.Admin, "pending@example.com", "viewer")
	csv := "\ufeff Email , ROLE \r\n" +
		"one@example.com,developer\r\n" +
		"\"two@example.com\",admin\n" +
		"\n" + // blank lines are skipped and not counted
		"not an address,viewer\n" +
		"three@example.com,owner\n" +
		"ONE@example.com,viewer\n" +
		"pending@example.com,viewer\n" +
		strings.ToUpper(e.adminEmail(e.A)) + ",viewer\n" +
		"four@example.com\n" +
		"five@example.com,viewer,extra\n" +
		"six@example.com, viewer \n"
	r := bulk(e, e.A.Admin, "text/csv; charset=utf-8", csv, false)
	if r.Status != 200 {
		t.Fatalf("bulk: %d %s", r.Status, r.Body)
	}
	var res struct {
		Created int
		Failed  []struct {
			Row          int
			Email, Error string
		}
	}
	r.JSON(t, &res)
	if res.Created != 3 {
		t.Fatalf("created %d, want 3: %s", res.Created, r.Body)
	}
	wantFailed := map[int]string{3: "email", 4: "role", 5: "pending", 6: "pending", 7: "user", 8: "2 fields", 9: "2 fields"}
	if len(res.Failed) != len(wantFailed) {
		t.Fatalf("failed %+v", res.Failed)
	}
	for _, f := range res.Failed {
		if want, ok := wantFailed[f.Row]; !ok || !strings.Contains(f.Error, want) || f.Email == "" {
			t.Errorf("row %d (%s): %q, want it to mention %q", f.Row, f.Email, f.Error, want)
		}
	}
	// The request queued the mails; the worker delivers them.
	var queued int
	if err := openTestDB(t).QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'pending'`,
		e.A.ID).Scan(&queued); err != nil || queued != 4 || mb.count() != 0 {
		t.Fatalf("%d mails queued, %d sent by the request (%v), want 4 and none", queued, mb.count(), err)
	}
	mb.deliver(t)
	if mails := mb.count(); mails != 4 {
		t.Fatalf("%d mails, want 4", mails)
	}
	pending := listInvitations(t, e, e.A.Admin, "?status=pending")
	var emails []string
	for _, inv := range pending {
		emails = append(emails, inv.Email+"/"+inv.Role)
	}
	slices.Sort(emails)
	if want := []string{"one@example.com/developer", "pending@example.com/viewer", "six@example.com/viewer", "two@example.com/admin"}; !slices.Equal(emails, want) {
		t.Fatalf("pending invitations %v, want %v", emails, want)
	}
	for _, inv := range pending {
		if acts := auditActions(t, e, inv.ID); !slices.Equal(acts, []string{"invitation.created"}) {
			t.Fatalf("audit of %s: %v", inv.Email, acts)
		}
	}

	// Garbage is refused whole.
	many := "email,role\n" + strings.Repeat("x@example.com,viewer\n", 10001)
	for name, tc := range map[string]struct{ contentType, body, field string }{
		"json":          {"application/json", `{"email":"a@example.com"}`, "Content-Type"},
		"empty":         {"text/csv", "", "body"},
		"header only":   {"text/csv", "email,role\n", "body"},
		"wrong header":  {"text/csv", "mail,role\nx@example.com,viewer\n", "body"},
		"no header":     {"text/csv", "x@example.com,viewer\n", "body"},
		"bare quote":    {"text/csv", "email,role\nx@exa\"mple.com,viewer\n", "body"},
		"binary":        {"text/csv", "\x89PNG\r\n\x1a\n\x00\x00", "body"},
		"too many rows": {"text/csv", many, "body"},
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, bulk(e, e.A.Admin, tc.contentType, tc.body, true), 400, tc.field)
		})
	}
	wantProblem(t, bulk(e, e.A.Admin, "text/csv", "email,role\n"+strings.Repeat("y@example.com,viewer\n", 60000), false), http.StatusRequestEntityTooLarge, "")
	if got := len(listInvitations(t, e, e.A.Admin, "?limit=200")); got != 4 {
		t.Fatalf("%d invitations after the refused bodies, want 4", got)
	}
}
