package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

func TestCredentialsAreRequired(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	expired := e.token(e.A.ID, roster.RoleAdmin, func(tok *roster.APIToken) {
		past := time.Now().Add(-time.Hour)
		tok.ExpiresAt = &past
	})
	for _, tc := range []struct {
		name   string
		header string
	}{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic YWRtaW46YWRtaW4="},
		{"unknown API token", "Bearer rst_" + strings.Repeat("A", 40)},
		{"truncated API token", "Bearer " + e.A.Admin[:20]},
		{"expired API token", "Bearer " + expired},
		{"garbage", "Bearer not-a-token"},
		{"malformed JWT", "Bearer a.b.c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request{Method: "GET", Path: "/api/v1/users"}
			if tc.header != "" {
				req.Header = map[string]string{"Authorization": tc.header}
			}
			r := e.do(req)
			wantProblem(t, r, http.StatusUnauthorized, "")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// publicRoutes answer without a credential; every other route the router
// serves must answer 401 to a request without one.
var publicRoutes = map[string]bool{
	// Probes, and documents a client reads before it has a credential.
	"GET /healthz":                          true,
	"GET /readyz":                           true,
	"GET /openapi.yaml":                     true,
	"GET /graphql/schema.graphql":           true,
	"GET /.well-known/jwks.json":            true,
	"GET /.well-known/openid-configuration": true,
	// The account page and its assets: the page signs in through the API.
	"GET /account":        true,
	"GET /account/accept": true,
	"GET /account/reset":  true,
	"GET /account/verify": true,
	"GET /account/signup": true,
	"GET /account/{file}": true,
	// The admin console, its screens and its assets: the console signs in
	// through the API like any client; / sends a person there.
	"GET /":                      true,
	"GET /console":               true,
	"GET /console/assets/{file}": true,
	"GET /console/audit":         true,
	"GET /console/invitations":   true,
	"GET /console/settings":      true,
	"GET /console/setup":         true,
	"GET /console/users":         true,
	"GET /console/users/{id}":    true,
	// Signing in, which is how a client gets a credential.
	"POST /api/v1/auth/login": true,
	// Federated sign-in: a browser reaches these before it has a
	// credential; the state, the provider's signed answer or the one-time
	// code is what each checks, and the buttons show names only.
	"GET /api/v1/auth/sso/connections":   true,
	"GET /api/v1/auth/sso/start":         true,
	"GET /api/v1/auth/sso/oidc/callback": true,
	"POST /api/v1/auth/sso/saml/acs":     true,
	"POST /api/v1/auth/sso/exchange":     true,
	"POST /api/v1/auth/passkey/begin":    true,
	"POST /api/v1/auth/passkey/finish":   true,
	// Asking for a password reset link, which mails it to the account's
	// own address and answers alike whether or not there is one.
	"POST /api/v1/auth/password-reset": true,
	// Signing up makes a new organisation, whose admin proves their
	// address by mail; a new link is mailed the same way.
	"GET /api/v1/signup":                    true,
	"POST /api/v1/signup":                   true,
	"POST /api/v1/auth/verify-email/resend": true,
	// These carry their own credential in the body: a refresh token, an MFA
	// token from a password sign-in, an invitation, setup or reset link token.
	"POST /api/v1/auth/refresh":                true,
	"POST /api/v1/auth/logout":                 true,
	"POST /api/v1/auth/mfa/verify":             true,
	"POST /api/v1/auth/mfa/challenge":          true,
	"POST /api/v1/auth/mfa/passkey/begin":      true,
	"POST /api/v1/auth/mfa/passkey/finish":     true,
	"POST /api/v1/invitations/accept":          true,
	"POST /api/v1/admin-setup/accept":          true,
	"POST /api/v1/auth/password-reset/confirm": true,
	"POST /api/v1/auth/verify-email":           true,
}

// TestEveryEndpointNeedsACredential walks the router, so a route added
// without authentication fails here without anyone listing it.
func TestEveryEndpointNeedsACredential(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	routes := walkRoutes(t, e.routes)
	served := map[string]bool{}
	for _, r := range routes {
		served[r.String()] = true
	}
	for _, r := range sortedKeys(publicRoutes) {
		if !served[r] {
			t.Errorf("%s is allowed without a credential but not routed: drop it from publicRoutes", r)
		}
	}
	for _, r := range routes {
		if publicRoutes[r.String()] {
			continue
		}
		path := r.path("00000000-0000-7000-8000-000000000000")
		if strings.HasPrefix(r.pattern, "/scim/") {
			// SCIM answers in its own protocol, which openapi.yaml does
			// not describe.
			wantSCIMUnauthorized(t, e.URL, r.method, path)
			continue
		}
		// Without a credential nothing else about the request matters, so
		// it has no body and breaks the contract on purpose.
		resp := e.do(request{Method: r.method, Path: path, Invalid: true})
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("%s answers %d without a credential, want 401: %s", r, resp.Status, resp.Body)
			continue
		}
		if strings.HasPrefix(r.pattern, "/api/") {
			wantProblem(t, resp, http.StatusUnauthorized, "")
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q", r, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
	// The walk must find at least the routes the hand-kept list (which the
	// outage and query tests send) knows to need a credential: a walk that
	// saw nothing would pass the loop above.
	for _, op := range allOperations(e) {
		if !slices.ContainsFunc(routes, func(r route) bool { return !publicRoutes[r.String()] && r.matches(op.Method, op.Path) }) {
			t.Errorf("%s %s from allOperations is no route that needs a credential", op.Method, op.Path)
		}
	}
}

// wantSCIMUnauthorized fails unless the SCIM endpoint answers a request
// without a credential with a SCIM error, 401.
func wantSCIMUnauthorized(t *testing.T, base, method, path string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/scim+json") {
		t.Errorf("%s %s answers %d %s without a credential, want a SCIM 401", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// allOperations is one request for each operation under /api/v1, valid
// apart from its credential, which is tenant A's admin token.
func allOperations(e *testEnv) []request {
	user := "/api/v1/users/" + e.A.AdminID
	return append([]request{
		{Method: "GET", Path: "/api/v1/users"},
		{Method: "GET", Path: "/api/v1/users/count?mfa=disabled"},
		{Method: "POST", Path: "/api/v1/users", Body: map[string]any{"email": "op@example.com"}},
		{Method: "GET", Path: user},
		{Method: "PATCH", Path: user, Body: map[string]any{"given_name": "Op"}},
		{Method: "DELETE", Path: "/api/v1/users/" + e.A.AdminID},
		{Method: "POST", Path: "/api/v1/users/bulk", Body: map[string]any{"action": "deactivate", "ids": []string{e.A.AdminID}}},
		{Method: "GET", Path: "/api/v1/jobs/00000000-0000-7000-8000-000000000000"},
		{Method: "GET", Path: "/api/v1/audit-events"},
		{Method: "GET", Path: "/api/v1/stats"},
		{Method: "GET", Path: "/api/v1/users/export?format=csv"},
		{Method: "GET", Path: "/api/v1/me"},
		{Method: "POST", Path: "/api/v1/users/" + e.A.AdminID + "/unlock"},
		{Method: "POST", Path: user + "/approve"},
		{Method: "POST", Path: user + "/password-reset"},
		{Method: "GET", Path: user + "/sessions"},
		{Method: "DELETE", Path: user + "/sessions"},
		{Method: "GET", Path: "/api/v1/me/sessions"},
		{Method: "GET", Path: "/api/v1/me/data-export"},
		{Method: "GET", Path: user + "/data-export"},
		{Method: "POST", Path: user + "/erase", Body: map[string]any{}},
		{Method: "DELETE", Path: "/api/v1/me/sessions"},
		{Method: "DELETE", Path: "/api/v1/me/sessions/00000000-0000-7000-8000-000000000000"},
		{Method: "GET", Path: "/api/v1/me/sign-ins"},
		{Method: "GET", Path: user + "/sign-ins"},
		{Method: "GET", Path: "/api/v1/scim-group-roles"},
		{Method: "PUT", Path: "/api/v1/scim-group-roles", Body: map[string]any{"mappings": map[string]string{}}},
		{Method: "GET", Path: "/api/v1/scim-tokens"},
		{Method: "POST", Path: "/api/v1/scim-tokens", Body: map[string]any{"name": "op"}},
		{Method: "DELETE", Path: "/api/v1/scim-tokens/00000000-0000-7000-8000-000000000000"},
		{Method: "POST", Path: "/api/v1/me/mfa/totp"},
		{Method: "POST", Path: "/api/v1/me/mfa/totp/verify", Body: map[string]any{"code": "123456"}},
		{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes"},
		{Method: "PUT", Path: "/api/v1/me/mfa/default", Body: map[string]any{"method": "totp"}},
		{Method: "DELETE", Path: "/api/v1/me/mfa/totp"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/sms"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/email"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/passkey"},
		{Method: "POST", Path: "/api/v1/me/mfa/email"},
		{Method: "POST", Path: "/api/v1/me/mfa/email/verify", Body: map[string]any{"code": "123456"}},
		{Method: "POST", Path: "/api/v1/me/mfa/sms", Body: map[string]any{"phone": "+44 20 7946 0000"}},
		{Method: "POST", Path: "/api/v1/me/mfa/sms/verify", Body: map[string]any{"code": "123456"}},
		{Method: "GET", Path: user + "/mfa"},
		{Method: "DELETE", Path: user + "/mfa"},
		{Method: "PUT", Path: "/api/v1/me/password", Body: map[string]any{"current_password": "a", "new_password": "b"}},
		{Method: "POST", Path: "/api/v1/auth/step-up", Body: map[string]any{"method": "totp", "code": "123456"}},
		{Method: "GET", Path: "/api/v1/me/passkeys"},
		{Method: "POST", Path: "/api/v1/me/passkeys/register/begin"},
		{Method: "POST", Path: "/api/v1/me/passkeys/register/finish", Body: map[string]any{"credential": map[string]any{"id": "x", "type": "public-key", "response": map[string]any{}}}},
		{Method: "PATCH", Path: "/api/v1/me/passkeys/00000000-0000-7000-8000-000000000000", Body: map[string]any{"name": "op"}},
		{Method: "DELETE", Path: "/api/v1/me/passkeys/00000000-0000-7000-8000-000000000000"},
		{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin"},
		{Method: "GET", Path: user + "/passkeys"},
		{Method: "PATCH", Path: user + "/passkeys/00000000-0000-7000-8000-000000000000", Body: map[string]any{"name": "op"}},
		{Method: "DELETE", Path: user + "/passkeys/00000000-0000-7000-8000-000000000000"},
		{Method: "GET", Path: user + "/security"},
		{Method: "GET", Path: "/api/v1/tenant"},
		{Method: "PATCH", Path: "/api/v1/tenant", Body: map[string]any{"name": "Op"}},
		{Method: "GET", Path: "/api/v1/tenant/security-policy"},
		{Method: "PUT", Path: "/api/v1/tenant/security-policy", Body: map[string]any{
			"mfa_required": false, "allowed_methods": []string{"totp"},
			"password": map[string]any{"min_length": 12, "reject_common": true},
			"lockout":  map[string]any{"max_attempts": 10, "duration_minutes": 15},
			"session":  map[string]any{"access_token_minutes": 15, "refresh_token_days": 30},
		}},
		{Method: "GET", Path: "/api/v1/invitations"},
		{Method: "POST", Path: "/api/v1/invitations", Body: map[string]any{"email": "op@example.com", "role": "viewer"}},
		{Method: "POST", Path: "/api/v1/invitations/bulk", Body: "email,role\nop@example.com,viewer\n",
			Header: map[string]string{"Content-Type": "text/csv"}},
		{Method: "DELETE", Path: "/api/v1/invitations/00000000-0000-7000-8000-000000000000"},
		{Method: "POST", Path: "/api/v1/invitations/00000000-0000-7000-8000-000000000000/resend"},
	}, slices.Concat(webhookOperations(), roleOperations(e), teamOperations(e), keyOperations(), serviceTokenOperations(e), groupOperations())...)
}

// needsUserSession reports whether an operation refuses API tokens for a
// user's own sign-in.
func needsUserSession(op request) bool {
	return strings.HasPrefix(op.Path, "/api/v1/me/") && op.Path != "/api/v1/me/mfa/default" || op.Path == "/api/v1/auth/step-up" ||
		strings.HasPrefix(op.Path, "/api/v1/auth/step-up/")
}

func TestPermissionsFollowRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	target := "/api/v1/users/" + e.A.AdminID
	newUser := map[string]any{"email": "new@example.com"}
	for _, tc := range []struct {
		role, token string
		read, write bool
		audit       bool
	}{
		{"admin", e.A.Admin, true, true, true},
		{"developer", e.A.Developer, true, false, false},
		{"viewer", e.A.Viewer, true, false, false},
		{"scim-scoped admin", e.A.SCIM, false, false, false},
	} {
		t.Run(tc.role, func(t *testing.T) {
			check := func(r response, allowed bool, okStatus int) {
				t.Helper()
				if allowed && r.Status != okStatus {
					t.Fatalf("allowed call: %d %s", r.Status, r.Body)
				}
				if !allowed {
					wantProblem(t, r, http.StatusForbidden, "")
				}
			}
			check(e.do(request{Method: "GET", Path: "/api/v1/users", Token: tc.token}), tc.read, 200)
			check(e.do(request{Method: "GET", Path: target, Token: tc.token}), tc.read, 200)
			check(e.do(request{Method: "GET", Path: "/api/v1/audit-events", Token: tc.token}), tc.audit, 200)
			if !tc.write {
				check(e.do(request{Method: "POST", Path: "/api/v1/users", Token: tc.token, Body: newUser}), false, 0)
				check(e.do(request{Method: "PATCH", Path: target, Token: tc.token, Body: map[string]any{"given_name": "X"}}), false, 0)
				check(e.do(request{Method: "DELETE", Path: target, Token: tc.token}), false, 0)
			}
		})
	}
}

func TestAnotherTenantsUserIsNotFound(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	created := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": "secret@example.com"}})
	id := created.Object(t)["id"].(string)
	bAdmin := e.B.Admin
	bJWT := e.jwt(e.B.ID, []string{"admin"}, nil)
	for _, token := range []string{bAdmin, bJWT} {
		for _, method := range []string{"GET", "PATCH", "DELETE"} {
			var body any
			if method == "PATCH" {
				body = map[string]any{"given_name": "Mallory"}
			}
			wantProblem(t, e.do(request{Method: method, Path: "/api/v1/users/" + id, Token: token, Body: body}), http.StatusNotFound, "")
		}
		list := e.do(request{Method: "GET", Path: "/api/v1/users?q=secret", Token: token})
		if strings.Contains(string(list.Body), id) {
			t.Fatalf("tenant B lists tenant A's user: %s", list.Body)
		}
		audit := e.do(request{Method: "GET", Path: "/api/v1/audit-events?target_id=" + id, Token: token})
		if audit.Status != 200 || strings.Contains(string(audit.Body), id) {
			t.Fatalf("tenant B sees tenant A's audit trail: %d %s", audit.Status, audit.Body)
		}
	}
	// Tenant A's user is untouched.
	got := e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: e.A.Admin})
	if got.Status != 200 || got.Object(t)["given_name"] != "" {
		t.Fatalf("tenant A's user after tenant B's attempts: %d %s", got.Status, got.Body)
	}
}

func TestJWTs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ok := e.jwt(e.A.ID, []string{"admin"}, nil)
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: ok, Body: map[string]any{"email": "jwt@example.com"}}); r.Status != 201 {
		t.Fatalf("admin JWT create: %d %s", r.Status, r.Body)
	}
	viewer := e.jwt(e.A.ID, []string{"viewer"}, nil)
	if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: viewer}); r.Status != 200 {
		t.Fatalf("viewer JWT list: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: viewer, Body: map[string]any{"email": "v@example.com"}}), 403, "")

	for name, mutate := range map[string]func(b *jwt.Builder){
		"expired":       func(b *jwt.Builder) { b.Expiration(time.Now().Add(-time.Hour)) },
		"wrong issuer":  func(b *jwt.Builder) { b.Issuer("https://evil.example") },
		"wrong aud":     func(b *jwt.Builder) { b.Audience([]string{"someone-else"}) },
		"no tenant":     func(b *jwt.Builder) { b.Claim("tid", "") },
		"tenant not id": func(b *jwt.Builder) { b.Claim("tid", "acme") },
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: e.jwt(e.A.ID, []string{"admin"}, mutate)}), 401, "")
		})
	}
	t.Run("OIDC scopes narrow nothing", func(t *testing.T) {
		tok := e.jwt(e.A.ID, []string{"admin"}, func(b *jwt.Builder) { b.Claim("scp", []string{"openid", "profile"}) })
		if r := e.do(request{Method: "GET", Path: "/api/v1/audit-events", Token: tok}); r.Status != 200 {
			t.Fatalf("admin JWT with OIDC scopes: %d %s", r.Status, r.Body)
		}
	})
	t.Run("Roster scopes narrow the roles", func(t *testing.T) {
		tok := e.jwt(e.A.ID, []string{"admin"}, func(b *jwt.Builder) { b.Claim("scope", "openid users:read") })
		if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: tok}); r.Status != 200 {
			t.Fatalf("read with users:read scope: %d %s", r.Status, r.Body)
		}
		wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/audit-events", Token: tok}), 403, "")
	})
	t.Run("tampered", func(t *testing.T) {
		parts := strings.Split(ok, ".")
		forged := parts[0] + "." + parts[1] + "x." + parts[2]
		wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: forged}), 401, "")
	})
	t.Run("alg none", func(t *testing.T) {
		parts := strings.Split(ok, ".")
		none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
		wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: none}), 401, "")
	})
}

