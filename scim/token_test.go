package scim_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/ratelimit"
	"github.com/rosterhq/roster/scim"
)

func TestSCIMTokensAreManagedOverREST(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	created := e.call("POST", "/api/v1/scim-tokens", e.A.Admin, map[string]any{"name": "Okta", "expires_in_days": 365}).must(t, 201)
	secret := str(created.Body, "token")
	id := str(created.Body, "id")
	if !strings.HasPrefix(secret, "rst_") || str(created.Body, "expires_at") == "" {
		t.Fatalf("created: %s", created.Raw)
	}
	e.call("GET", "/scim/v2/Users", secret, nil).must(t, 200)
	// The admin's own token is not a SCIM token, and the SCIM token is no
	// REST token.
	wantSCIMError(t, e.call("GET", "/scim/v2/Users", e.A.Admin, nil), 403, "")
	if r := e.call("GET", "/api/v1/users", secret, nil); r.Status != 403 {
		t.Fatalf("SCIM token on REST: %d", r.Status)
	}

	list := e.call("GET", "/api/v1/scim-tokens", e.A.Admin, nil).must(t, 200)
	if strings.Contains(string(list.Raw), secret) || !strings.Contains(string(list.Raw), id) {
		t.Fatalf("token list: %s", list.Raw)
	}
	// Another tenant can neither list nor revoke it.
	other := e.call("GET", "/api/v1/scim-tokens", e.B.Admin, nil).must(t, 200)
	if strings.Contains(string(other.Raw), id) {
		t.Fatalf("tenant B lists tenant A's token: %s", other.Raw)
	}
	if r := e.call("DELETE", "/api/v1/scim-tokens/"+id, e.B.Admin, nil); r.Status != 404 {
		t.Fatalf("tenant B revokes tenant A's token: %d", r.Status)
	}

	e.call("DELETE", "/api/v1/scim-tokens/"+id, e.A.Admin, nil).must(t, 204)
	wantSCIMError(t, e.call("GET", "/scim/v2/Users", secret, nil), 401, "")
	if r := e.call("DELETE", "/api/v1/scim-tokens/"+id, e.A.Admin, nil); r.Status != 404 {
		t.Fatalf("revoking twice: %d", r.Status)
	}
	if r := e.call("POST", "/api/v1/scim-tokens", e.A.Admin, map[string]any{"name": ""}); r.Status != 400 {
		t.Fatalf("nameless token: %d %s", r.Status, r.Raw)
	}
	if r := e.call("POST", "/api/v1/scim-tokens", e.A.Admin, map[string]any{"name": "x", "expires_in_days": 0}); r.Status != 400 {
		t.Fatalf("zero lifetime: %d %s", r.Status, r.Raw)
	}
}

func TestSCIMThrottling(t *testing.T) {
	e := newSCIMEnv(t, func(s *scim.Server) { s.Limiter = ratelimit.New(1, 3) })
	for range 3 {
		e.call("GET", "/scim/v2/ServiceProviderConfig", e.A.SCIM, nil).must(t, 200)
	}
	r := e.call("GET", "/scim/v2/Users", e.A.SCIM, nil)
	wantSCIMError(t, r, 429, "")
	if r.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Each credential has a bucket of its own.
	e.call("GET", "/scim/v2/Users", e.B.SCIM, nil).must(t, 200)
}
