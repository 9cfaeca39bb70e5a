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
			"[api_keys:write audit:read mfa:enroll tenant:write tokens:write users:export users:read users:write]"},
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
