package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/flow"
)

func TestSSORequiredRefusesPasswords(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	op := startOP(t)
	e.createOIDCConnection(e.A, op, nil)
	ada := newPasswordUser(t, e, "ada@acme.test")
	newPasswordUser(t, e, "carl@other.test")
	boss := newPasswordUser(t, e, "boss@acme.test")
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + boss, Token: e.A.Admin, Body: map[string]any{"role": "admin"}}); r.Status != 200 {
		t.Fatalf("promote: %s", r.Body)
	}

	policy := e.do(request{Method: "GET", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin}).Object(t)
	if policy["sso_required"] != false {
		t.Fatalf("default policy: %v", policy)
	}
	policy["sso_required"] = true
	policy["break_glass_user_ids"] = []string{boss, ada}
	if r := e.do(request{Method: "PUT", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin, Body: policy}); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	// A PUT written before these fields keeps them.
	delete(policy, "sso_required")
	delete(policy, "break_glass_user_ids")
	if r := e.do(request{Method: "PUT", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin, Body: policy}); r.Object(t)["sso_required"] != true {
		t.Fatalf("put without sso_required: %s", r.Body)
	}

	refused := login(e, e.A.ID, "ada@acme.test", goodPassword)
	wantProblem(t, refused, 403, "")
	if !strings.Contains(string(refused.Body), "single sign-on") || !strings.Contains(string(refused.Body), "Acme Okta") {
		t.Fatalf("the refusal does not point to SSO: %s", refused.Body)
	}
	// A wrong password is a wrong password, whatever the policy.
	wantProblem(t, login(e, e.A.ID, "ada@acme.test", "not-the-password-at-all"), 401, "")
	// Another domain, and a break-glass admin, still sign in. (ada is on
	// the list but no admin: the list does not make her one.)
	for _, who := range []string{"carl@other.test", "boss@acme.test"} {
		if r := login(e, e.A.ID, who, goodPassword); r.Status != 200 {
			t.Fatalf("%s: %d %s", who, r.Status, r.Body)
		}
	}
	policy["break_glass_user_ids"] = []string{strings.Repeat("x", 40)}
	wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin, Body: policy}), 400, "break_glass_user_ids")
}

// The public SSO endpoints that write rows or check XML signatures have
// the sign-in's ceiling of attempts an address.
func TestSSORateLimit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ceiling := flow.DefaultSignInRate().AddressAttempts
	for _, r := range []request{
		{Method: "GET", Path: "/api/v1/auth/sso/start?tenant=" + e.A.ID + "&connection=00000000-0000-7000-8000-000000000000"},
		{Method: "POST", Path: "/api/v1/auth/sso/exchange", Body: map[string]string{"code": "rsc_not-a-code"}},
		{Method: "POST", Path: "/api/v1/auth/sso/saml/acs", Body: "SAMLResponse=x&RelayState=y",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
	} {
		limited := false
		for i := range 2 * ceiling {
			last := e.do(r)
			if last.Status != http.StatusTooManyRequests {
				continue
			}
			if i < ceiling {
				t.Fatalf("%s: 429 at attempt %d, under the ceiling of %d", r.Path, i+1, ceiling)
			}
			wantRetryAfter(t, last)
			limited = true
			break
		}
		if !limited {
			t.Fatalf("%s: no 429 after %d attempts", r.Path, 2*ceiling)
		}
	}
}
