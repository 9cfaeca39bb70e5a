package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/store"
)

type tenantBody struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Slug         string         `json:"slug"`
	LogoURL      *string        `json:"logo_url"`
	ContactEmail *string        `json:"contact_email"`
	DefaultRole  string         `json:"default_role"`
	Plan         string         `json:"plan"`
	Settings     map[string]any `json:"settings"`
}

func (e *testEnv) tenant(token string) tenantBody {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/tenant", Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET /tenant: %d %s", r.Status, r.Body)
	}
	var t tenantBody
	r.JSON(e.t, &t)
	return t
}

func (e *testEnv) patchTenant(token string, body any) response {
	return e.do(request{Method: "PATCH", Path: "/api/v1/tenant", Token: token, Body: body})
}

// TestTenantSettings: an admin reads and changes the organisation's
// settings, each field checked and the change audited; others read them
// only, and each tenant sees its own.
func TestTenantSettings(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	before := e.tenant(e.A.Viewer)
	if before.ID != e.A.ID || before.DefaultRole != "viewer" || before.Plan != "free" || before.LogoURL != nil ||
		before.ContactEmail != nil || len(before.Settings) != 0 || before.Slug == "" {
		t.Fatalf("a new tenant: %+v", before)
	}
	wantProblem(t, e.patchTenant(e.A.Developer, map[string]any{"name": "Mine"}), http.StatusForbidden, "")
	wantProblem(t, e.patchTenant(e.A.Viewer, map[string]any{"name": "Mine"}), http.StatusForbidden, "")

	slug := "acme-" + strings.ToLower(e.A.ID[len(e.A.ID)-8:])
	r := e.patchTenant(e.A.Admin, map[string]any{"name": "Acme Ltd", "slug": slug, "logo_url": "https://cdn.acme.test/logo.svg",
		"contact_email": "it@acme.test", "default_role": "developer", "settings": map[string]any{"theme": "dark", "locale": "en-GB"}})
	var after tenantBody
	r.JSON(t, &after)
	if r.Status != http.StatusOK || after.Name != "Acme Ltd" || after.Slug != slug || *after.LogoURL != "https://cdn.acme.test/logo.svg" ||
		*after.ContactEmail != "it@acme.test" || after.DefaultRole != "developer" || after.Settings["theme"] != "dark" || after.Plan != "free" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if got := e.tenant(e.A.Admin); got.Slug != slug || got.Settings["locale"] != "en-GB" {
		t.Fatalf("read back: %+v", got)
	}
	// Users sign in with the new slug at once.
	newPasswordUser(t, e, "slug-user@example.com")
	if r := login(e, slug, "slug-user@example.com", goodPassword); r.Status != http.StatusOK {
		t.Fatalf("sign-in by the new slug: %d %s", r.Status, r.Body)
	}
	audit := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=tenant.updated&target_id=" + e.A.ID, Token: e.A.Admin})
	if !strings.Contains(string(audit.Body), `"default_role":{"to":"developer","from":"viewer"}`) {
		t.Fatalf("audit: %s", audit.Body)
	}

	// null removes; settings is replaced whole; absent fields stay.
	r = e.patchTenant(e.A.Admin, map[string]any{"logo_url": nil, "settings": map[string]any{"locale": "fr"}})
	after = tenantBody{}
	r.JSON(t, &after)
	if r.Status != http.StatusOK || after.LogoURL != nil || after.Settings["theme"] != nil || after.Settings["locale"] != "fr" ||
		after.ContactEmail == nil || after.Name != "Acme Ltd" {
		t.Fatalf("second patch: %d %s", r.Status, r.Body)
	}

	for _, tc := range []struct {
		body    map[string]any
		field   string
		invalid bool
	}{
		{map[string]any{"logo_url": "http://cdn.acme.test/logo.svg"}, "logo_url", false},
		{map[string]any{"logo_url": "javascript:alert(1)"}, "logo_url", false},
		{map[string]any{"contact_email": "not an address"}, "contact_email", false},
		{map[string]any{"default_role": "admin"}, "default_role", false},
		{map[string]any{"default_role": "owner"}, "default_role", false},
		{map[string]any{"name": " "}, "name", false},
		{map[string]any{"settings": map[string]any{"blob": strings.Repeat("x", 17<<10)}}, "settings", false},
		{map[string]any{"settings": []string{"a"}}, "settings", true},
		{map[string]any{"plan": "enterprise"}, "plan", true},
		{map[string]any{"slug": "Not A Slug"}, "slug", true},
		{map[string]any{"colour": "red"}, "colour", true},
	} {
		r := e.do(request{Method: "PATCH", Path: "/api/v1/tenant", Token: e.A.Admin, Body: tc.body, Invalid: tc.invalid})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	// Another tenant's slug is taken.
	wantProblem(t, e.patchTenant(e.A.Admin, map[string]any{"slug": e.tenant(e.B.Admin).Slug}), http.StatusConflict, "slug")
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/tenant", Token: e.A.Admin,
		Body: `{"settings":{"x":"` + strings.Repeat("x", 1<<20) + `"}}`}), http.StatusRequestEntityTooLarge, "")

	// Tenant B's settings are its own.
	if b := e.tenant(e.B.Admin); b.ID != e.B.ID || b.DefaultRole != "viewer" || b.Name == "Acme Ltd" {
		t.Fatalf("tenant B: %+v", b)
	}
	if got := e.tenant(e.A.Admin); got.Name != "Acme Ltd" || got.Slug != slug {
		t.Fatalf("A after refused changes: %+v", got)
	}
}

// TestDefaultRoleOfNewUsers: users who arrive without a role (SCIM, single
// sign-on just in time, REST without "role") get the tenant's default.
func TestDefaultRoleOfNewUsers(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if r := e.patchTenant(e.A.Admin, map[string]any{"default_role": "developer"}); r.Status != http.StatusOK {
		t.Fatalf("set the default role: %d %s", r.Status, r.Body)
	}
	if u := e.scimUser(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "scim-new@example.com"}); u.Role != "developer" {
		t.Fatalf("SCIM user's role %q", u.Role)
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": "rest-new@example.com"}})
	if r.Status != http.StatusCreated || r.Object(t)["role"] != "developer" {
		t.Fatalf("REST user: %d %s", r.Status, r.Body)
	}
	r = e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": "rest-viewer@example.com", "role": "viewer"}})
	if r.Status != http.StatusCreated || r.Object(t)["role"] != "viewer" {
		t.Fatalf("a role given wins: %d %s", r.Status, r.Body)
	}

	// A connection that names no default role and maps none of the
	// user's groups creates them with the tenant's.
	grace := testkit.OIDCUser{ID: "okta-grace", Username: "grace", Password: "verysecure", Email: "grace@acme.test",
		EmailVerified: true, GivenName: "Grace", FamilyName: "Hopper", Groups: []string{"Navy"}}
	op := startOP(t, grace)
	conn := e.createOIDCConnection(e.A, op, nil)
	if _, tok := e.signInVia(op, conn, "grace"); tok.Status != http.StatusOK {
		t.Fatalf("JIT sign-in: %d %s", tok.Status, tok.Body)
	}
	users, err := store.NewUserService(e.DB).FindUsersByEmail(context.Background(), e.A.ID, "grace@acme.test")
	if err != nil || len(users) != 1 || users[0].Role != "developer" {
		t.Fatalf("JIT user: %v %+v", err, users)
	}
}
