package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster/internal/testkit"
)

// policy is a security policy as JSON, to change and PUT.
type policy map[string]any

func (p policy) section(name string) map[string]any { return p[name].(map[string]any) }

// defaultPolicy is the policy of a tenant that never set one.
func defaultPolicy() policy {
	return policy{
		"mfa_required":    false,
		"allowed_methods": []any{"totp", "sms", "email", "passkey"},
		"password":        map[string]any{"min_length": 12, "reject_common": true},
		"lockout":         map[string]any{"max_attempts": 10, "duration_minutes": 15},
		"session": map[string]any{"access_token_minutes": 15, "refresh_token_days": 30,
			"max_sessions": nil, "idle_timeout_minutes": nil, "absolute_session_lifetime_hours": nil},
		"unique_email": true,
		// Single sign-on (issue 14).
		"sso_required":         false,
		"break_glass_user_ids": []any{},
		// Sign-in history and network and inactivity rules (issue 16).
		"sign_in_retention_days": 400,
		"audit_retention_days":   400,
		"allowed_networks":       []any{},
		"deactivate_after_days":  0,
		// Admin approval (issue 16).
		"approval_required": false,
	}
}

const policyPath = "/api/v1/tenant/security-policy"

// setPolicy puts the default policy with change applied, as token.
func setPolicy(t *testing.T, e *testEnv, token string, change func(policy)) {
	t.Helper()
	p := defaultPolicy()
	change(p)
	if r := e.do(request{Method: "PUT", Path: policyPath, Token: token, Body: p}); r.Status != 200 {
		t.Fatalf("put policy: %d %s", r.Status, r.Body)
	}
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	norm := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		raw, _ = json.Marshal(out)
		return string(raw)
	}
	return norm(a) == norm(b)
}

