package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

type apiKey struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Prefix               string   `json:"prefix"`
	Permissions          []string `json:"permissions"`
	UserID               string   `json:"user_id"`
	ExpiresAt            *string  `json:"expires_at"`
	LastUsedAt           *string  `json:"last_used_at"`
	LastUsedAddress      *string  `json:"last_used_address"`
	UseCount             int64    `json:"use_count"`
	PreviousKeyExpiresAt *string  `json:"previous_key_expires_at"`
	Key                  string   `json:"key"`
}

// keyOperations are the personal key operations, for allOperations.
func keyOperations() []request {
	id := "00000000-0000-7000-8000-000000000000"
	return []request{
		{Method: "GET", Path: "/api/v1/me/api-keys"},
		{Method: "POST", Path: "/api/v1/me/api-keys", Body: map[string]any{"name": "op", "permissions": []string{"users:read"},
			"expires_at": inDays(30)}},
		{Method: "DELETE", Path: "/api/v1/me/api-keys/" + id},
		{Method: "POST", Path: "/api/v1/me/api-keys/" + id + "/rotate"},
		{Method: "GET", Path: "/api/v1/api-keys"},
		{Method: "DELETE", Path: "/api/v1/api-keys/" + id},
	}
}

func inDays(n int) string {
	return time.Now().Add(time.Duration(n) * 24 * time.Hour).UTC().Format(time.RFC3339)
}

// newRoleUser creates a user of role with a password in tenant A and signs
// them in: their id and access token.
func newRoleUser(t *testing.T, e *testEnv, email, role string) (string, string) {
	t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{
		"email": email, "user_name": strings.Split(email, "@")[0], "password": goodPassword, "role": role}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var tok tokens
	if l := login(e, e.A.ID, email, goodPassword); l.Status != http.StatusOK {
		t.Fatalf("login: %d %s", l.Status, l.Body)
	} else {
		l.JSON(t, &tok)
	}
	return r.Object(t)["id"].(string), tok.AccessToken
}

func (e *testEnv) createKey(token string, body map[string]any) response {
	return e.do(request{Method: "POST", Path: "/api/v1/me/api-keys", Token: token, Body: body})
}

func (e *testEnv) mustCreateKey(token string, perms []string, days int) apiKey {
	e.t.Helper()
	r := e.createKey(token, map[string]any{"name": "script", "permissions": perms, "expires_at": inDays(days)})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	var k apiKey
	r.JSON(e.t, &k)
	return k
}

func (e *testEnv) keys(token, path string) []apiKey {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: path, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var page struct{ Items []apiKey }
	r.JSON(e.t, &page)
	return page.Items
}

// permissionsOf is what a credential may do, as GET /me says.
func (e *testEnv) permissionsOf(token string) string {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/me", Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	return fmt.Sprint(r.Object(e.t)["permissions"])
}

// skipAuthCache moves the authenticator's clock past its five-second cache,
// as another replica's or a later request would see the store.
func (e *testEnv) skipAuthCache(by time.Duration) {
	e.app.Auth.Now = func() time.Time { return time.Now().Add(by) }
}