func TestDeactivatedUsersTokensStopWorking(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	users := store.NewUserService(e.DB)
	u, err := users.CreateUser(ctx, e.A.ID, roster.Actor{Type: "system", ID: "test"},
		&roster.User{Email: "script-owner@example.com", Role: roster.RoleViewer, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	token := e.token(e.A.ID, roster.RoleViewer, func(tok *roster.APIToken) { tok.UserID = &u.ID })
	patch := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + u.ID, Token: e.A.Admin, Body: map[string]any{"active": false}})
	if patch.Status != 200 {
		t.Fatalf("deactivate: %d %s", patch.Status, patch.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: token}), 401, "")
}

func TestAPITokenUseIsRecorded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	token := e.token(e.A.ID, roster.RoleViewer, nil)
	if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: token}); r.Status != 200 {
		t.Fatalf("list: %d", r.Status)
	}
	tok, err := store.NewTokenService(e.DB).FindTokenByHash(context.Background(), auth.HashAPIToken(token))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for tok.LastUsedAt == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		tok, _ = store.NewTokenService(e.DB).FindTokenByHash(context.Background(), auth.HashAPIToken(token))
	}
	if tok.LastUsedAt == nil || time.Since(*tok.LastUsedAt) > time.Minute {
		t.Fatalf("last_used_at = %v after use", tok.LastUsedAt)
	}
	if string(tok.Hash) == token || strings.Contains(string(tok.Hash), token[4:]) {
		t.Fatal("the token is stored in the clear")
	}
}