func TestSecurityPolicyEndpoints(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	r := e.do(request{Method: "GET", Path: policyPath, Token: e.A.Admin})
	if r.Status != 200 || !sameJSON(t, r.Object(t), defaultPolicy()) {
		t.Fatalf("default policy: %d %s", r.Status, r.Body)
	}
	for _, token := range []string{e.A.Viewer, e.A.Developer, e.A.SCIM} {
		wantProblem(t, e.do(request{Method: "GET", Path: policyPath, Token: token}), 403, "")
		wantProblem(t, e.do(request{Method: "PUT", Path: policyPath, Token: token, Body: defaultPolicy()}), 403, "")
	}

	strict := defaultPolicy()
	strict["mfa_required"] = true
	strict["allowed_methods"] = []any{"totp"}
	strict.section("password")["min_length"] = 16
	strict.section("lockout")["max_attempts"] = 5
	strict.section("session")["refresh_token_days"] = 7
	r = e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: strict})
	if r.Status != 200 || !sameJSON(t, r.Object(t), strict) {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	if r = e.do(request{Method: "GET", Path: policyPath, Token: e.A.Admin}); !sameJSON(t, r.Object(t), strict) {
		t.Fatalf("after put: %s", r.Body)
	}

	// Another tenant neither sees nor changes it.
	if r = e.do(request{Method: "GET", Path: policyPath, Token: e.B.Admin}); r.Status != 200 || !sameJSON(t, r.Object(t), defaultPolicy()) {
		t.Fatalf("tenant B's policy: %s", r.Body)
	}
	setPolicy(t, e, e.B.Admin, func(p policy) { p.section("password")["min_length"] = 8 })
	if r = e.do(request{Method: "GET", Path: policyPath, Token: e.A.Admin}); !sameJSON(t, r.Object(t), strict) {
		t.Fatalf("tenant B changed tenant A's policy: %s", r.Body)
	}

	// Audited with the policy before and after.
	audit := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=tenant.updated&target_id=" + e.A.ID, Token: e.A.Admin})
	var page struct {
		Items []struct {
			Details struct {
				SecurityPolicy struct{ From, To map[string]any } `json:"security_policy"`
			}
		}
	}
	audit.JSON(t, &page)
	if len(page.Items) != 1 || !sameJSON(t, page.Items[0].Details.SecurityPolicy.From, defaultPolicy()) ||
		!sameJSON(t, page.Items[0].Details.SecurityPolicy.To, strict) {
		t.Fatalf("audit: %s", audit.Body)
	}

	for name, tc := range map[string]struct {
		change func(policy)
		field  string
	}{
		"short passwords":    {func(p policy) { p.section("password")["min_length"] = 7 }, "password.min_length"},
		"long minimum":       {func(p policy) { p.section("password")["min_length"] = 129 }, "password.min_length"},
		"two attempts":       {func(p policy) { p.section("lockout")["max_attempts"] = 2 }, "lockout.max_attempts"},
		"no lockout":         {func(p policy) { p.section("lockout")["duration_minutes"] = 0 }, "lockout.duration_minutes"},
		"a long lockout":     {func(p policy) { p.section("lockout")["duration_minutes"] = 1441 }, "lockout.duration_minutes"},
		"brief tokens":       {func(p policy) { p.section("session")["access_token_minutes"] = 4 }, "session.access_token_minutes"},
		"long sessions":      {func(p policy) { p.section("session")["refresh_token_days"] = 91 }, "session.refresh_token_days"},
		"unknown method":     {func(p policy) { p["allowed_methods"] = []any{"totp", "pigeon"} }, "allowed_methods"},
		"a method twice":     {func(p policy) { p["allowed_methods"] = []any{"totp", "totp"} }, "allowed_methods"},
		"no method":          {func(p policy) { p["allowed_methods"] = []any{} }, "allowed_methods"},
		"MFA without TOTP":   {func(p policy) { p["mfa_required"] = true; p["allowed_methods"] = []any{"sms"} }, "allowed_methods"},
		"missing section":    {func(p policy) { delete(p, "session") }, "session"},
		"missing field":      {func(p policy) { delete(p.section("lockout"), "max_attempts") }, "lockout.max_attempts"},
		"unknown field":      {func(p policy) { p["mfa_optional"] = true }, "mfa_optional"},
		"unknown subfield":   {func(p policy) { p.section("password")["max_length"] = 64 }, "password.max_length"},
		"not a boolean":      {func(p policy) { p["mfa_required"] = "yes" }, "mfa_required"},
		"not an integer":     {func(p policy) { p.section("session")["access_token_minutes"] = 7.5 }, "session.access_token_minutes"},
		"not an object":      {func(p policy) { p["lockout"] = 10 }, "lockout"},
		"not a list":         {func(p policy) { p["allowed_methods"] = "totp" }, "allowed_methods"},
		"null reject_common": {func(p policy) { p.section("password")["reject_common"] = nil }, "password.reject_common"},
		"no retention":       {func(p policy) { p["sign_in_retention_days"] = 0 }, "sign_in_retention_days"},
		"a short trail":      {func(p policy) { p["audit_retention_days"] = 7 }, "audit_retention_days"},
		"quick deactivation": {func(p policy) { p["deactivate_after_days"] = 7 }, "deactivate_after_days"},
		"not a network":      {func(p policy) { p["allowed_networks"] = []any{"10.0.0.0/33"} }, "allowed_networks"},
		"a bare address":     {func(p policy) { p["allowed_networks"] = []any{"10.0.0.1"} }, "allowed_networks"},
	} {
		t.Run(name, func(t *testing.T) {
			p := defaultPolicy()
			tc.change(p)
			wantProblem(t, e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: p, Invalid: true}), 400, tc.field)
		})
	}
	if r = e.do(request{Method: "GET", Path: policyPath, Token: e.A.Admin}); !sameJSON(t, r.Object(t), strict) {
		t.Fatalf("a refused policy changed the policy: %s", r.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: policyPath + "?mfa=1", Token: e.A.Admin, Invalid: true}), 400, "mfa")
	wantProblem(t, e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin,
		Body: `{"mfa_required": false, "x": "` + strings.Repeat("y", 2<<20) + `"}`, Invalid: true}), 413, "")
}