// TestPersonalAPIKeys: a user makes keys with at most their own
// permissions; a key holds at each use what its owner still holds, and
// stops with its owner.
func TestPersonalAPIKeys(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ownerID, owner := newRoleUser(t, e, "key-owner@example.com", "admin")

	// Only what the owner holds, never enrolment or SCIM, and it expires.
	k := e.mustCreateKey(owner, []string{"users:write", "users:read", "service_tokens:read"}, 30)
	if !strings.HasPrefix(k.Key, "rst_") || !strings.HasPrefix(k.Key, k.Prefix) || k.UserID != ownerID ||
		fmt.Sprint(k.Permissions) != "[service_tokens:read users:read users:write]" {
		t.Fatalf("created: %+v", k)
	}
	if got := e.permissionsOf(k.Key); got != "[service_tokens:read users:read users:write]" {
		t.Fatalf("the key's permissions: %s", got)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "permissions": []string{"mfa:enroll"}, "expires_at": inDays(1)}, "permissions"},
		{map[string]any{"name": "x", "permissions": []string{"scim:provision"}, "expires_at": inDays(1)}, "permissions"},
		{map[string]any{"name": "x", "permissions": []string{"root"}, "expires_at": inDays(1)}, "permissions"},
		{map[string]any{"name": "x", "permissions": []string{}, "expires_at": inDays(1)}, "permissions"},
		{map[string]any{"name": "x", "permissions": []string{"users:read"}}, "expires_at"},
		{map[string]any{"name": "x", "permissions": []string{"users:read"}, "expires_at": inDays(400)}, "expires_at"},
		{map[string]any{"name": "x", "permissions": []string{"users:read"}, "expires_at": inDays(-1)}, "expires_at"},
		{map[string]any{"name": "x", "permissions": []string{"users:read"}, "expires_at": "tomorrow"}, "expires_at"},
		{map[string]any{"name": "", "permissions": []string{"users:read"}, "expires_at": inDays(1)}, "name"},
		{map[string]any{"name": "x", "permissions": []string{"users:read"}, "scopes": []string{"users:read"}, "expires_at": inDays(1)}, "scopes"},
	} {
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys", Token: owner, Body: tc.body, Invalid: true}),
			http.StatusBadRequest, tc.field)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys", Token: owner,
		Body: `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, Invalid: true}), http.StatusRequestEntityTooLarge, "")
	// "scopes" is another name for "permissions".
	if r := e.createKey(owner, map[string]any{"name": "y", "scopes": []string{"audit:read"}, "expires_at": inDays(2)}); r.Status != http.StatusCreated {
		t.Fatalf("with scopes: %d %s", r.Status, r.Body)
	}

	// The key works for what it holds, and no further.
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: k.Key, Body: map[string]any{"email": "by-key@example.com"}}); r.Status != http.StatusCreated {
		t.Fatalf("create a user with the key: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/audit-events", Token: k.Key}), http.StatusForbidden, "")
	// A key makes no keys: that needs its owner's own recent sign-in.
	wantProblem(t, e.createKey(k.Key, map[string]any{"name": "z", "permissions": []string{"users:read"}, "expires_at": inDays(1)}),
		http.StatusForbidden, "")

	// The owner demoted, the key holds what a developer holds of its own.
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: e.A.Admin, Body: map[string]any{"role": "developer"}}); r.Status != http.StatusOK {
		t.Fatalf("demote: %d %s", r.Status, r.Body)
	}
	e.skipAuthCache(6 * time.Second)
	if got := e.permissionsOf(k.Key); got != "[users:read]" {
		t.Fatalf("the key after its owner's demotion: %s", got)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: k.Key, Body: map[string]any{"email": "by-key-2@example.com"}}),
		http.StatusForbidden, "")
	// ... and the demoted owner cannot make a key above a developer.
	wantProblem(t, e.createKey(owner, map[string]any{"name": "z", "permissions": []string{"users:write"}, "expires_at": inDays(1)}),
		http.StatusForbidden, "")

	// Deactivated, the owner's keys stop.
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: e.A.Admin, Body: map[string]any{"active": false}}); r.Status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	e.skipAuthCache(12 * time.Second)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: k.Key}), http.StatusUnauthorized, "")
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: e.A.Admin, Body: map[string]any{"active": true}}); r.Status != http.StatusOK {
		t.Fatalf("reactivate: %d %s", r.Status, r.Body)
	}
	e.skipAuthCache(18 * time.Second)
	if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: k.Key}); r.Status != http.StatusOK {
		t.Fatalf("after reactivation: %d %s", r.Status, r.Body)
	}
	// Deleted, too.
	_, other := newRoleUser(t, e, "short-lived@example.com", "developer")
	gone := e.mustCreateKey(other, []string{"users:read"}, 5)
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/users/" + gone.UserID, Token: e.A.Admin}); r.Status != http.StatusNoContent {
		t.Fatalf("delete the owner: %d %s", r.Status, r.Body)
	}
	e.skipAuthCache(24 * time.Second)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: gone.Key}), http.StatusUnauthorized, "")
	wantActions(t, e, k.ID, "api_key.created")
}

// TestAPIKeysNeedAStepUpAndNotAViewer: viewers make no keys, and a user
// with a second factor makes one only after using it recently.
func TestAPIKeysNeedAStepUpAndNotAViewer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	_, viewer := newRoleUser(t, e, "key-viewer@example.com", "viewer")
	wantProblem(t, e.createKey(viewer, map[string]any{"name": "x", "permissions": []string{"users:read"}, "expires_at": inDays(1)}),
		http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/00000000-0000-7000-8000-000000000000/rotate", Token: viewer}),
		http.StatusForbidden, "")
	if got := e.keys(viewer, "/api/v1/me/api-keys"); len(got) != 0 {
		t.Fatalf("a viewer's keys: %+v", got)
	}
	// Nor does a tenant API token, whatever its role.
	wantProblem(t, e.createKey(e.A.Admin, map[string]any{"name": "x", "permissions": []string{"users:read"}, "expires_at": inDays(1)}),
		http.StatusForbidden, "")

	_, pwd := newRoleUser(t, e, "key-mfa@example.com", "developer")
	secret := enrolTOTP(t, e, pwd)
	body := map[string]any{"name": "ci", "permissions": []string{"users:read"}, "expires_at": inDays(10)}
	wantStepUpRequired(t, e.createKey(pwd, body), "step up at POST /api/v1/auth/step-up")
	full := stepUp(t, e, clock, pwd, secret)
	r := e.createKey(full, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("after a step-up: %d %s", r.Status, r.Body)
	}
	id := r.Object(t)["id"].(string)
	wantStepUpRequired(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/" + id + "/rotate", Token: pwd}), "step up")
	ageSignIns(e)
	wantStepUpRequired(t, e.createKey(full, body), "step up")
}

// TestAPIKeyRotation: the old secret works for the grace period after a
// rotation, and not after it; a second rotation stops the first secret.
func TestAPIKeyRotation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, owner := newRoleUser(t, e, "rotator@example.com", "developer")
	k := e.mustCreateKey(owner, []string{"users:read"}, 30)
	rotate := func(body any) apiKey {
		t.Helper()
		r := e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/" + k.ID + "/rotate", Token: owner, Body: body})
		if r.Status != http.StatusOK {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		var got apiKey
		r.JSON(t, &got)
		return got
	}
	works := func(secret string, want int) {
		t.Helper()
		if r := e.do(request{Method: "GET", Path: "/api/v1/users?limit=1", Token: secret}); r.Status != want {
			t.Fatalf("%s…: %d, want %d", secret[:8], r.Status, want)
		}
	}
	works(k.Key, 200)
	r1 := rotate(nil)
	if r1.ID != k.ID || r1.Key == k.Key || !strings.HasPrefix(r1.Key, r1.Prefix) || r1.PreviousKeyExpiresAt == nil {
		t.Fatalf("rotated: %+v", r1)
	}
	grace, _ := time.Parse(time.RFC3339, *r1.PreviousKeyExpiresAt)
	if d := time.Until(grace); d < 23*time.Hour || d > 24*time.Hour {
		t.Fatalf("the old secret works for %v more", d)
	}
	works(r1.Key, 200)
	works(k.Key, 200)
	e.skipAuthCache(23 * time.Hour)
	works(k.Key, 200)
	e.skipAuthCache(24*time.Hour + time.Minute)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: k.Key}), http.StatusUnauthorized, "")
	works(r1.Key, 200)

	// A rotation with a new expiry; the secret before the last stops.
	e.skipAuthCache(0)
	r2 := rotate(map[string]any{"expires_at": inDays(60)})
	if r2.ExpiresAt == nil || !strings.HasPrefix(*r2.ExpiresAt, inDays(60)[:10]) {
		t.Fatalf("new expiry: %+v", r2)
	}
	works(r2.Key, 200)
	works(r1.Key, 200)
	e.skipAuthCache(6 * time.Second)
	rotate(nil)
	e.skipAuthCache(12 * time.Second)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: r1.Key}), http.StatusUnauthorized, "")
	works(r2.Key, 200)
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/" + k.ID + "/rotate", Token: owner,
		Body: map[string]any{"expires_at": inDays(500)}}), http.StatusBadRequest, "expires_at")
	wantActions(t, e, k.ID, "api_key.rotated")

	// Revoked, the key and every secret of it stop.
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/api-keys/" + k.ID, Token: owner}); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: r2.Key}), http.StatusUnauthorized, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/" + k.ID + "/rotate", Token: owner}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/api-keys/" + k.ID, Token: owner}), http.StatusNotFound, "")
}

// TestAPIKeyUseAndAdmins: a key's use is recorded at most once a minute;
// admins see every key of the tenant and revoke any; nobody reaches
// another's keys, another tenant's least of all.
func TestAPIKeyUseAndAdmins(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ownerID, owner := newRoleUser(t, e, "used@example.com", "developer")
	k := e.mustCreateKey(owner, []string{"users:read"}, 30)
	for range 3 {
		if r := e.do(request{Method: "GET", Path: "/api/v1/users?limit=1", Token: k.Key}); r.Status != http.StatusOK {
			t.Fatalf("use: %d", r.Status)
		}
	}
	mine := func() apiKey {
		t.Helper()
		got := e.keys(owner, "/api/v1/me/api-keys")
		if len(got) != 1 || got[0].ID != k.ID || got[0].Key != "" {
			t.Fatalf("my keys: %+v", got)
		}
		return got[0]
	}
	waitFor := func(what string, ok func(apiKey) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(mine()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, mine())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The first use is written at once; the next two wait for the minute.
	waitFor("first use", func(k apiKey) bool {
		return k.UseCount == 1 && k.LastUsedAt != nil && k.LastUsedAddress != nil && *k.LastUsedAddress == "127.0.0.1"
	})
	e.skipAuthCache(61 * time.Second)
	if r := e.do(request{Method: "GET", Path: "/api/v1/users?limit=1", Token: k.Key}); r.Status != http.StatusOK {
		t.Fatalf("use: %d", r.Status)
	}
	waitFor("four uses", func(k apiKey) bool { return k.UseCount == 4 })

	// Admins list every user's keys, and one user's.
	other := e.mustCreateKey(newSecondUser(t, e), []string{"users:read"}, 30)
	all := e.keys(e.A.Admin, "/api/v1/api-keys")
	if len(all) != 2 || all[0].ID != k.ID || all[1].ID != other.ID {
		t.Fatalf("the tenant's keys: %+v", all)
	}
	if got := e.keys(e.A.Admin, "/api/v1/api-keys?user_id="+ownerID+"&limit=1"); len(got) != 1 || got[0].ID != k.ID {
		t.Fatalf("one user's keys: %+v", got)
	}
	page := e.do(request{Method: "GET", Path: "/api/v1/api-keys?limit=1", Token: e.A.Admin})
	var first struct {
		Items      []apiKey
		NextCursor string `json:"next_cursor"`
	}
	page.JSON(t, &first)
	if next := e.keys(e.A.Admin, "/api/v1/api-keys?limit=1&cursor="+first.NextCursor); len(next) != 1 || next[0].ID != other.ID {
		t.Fatalf("the second page: %+v", next)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/api-keys?cursor=nonsense", Token: e.A.Admin}), http.StatusBadRequest, "cursor")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/api-keys", Token: e.A.Developer}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/api-keys/" + k.ID, Token: e.A.Developer}), http.StatusForbidden, "")

	// Another user's key is nobody else's to revoke or rotate.
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/api-keys/" + other.ID, Token: owner}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/" + other.ID + "/rotate", Token: owner}), http.StatusNotFound, "")

	// Another tenant sees and reaches none of them.
	_, bUser := signInB(t, e, "b-user@example.com")
	for _, req := range []request{
		{Method: "DELETE", Path: "/api/v1/api-keys/" + k.ID, Token: e.B.Admin},
		{Method: "DELETE", Path: "/api/v1/me/api-keys/" + k.ID, Token: bUser},
		{Method: "POST", Path: "/api/v1/me/api-keys/" + k.ID + "/rotate", Token: bUser},
		{Method: "DELETE", Path: "/api/v1/api-keys/not-an-id", Token: e.A.Admin},
	} {
		wantProblem(t, e.do(req), http.StatusNotFound, "")
	}
	if got := e.keys(e.B.Admin, "/api/v1/api-keys"); len(got) != 0 {
		t.Fatalf("tenant B lists A's keys: %+v", got)
	}
	if got := e.keys(e.B.Admin, "/api/v1/api-keys?user_id="+ownerID); len(got) != 0 {
		t.Fatalf("tenant B lists A's user's keys: %+v", got)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/users?limit=1", Token: k.Key}); r.Status != http.StatusOK {
		t.Fatalf("the key after B's attempts: %d", r.Status)
	}

	// An admin revokes any key.
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/api-keys/" + k.ID, Token: e.A.Admin}); r.Status != http.StatusNoContent {
		t.Fatalf("admin revoke: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: k.Key}), http.StatusUnauthorized, "")
	wantActions(t, e, k.ID, "api_key.revoked")
	// A credential of no user has no keys of its own.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/api-keys", Token: e.A.Developer}), http.StatusNotFound, "")
}

// newSecondUser is another developer of tenant A, signed in.
func newSecondUser(t *testing.T, e *testEnv) string {
	_, tok := newRoleUser(t, e, "second-user@example.com", "developer")
	return tok
}

// signInB creates a developer with a password in tenant B and signs them in.
func signInB(t *testing.T, e *testEnv, email string) (string, string) {
	t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.B.Admin, Body: map[string]any{
		"email": email, "user_name": strings.Split(email, "@")[0], "password": goodPassword, "role": "developer"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create in B: %d %s", r.Status, r.Body)
	}
	var tok tokens
	login(e, e.B.ID, email, goodPassword).JSON(t, &tok)
	return r.Object(t)["id"].(string), tok.AccessToken
}

// TestAPIKeyLimit: a user has at most 50 live keys.
func TestAPIKeyLimit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, owner := newRoleUser(t, e, "hoarder@example.com", "developer")
	for range 50 {
		e.mustCreateKey(owner, []string{"users:read"}, 3)
	}
	wantProblem(t, e.createKey(owner, map[string]any{"name": "one more", "permissions": []string{"users:read"}, "expires_at": inDays(3)}),
		http.StatusConflict, "")
}

// TestExpiringKeysAreReminded: the worker mails the owner of a key that
// expires within a week, once for each expiry, through the outbox to a
// real SMTP server. Not parallel: its worker delivers any tenant's mail.
func TestExpiringKeysAreReminded(t *testing.T) {
	e := newTestEnv(t)
	_, owner := newRoleUser(t, e, "reminded@example.com", "developer")
	soon := e.mustCreateKey(owner, []string{"users:read"}, 3)
	e.mustCreateKey(owner, []string{"users:read"}, 30) // not yet

	ib := startInvitationMailbox(t, e)
	w := ib.w
	w.Reminders = store.NewCredentialReminders(e.DB)
	remind := func() int {
		t.Helper()
		n, err := w.RemindExpiringCredentials(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ib.deliver(t)
		return n
	}
	if n := remind(); n != 1 {
		t.Fatalf("reminders queued: %d, want 1", n)
	}
	mail := ib.Wait(t, "reminded@example.com", 1)
	if !strings.Contains(mail[0].Subject, `"script" expires on`) || !strings.Contains(mail[0].Body, soon.Prefix) ||
		!strings.Contains(mail[0].Body, soon.ID+"/rotate") || strings.Contains(mail[0].Body, soon.Key) {
		t.Fatalf("reminder: %s\n%s", mail[0].Subject, mail[0].Body)
	}
	if n := remind(); n != 0 {
		t.Fatalf("a second run queued %d", n)
	}
	// A new expiry, still within the week, is reminded of again.
	if r := e.do(request{Method: "POST", Path: "/api/v1/me/api-keys/" + soon.ID + "/rotate", Token: owner,
		Body: map[string]any{"expires_at": inDays(5)}}); r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	if n := remind(); n != 1 {
		t.Fatalf("after a new expiry: %d", n)
	}
	ib.Wait(t, "reminded@example.com", 2)
}
