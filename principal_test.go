package roster_test

import (
	"fmt"
	"testing"

	"github.com/rosterhq/roster"
)

func TestPrincipalPermissions(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *roster.Principal
		want string
	}{
		{"admin", &roster.Principal{Roles: []string{roster.RoleAdmin}},
			"[api_keys:write app:* audit:read mfa:enroll roles:write teams:write tenant:write tokens:write users:export users:read users:write]"},
		{"admin token narrowed by scopes", &roster.Principal{Roles: []string{roster.RoleAdmin}, Scopes: []string{"users:read", "audit:read"}},
			"[audit:read users:read]"},
		{"SCIM token", &roster.Principal{Roles: []string{roster.RoleAdmin}, Scopes: []string{"scim:provision"}}, "[scim:provision]"},
		{"developer", &roster.Principal{Roles: []string{roster.RoleDeveloper}}, "[api_keys:write mfa:enroll users:read]"},
		{"vault reader", &roster.Principal{Roles: []string{roster.RoleAdmin}, Scopes: []string{"service_tokens:read"}}, "[service_tokens:read]"},
		{"enrolment only", &roster.Principal{Roles: []string{roster.RoleAdmin}, Scopes: []string{"mfa:enroll"}}, "[mfa:enroll]"},
		{"unknown role", &roster.Principal{Roles: []string{"owner"}}, "[]"},
	} {
		if got := fmt.Sprint(tc.p.Permissions()); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestRoleRules(t *testing.T) {
	r := &roster.Role{Name: " support ", Permissions: []roster.Permission{"users:read", "app:mcp.configure", "users:read"}}
	r.Normalize()
	if err := r.Validate(); err != nil || fmt.Sprint(r.Permissions) != "[app:mcp.configure users:read]" || r.Name != "support" {
		t.Fatalf("normalized %+v: %v", r, err)
	}
	empty := &roster.Role{Name: "placeholder", Permissions: []roster.Permission{}}
	empty.Normalize()
	if err := empty.Validate(); err != nil {
		t.Fatalf("a role of no permissions: %v", err)
	}
	for _, bad := range []*roster.Role{
		{Name: "admin", Permissions: []roster.Permission{}},
		{Name: "Support Team", Permissions: []roster.Permission{}},
		{Name: "x", Permissions: []roster.Permission{"app:"}},
		{Name: "x", Permissions: []roster.Permission{"APP:X"}},
		{Name: "x"},
	} {
		if roster.ErrorCode(bad.Validate()) != roster.EINVALID {
			t.Errorf("%+v passed", bad)
		}
	}
	admin := roster.BuiltInPermissions(roster.RoleAdmin)
	if !roster.Holds(admin, "app:anything.at-all") || roster.Holds(roster.BuiltInPermissions(roster.RoleViewer), "app:x") {
		t.Fatal("app:* stands for every application permission, and only it")
	}
	if missing, ok := roster.Covers(roster.BuiltInPermissions(roster.RoleDeveloper), admin); ok || missing == "" {
		t.Fatal("developer covers admin")
	}
	grants := map[string][]roster.Permission{"admin": admin, "developer": roster.BuiltInPermissions("developer"),
		"viewer": roster.BuiltInPermissions("viewer")}
	if h := roster.HighestRole([]string{"viewer", "developer"}, grants); h != "developer" {
		t.Fatalf("developer ranks above viewer: %s", h)
	}
	if h := roster.HighestRole(nil, grants); h != "viewer" {
		t.Fatalf("no role: %s", h)
	}
}