func TestPasswordPolicyApplies(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	create := func(email, password string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": email, "password": password}})
	}
	setPolicy(t, e, e.A.Admin, func(p policy) { p.section("password")["min_length"] = 24 })
	wantProblem(t, create("long@example.com", goodPassword), 400, "password") // 22 characters
	if r := create("long@example.com", goodPassword+"xx"); r.Status != 201 {
		t.Fatalf("a password of the policy's length: %d %s", r.Status, r.Body)
	}
	// Tenant B still has the default policy.
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.B.Admin,
		Body: map[string]any{"email": "long@example.com", "password": goodPassword}}); r.Status != 201 {
		t.Fatalf("tenant B's default policy: %d %s", r.Status, r.Body)
	}

	setPolicy(t, e, e.A.Admin, func(p policy) {
		p.section("password")["min_length"] = 8
		p.section("password")["reject_common"] = false
	})
	if r := create("lax@example.com", "password1"); r.Status != 201 {
		t.Fatalf("a common password where the policy allows one: %d %s", r.Status, r.Body)
	}
	wantProblem(t, create("lax2@example.com", "short7!"), 400, "password")
}

func TestSessionPolicyApplies(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id := newPasswordUser(t, e, "brief@example.com")
	setPolicy(t, e, e.A.Admin, func(p policy) {
		p.section("session")["access_token_minutes"] = 5
		p.section("session")["refresh_token_days"] = 1
	})
	var tok tokens
	login(e, e.A.ID, "brief", goodPassword).JSON(t, &tok)
	parsed, err := jwt.ParseInsecure([]byte(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := parsed.Expiration()
	iat, _ := parsed.IssuedAt()
	if tok.ExpiresIn != 300 || exp.Sub(iat) != 5*time.Minute {
		t.Fatalf("expires_in %d, exp-iat %v; want 5 minutes", tok.ExpiresIn, exp.Sub(iat))
	}
	var refreshExpires time.Time
	if err := openTestDB(t).QueryRow(`SELECT max(expires_at) FROM refresh_tokens WHERE user_id = $1`, id).Scan(&refreshExpires); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(refreshExpires); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("the refresh token lives %v, want a day", d)
	}
	// A refresh follows the policy of the moment.
	setPolicy(t, e, e.A.Admin, func(p policy) { p.section("session")["access_token_minutes"] = 60 })
	r := e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": tok.RefreshToken}})
	r.JSON(t, &tok)
	if r.Status != 200 || tok.ExpiresIn != 3600 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
}

func TestAllowedMethodsApply(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	useClock(e)
	_, token := signIn(t, e, "sms-only@example.com")
	secret := startTOTP(t, e, token)
	setPolicy(t, e, e.A.Admin, func(p policy) { p["allowed_methods"] = []any{"sms", "passkey"} })
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: token}), 409, "")
	// An enrolment started before the change cannot finish after it.
	wantProblem(t, confirmTOTP(e, token, testkit.Oathtool(t, secret, e.mfa.Now())), 409, "")
	setPolicy(t, e, e.A.Admin, func(p policy) {})
	enrolTOTP(t, e, token)
}

