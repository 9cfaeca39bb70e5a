package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/worker"
)

func TestPasskeyAdminInventory(t *testing.T) {
	e := newTestEnv(t)
	mb := startMailbox(t, e)
	id, pwd := signIn(t, e, "owner@example.com")
	laptop := newSoftKey(id)
	p := registerPasskey(t, e, pwd, laptop, "Laptop")
	access := wantAMR(t, passkeyLogin(t, e, e.A.ID, laptop, 0), "hwk", "user", "mfa")
	phone := newSoftKey(id)
	q := registerPasskey(t, e, access, phone, "Phone")
	users := "/api/v1/users/" + id

	r := e.do(request{Method: "GET", Path: users + "/passkeys", Token: e.A.Viewer})
	var list struct{ Items []passkeyJSON }
	r.JSON(t, &list)
	if r.Status != 200 || len(list.Items) != 2 || list.Items[0].ID != p.ID || list.Items[1].ID != q.ID {
		t.Fatalf("admin list: %d %s", r.Status, r.Body)
	}
	r = e.do(request{Method: "PATCH", Path: users + "/passkeys/" + q.ID, Token: e.A.Admin, Body: map[string]any{"name": "Lost phone"}})
	if r.Status != 200 || r.Object(t)["name"] != "Lost phone" {
		t.Fatalf("admin rename: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: users + "/passkeys/" + q.ID, Token: e.A.Admin, Body: map[string]any{}, Invalid: true}), 400, "name")
	wantProblem(t, e.do(request{Method: "PATCH", Path: users + "/passkeys/" + q.ID, Token: e.A.Viewer, Body: map[string]any{"name": "x"}}), 403, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: users + "/passkeys/" + q.ID, Token: e.A.Developer}), 403, "")
	wantProblem(t, e.do(request{Method: "GET", Path: users + "/passkeys", Token: e.A.SCIM}), 403, "")
	wantProblem(t, e.do(request{Method: "GET", Path: users + "/security", Token: e.A.SCIM}), 403, "")

	// Revoking one passkey leaves the other, and tells the user: the
	// request writes the mail to the outbox with the removal and its audit
	// event, and the worker delivers it.
	if r := e.do(request{Method: "DELETE", Path: users + "/passkeys/" + q.ID, Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("admin delete: %d %s", r.Status, r.Body)
	}
	if len(mb.Received()) != 0 {
		t.Fatal("the mail was sent inside the request")
	}
	db := openTestDB(t)
	var emailID string
	err := db.QueryRow(`SELECT e.id FROM email_outbox e JOIN audit_events a ON a.tenant_id = e.tenant_id AND a.details->>'email_id' = e.id::text
		WHERE e.tenant_id = $1 AND e.status = 'pending' AND e.recipient = 'owner@example.com' AND a.action = 'passkey.removed'`, e.A.ID).Scan(&emailID)
	if err != nil {
		t.Fatalf("the removal's audit event names no pending mail: %v", err)
	}
	if n, err := e.newWorker(e.mfa.Mailer, worker.Config{}).DeliverEmails(context.Background()); n != 1 || err != nil {
		t.Fatalf("delivery: %d %v", n, err)
	}
	if mail := mb.Received(); len(mail) != 1 || !strings.Contains(mail[0].Header.Get("To"), "owner@example.com") || !strings.Contains(mail[0].Body, "Lost phone") {
		t.Fatalf("mails %d %+v", len(mail), mail)
	}
	wantProblem(t, passkeyLogin(t, e, e.A.ID, phone, 1), 401, "")
	wantAMR(t, passkeyLogin(t, e, e.A.ID, laptop, 1), "hwk", "user", "mfa")
	wantProblem(t, e.do(request{Method: "DELETE", Path: users + "/passkeys/" + q.ID, Token: e.A.Admin}), 404, "")
	wantProblem(t, e.do(request{Method: "PATCH", Path: users + "/passkeys/" + q.ID, Token: e.A.Admin, Body: map[string]any{"name": "x"}}), 404, "")
	r = e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=passkey.removed&target_id=" + id, Token: e.A.Admin})
	if r.Status != 200 || len(r.Object(t)["items"].([]any)) != 1 {
		t.Fatalf("removal audited: %s", r.Body)
	}

	// Security information.
	r = e.do(request{Method: "GET", Path: users + "/security", Token: e.A.Viewer})
	var sec struct {
		MFAEnabled    bool    `json:"mfa_enabled"`
		DefaultMethod *string `json:"default_method"`
		Methods       []struct {
			Type       string
			LastUsedAt *string `json:"last_used_at"`
		}
		Passkeys     []passkeyJSON
		PasswordSet  bool    `json:"password_set"`
		LastLoginAt  *string `json:"last_login_at"`
		Failed       int     `json:"failed_login_attempts"`
		LockedUntil  *string `json:"locked_until"`
		ActiveTokens int     `json:"active_tokens"`
	}
	r.JSON(t, &sec)
	if r.Status != 200 || !sec.MFAEnabled || sec.DefaultMethod == nil || *sec.DefaultMethod != "passkey" || len(sec.Methods) != 1 ||
		sec.Methods[0].Type != "passkey" || sec.Methods[0].LastUsedAt == nil || len(sec.Passkeys) != 1 || !sec.PasswordSet ||
		sec.LastLoginAt == nil || sec.Failed != 0 || sec.LockedUntil != nil || sec.ActiveTokens != 3 {
		t.Fatalf("security: %d %s", r.Status, r.Body)
	}

	r = e.do(request{Method: "GET", Path: users + "/mfa", Token: e.A.Viewer})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"type":"passkey"`) {
		t.Fatalf("mfa status: %d %s", r.Status, r.Body)
	}

	// An MFA reset removes passkeys too.
	if r := e.do(request{Method: "DELETE", Path: users + "/mfa", Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	r = e.do(request{Method: "GET", Path: users + "/passkeys", Token: e.A.Admin})
	r.JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("passkeys after a reset: %s", r.Body)
	}
	wantProblem(t, passkeyLogin(t, e, e.A.ID, laptop, 2), 401, "")
}

func TestPasskeyTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "isolated@example.com")
	k := newSoftKey(id)
	p := registerPasskey(t, e, pwd, k, nil)
	users := "/api/v1/users/" + id
	for _, req := range []request{
		{Method: "GET", Path: users + "/passkeys"},
		{Method: "PATCH", Path: users + "/passkeys/" + p.ID, Body: map[string]any{"name": "mine now"}},
		{Method: "DELETE", Path: users + "/passkeys/" + p.ID},
		{Method: "GET", Path: users + "/security"},
		{Method: "DELETE", Path: "/api/v1/users/" + e.B.AdminID + "/passkeys/" + p.ID},
	} {
		req.Token = e.B.Admin
		r := e.do(req)
		if r.Status != http.StatusNotFound {
			t.Fatalf("%s %s from tenant B: %d %s", req.Method, req.Path, r.Status, r.Body)
		}
	}
	// B's user cannot touch A's passkey as their own either.
	_, bToken := newUserIn(t, e, e.B.ID, e.B.Admin, "b-user@example.com")
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/me/passkeys/" + p.ID, Token: bToken, Body: map[string]any{"name": "x"}}), 404, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/passkeys/" + p.ID, Token: bToken}), 404, "")
	// A's passkey signs in to A only.
	wantProblem(t, passkeyLogin(t, e, e.B.ID, k, 1), 401, "")
	wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 1), "hwk", "user", "mfa")
	// Unknown ids are 404, not 400 or 500.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/not-a-uuid/passkeys", Token: e.A.Admin, Invalid: true}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/not-a-uuid/security", Token: e.A.Admin, Invalid: true}), 404, "")
	if r := e.do(request{Method: "GET", Path: users + "/passkeys", Token: e.A.Admin}); r.Status != 200 || !strings.Contains(string(r.Body), p.ID) {
		t.Fatalf("A's admin: %d %s", r.Status, r.Body)
	}
}

func TestPasskeyBeginIsRateLimited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var last response
	for range 2 * flow.DefaultSignInRate().AddressAttempts {
		last = e.do(request{Method: "POST", Path: "/api/v1/auth/passkey/begin", Body: map[string]any{"tenant": e.A.ID}})
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	wantProblem(t, last, http.StatusTooManyRequests, "")
	wantRetryAfter(t, last)
}

func TestRemovingThePasskeyMethod(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "two-keys@example.com")
	first, second := newSoftKey(id), newSoftKey(id)
	registerPasskey(t, e, pwd, first, nil)
	access := wantAMR(t, passkeyLogin(t, e, e.A.ID, first, 0), "hwk", "user", "mfa")
	registerPasskey(t, e, access, second, nil)
	del := request{Method: "DELETE", Path: "/api/v1/me/mfa/passkey", Token: access}
	if r := e.do(del); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	r := e.do(request{Method: "GET", Path: "/api/v1/me/passkeys", Token: access})
	if r.Status != 200 || len(r.Object(t)["items"].([]any)) != 0 {
		t.Fatalf("passkeys left: %s", r.Body)
	}
	r = e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/mfa", Token: e.A.Admin})
	if r.Object(t)["enabled"] != false {
		t.Fatalf("mfa after removing the passkeys: %s", r.Body)
	}
	// With no factor left, the password sign-in is enough to ask again.
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/passkey", Token: pwd}), 404, "")
	wantProblem(t, passkeyLogin(t, e, e.A.ID, second, 1), 401, "")
}
