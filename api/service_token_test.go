package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

type serviceToken struct {
	Service    string  `json:"service"`
	Hint       string  `json:"hint"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
	UseCount   int64   `json:"use_count"`
	UserID     string  `json:"user_id"`
	Token      string  `json:"token"`
}

// needsServiceScope reports whether an operation needs a credential that
// carries service_tokens:read, which tenant A's admin token does not.
func needsServiceScope(op request) bool {
	return strings.HasPrefix(op.Path, "/api/v1/users/") && strings.Contains(op.Path, "/service-tokens/")
}

// serviceReader is an API token of tenant A that reads users' service
// tokens.
func (e *testEnv) serviceReader() string {
	return e.token(e.A.ID, roster.RoleAdmin, func(tok *roster.APIToken) { tok.Scopes = []string{"service_tokens:read"} })
}

// serviceTokenOperations are the vault's operations, for allOperations.
func serviceTokenOperations(e *testEnv) []request {
	return []request{
		{Method: "GET", Path: "/api/v1/me/service-tokens"},
		{Method: "PUT", Path: "/api/v1/me/service-tokens/github", Body: map[string]any{"token": "ghp_op"}},
		{Method: "DELETE", Path: "/api/v1/me/service-tokens/github"},
		{Method: "GET", Path: "/api/v1/users/" + e.A.AdminID + "/service-tokens/github"},
	}
}

const githubToken = "ghp_R2d2C3p0Luke5kyWalker0bi1Wan9Kenob1a1b2"

func (e *testEnv) putServiceToken(token, service string, body any) response {
	return e.do(request{Method: "PUT", Path: "/api/v1/me/service-tokens/" + service, Token: token, Body: body})
}

func (e *testEnv) serviceTokens(token string) []serviceToken {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/me/service-tokens", Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var page struct{ Items []serviceToken }
	r.JSON(e.t, &page)
	return page.Items
}

// TestServiceTokenVault: a user keeps tokens for other services, seen
// only as hints; a service with service_tokens:read reads one, counted and
// audited; nothing else reads them, and the database holds none in the
// clear.
func TestServiceTokenVault(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ownerID, owner := newRoleUser(t, e, "vault-owner@example.com", "developer")

	r := e.putServiceToken(owner, "github", map[string]any{"token": "ghp_first0000000000000000000000000000zzzz", "expires_at": inDays(90)})
	if r.Status != http.StatusCreated {
		t.Fatalf("store: %d %s", r.Status, r.Body)
	}
	r = e.putServiceToken(owner, "github", map[string]any{"token": githubToken})
	var stored serviceToken
	r.JSON(t, &stored)
	if r.Status != http.StatusOK || stored.Hint != "ghp_…a1b2" || stored.ExpiresAt != nil || strings.Contains(string(r.Body), githubToken) {
		t.Fatalf("replace: %d %s", r.Status, r.Body)
	}
	if r := e.putServiceToken(owner, "npm.registry", map[string]any{"token": "npm_0123456789abcdef"}); r.Status != http.StatusCreated {
		t.Fatalf("second service: %d %s", r.Status, r.Body)
	}
	list := e.serviceTokens(owner)
	if len(list) != 2 || list[0].Service != "github" || list[1].Service != "npm.registry" || list[1].Hint != "…cdef" || list[0].Token != "" {
		t.Fatalf("list: %+v", list)
	}
	for _, tc := range []struct {
		service string
		body    any
		field   string
		invalid bool
	}{
		{"GitHub!", map[string]any{"token": "x"}, "service", false},
		{"github", map[string]any{}, "token", true},
		{"github", map[string]any{"token": ""}, "token", true},
		{"github", map[string]any{"token": " padded "}, "token", false},
		{"github", map[string]any{"token": "t", "expires_at": inDays(-1)}, "expires_at", false},
		{"github", map[string]any{"token": "t", "scope": "repo"}, "scope", true},
	} {
		wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/me/service-tokens/" + tc.service, Token: owner, Body: tc.body, Invalid: tc.invalid}),
			http.StatusBadRequest, tc.field)
	}
	wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/me/service-tokens/github", Token: owner,
		Body: `{"token":"` + strings.Repeat("x", 2<<20) + `"}`, Invalid: true}), http.StatusRequestEntityTooLarge, "")
	// A credential of no user keeps no tokens.
	wantProblem(t, e.putServiceToken(e.A.Developer, "github", map[string]any{"token": "x"}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/service-tokens", Token: e.A.Developer}), http.StatusNotFound, "")

	// Only a credential that carries service_tokens:read reads it.
	path := "/api/v1/users/" + ownerID + "/service-tokens/github"
	reader := e.token(e.A.ID, roster.RoleAdmin, func(tok *roster.APIToken) { tok.Scopes = []string{"service_tokens:read"} })
	for _, token := range []string{e.A.Admin, e.jwt(e.A.ID, []string{"admin"}, nil), owner, e.A.Developer} {
		wantProblem(t, e.do(request{Method: "GET", Path: path, Token: token}), http.StatusForbidden, "")
	}
	read := func(token string) serviceToken {
		t.Helper()
		r := e.do(request{Method: "GET", Path: path, Token: token})
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("read: %d %s", r.Status, r.Body)
		}
		var got serviceToken
		r.JSON(t, &got)
		return got
	}
	if got := read(reader); got.Token != githubToken || got.UserID != ownerID || got.UseCount != 1 || got.LastUsedAt == nil {
		t.Fatalf("read: %+v", got)
	}
	// An admin's personal key with the permission reads it too.
	_, admin := newRoleUser(t, e, "vault-admin@example.com", "admin")
	key := e.mustCreateKey(admin, []string{"service_tokens:read"}, 30)
	if got := read(key.Key); got.Token != githubToken || got.UseCount != 2 {
		t.Fatalf("read with a key: %+v", got)
	}
	if got := e.serviceTokens(owner); got[0].UseCount != 2 || got[0].LastUsedAt == nil {
		t.Fatalf("the owner sees the reads: %+v", got)
	}
	audit := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=service_token.read&target_id=" + ownerID, Token: e.A.Admin})
	if n := strings.Count(string(audit.Body), `"action":"service_token.read"`); n != 2 || !strings.Contains(string(audit.Body), key.ID) {
		t.Fatalf("audit of the reads (%d): %s", n, audit.Body)
	}
	wantActions(t, e, ownerID, "service_token.stored")

	// No token, an expired one, a deactivated user's: not found.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + ownerID + "/service-tokens/gitlab", Token: reader}), http.StatusNotFound, "")
	if _, err := openTestDB(t).Exec(`UPDATE user_tokens SET expires_at = now() - interval '1 minute'
		WHERE tenant_id = $1 AND user_id = $2 AND service = 'npm.registry'`, e.A.ID, ownerID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + ownerID + "/service-tokens/npm.registry", Token: reader}), http.StatusNotFound, "")
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: e.A.Admin, Body: map[string]any{"active": false}}); r.Status != http.StatusOK {
		t.Fatalf("deactivate: %d", r.Status)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: reader}), http.StatusNotFound, "")
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: e.A.Admin, Body: map[string]any{"active": true}}); r.Status != http.StatusOK {
		t.Fatalf("reactivate: %d", r.Status)
	}

	// Another tenant reaches none of it.
	bReader := e.token(e.B.ID, roster.RoleAdmin, func(tok *roster.APIToken) { tok.Scopes = []string{"service_tokens:read"} })
	_, bUser := signInB(t, e, "vault-b@example.com")
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: bReader}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/service-tokens/github", Token: bUser}), http.StatusNotFound, "")
	if got := e.serviceTokens(bUser); len(got) != 0 {
		t.Fatalf("B's user lists: %+v", got)
	}
	if got := read(reader); got.Token != githubToken {
		t.Fatalf("after B's attempts: %+v", got)
	}

	// Nothing stored holds the token in the clear.
	dump := dumpTables(t, "user_tokens", "audit_events", "email_outbox", "api_tokens")
	for _, secret := range []string{githubToken, "npm_0123456789abcdef", "ghp_first0000000000000000000000000000zzzz"} {
		if strings.Contains(dump, secret) {
			t.Fatalf("a service token is stored in the clear")
		}
	}

	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/service-tokens/github", Token: owner}); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: reader}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/service-tokens/github", Token: owner}), http.StatusNotFound, "")
	wantActions(t, e, ownerID, "service_token.deleted")
}

// TestServiceTokenLimit: a user keeps at most 50 service tokens.
func TestServiceTokenLimit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, owner := newRoleUser(t, e, "many-services@example.com", "viewer")
	for i := range 50 {
		if r := e.putServiceToken(owner, fmt.Sprintf("svc-%d", i), map[string]any{"token": "t"}); r.Status != http.StatusCreated {
			t.Fatalf("store %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantProblem(t, e.putServiceToken(owner, "one-more", map[string]any{"token": "t"}), http.StatusConflict, "")
	// Replacing one is no new one.
	if r := e.putServiceToken(owner, "svc-0", map[string]any{"token": "t2"}); r.Status != http.StatusOK {
		t.Fatalf("replace at the limit: %d %s", r.Status, r.Body)
	}
}

// TestExpiringServiceTokensAreReminded: the worker that reminds key owners
// mails the owner of a service token about to expire, once. Not parallel:
// its worker delivers any tenant's mail.
func TestExpiringServiceTokensAreReminded(t *testing.T) {
	e := newTestEnv(t)
	_, owner := newRoleUser(t, e, "vault-reminded@example.com", "viewer")
	if r := e.putServiceToken(owner, "github", map[string]any{"token": githubToken, "expires_at": inDays(2)}); r.Status != http.StatusCreated {
		t.Fatalf("store: %d %s", r.Status, r.Body)
	}
	if r := e.putServiceToken(owner, "gitlab", map[string]any{"token": "glpat-later", "expires_at": inDays(20)}); r.Status != http.StatusCreated {
		t.Fatalf("store: %d %s", r.Status, r.Body)
	}
	ib := startInvitationMailbox(t, e)
	ib.w.Reminders = store.NewCredentialReminders(e.DB)
	if n, err := ib.w.RemindExpiringCredentials(context.Background()); n != 1 || err != nil {
		t.Fatalf("reminders: %d %v", n, err)
	}
	ib.deliver(t)
	mail := ib.Wait(t, "vault-reminded@example.com", 1)
	if !strings.Contains(mail[0].Subject, "github token expires on") || !strings.Contains(mail[0].Body, "ghp_…a1b2") ||
		!strings.Contains(mail[0].Body, "/api/v1/me/service-tokens/github") || strings.Contains(mail[0].Body, githubToken) {
		t.Fatalf("reminder: %s\n%s", mail[0].Subject, mail[0].Body)
	}
	if n, err := ib.w.RemindExpiringCredentials(context.Background()); n != 0 || err != nil {
		t.Fatalf("a second run: %d %v", n, err)
	}
}