func TestMFARequired(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	withMFA, withToken := signIn(t, e, "has-mfa@example.com")
	secret := enrolTOTP(t, e, withToken)
	id := newPasswordUser(t, e, "newcomer@example.com")
	setPolicy(t, e, e.A.Admin, func(p policy) { p["mfa_required"] = true })

	// A user without a second factor gets an enrolment-only token.
	r := login(e, e.A.ID, "newcomer", goodPassword)
	var tok struct {
		tokens
		MFAEnrollmentRequired bool `json:"mfa_enrollment_required"`
	}
	r.JSON(t, &tok)
	if r.Status != 200 || !tok.MFAEnrollmentRequired || tok.RefreshToken == "" {
		t.Fatalf("login under mfa_required: %d %s", r.Status, r.Body)
	}
	parsed, err := jwt.ParseInsecure([]byte(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var scope string
	if err := parsed.Get("scope", &scope); err != nil || scope != "mfa:enroll" {
		t.Fatalf("scope %q (%v)", scope, err)
	}
	enrolOnly := tok.AccessToken
	for _, req := range []request{
		{Method: "GET", Path: "/api/v1/users"},
		{Method: "GET", Path: "/api/v1/users/" + id},
		{Method: "GET", Path: "/api/v1/users/" + id + "/mfa"},
		{Method: "GET", Path: "/api/v1/audit-events"},
		{Method: "GET", Path: "/api/v1/scim-group-roles"},
		{Method: "GET", Path: "/api/v1/groups"},
		{Method: "GET", Path: "/api/v1/groups/" + fakeID + "/members"},
		{Method: "GET", Path: "/api/v1/roles"},
		{Method: "POST", Path: "/api/v1/permissions/check", Body: map[string]any{"user_id": id, "permission": "users:read"}},
		{Method: "GET", Path: "/api/v1/users/" + id + "/grants"},
		{Method: "GET", Path: "/api/v1/teams"},
		{Method: "PUT", Path: "/api/v1/teams/" + id + "/members/" + id, Body: map[string]any{"role": "member"}},
		{Method: "GET", Path: policyPath},
		{Method: "GET", Path: "/api/v1/tenant"},
		{Method: "GET", Path: "/api/v1/me/api-keys"},
		{Method: "POST", Path: "/api/v1/me/api-keys", Body: map[string]any{"name": "x", "permissions": []string{"users:read"}, "expires_at": inDays(1)}},
		{Method: "DELETE", Path: "/api/v1/me/api-keys/" + id},
		{Method: "GET", Path: "/api/v1/me/service-tokens"},
		{Method: "PUT", Path: "/api/v1/me/service-tokens/github", Body: map[string]any{"token": "ghp_x"}},
		{Method: "DELETE", Path: "/api/v1/me/service-tokens/github"},
		{Method: "PUT", Path: "/api/v1/me/password", Body: map[string]any{"current_password": goodPassword, "new_password": goodPassword + "-2"}},
		{Method: "GET", Path: "/api/v1/me/sessions"},
		{Method: "GET", Path: "/api/v1/me/data-export"},
		{Method: "DELETE", Path: "/api/v1/me/sessions"},
		{Method: "DELETE", Path: "/api/v1/me/sessions/" + id},
		{Method: "GET", Path: "/api/v1/me/sign-ins"},
		{Method: "GET", Path: "/api/v1/users/" + id + "/sign-ins"},
		{Method: "POST", Path: "/api/v1/users/" + id + "/approve"},
	} {
		req.Token = enrolOnly
		r := e.do(req)
		wantProblem(t, r, http.StatusForbidden, "")
		if !strings.Contains(string(r.Body), "enrol") {
			t.Fatalf("%s %s: %s", req.Method, req.Path, r.Body)
		}
	}
	// It reaches the user and the enrolment routes.
	if r := e.do(request{Method: "GET", Path: "/api/v1/me", Token: enrolOnly}); r.Status != 200 || r.Object(t)["id"] != id ||
		fmt.Sprint(r.Object(t)["permissions"]) != "[mfa:enroll]" {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	// A refresh of its session is enrolment-only too.
	r = e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": tok.RefreshToken}})
	if r.Status != 200 || r.Object(t)["mfa_enrollment_required"] != true {
		t.Fatalf("refresh under mfa_required: %d %s", r.Status, r.Body)
	}
	newSecret := enrolTOTP(t, e, enrolOnly)

	// Having enrolled, a step-up makes a full token.
	full := stepUp(t, e, clock, enrolOnly, newSecret)
	if r := e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: full}); r.Status != 200 {
		t.Fatalf("after enrolling and stepping up: %d %s", r.Status, r.Body)
	}

	// A user with a second factor signs in with it, as before.
	clock.Add(30 * time.Second)
	m := mfaLogin(t, e, "has-mfa")
	access := wantTokens(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), "pwd", "otp", "mfa")
	if r := e.do(request{Method: "GET", Path: "/api/v1/users/" + withMFA, Token: access}); r.Status != 200 {
		t.Fatalf("a user with MFA under mfa_required: %d %s", r.Status, r.Body)
	}
	// An access token issued before the policy keeps its scope until it
	// expires.
	if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: withToken}); r.Status != 200 {
		t.Fatalf("a token issued before the policy: %d", r.Status)
	}
	wantActions(t, e, id, "mfa.enabled", "mfa.stepped_up")
}
