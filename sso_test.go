package roster_test

import (
	"testing"

	"github.com/rosterhq/roster"
)

func TestSSOConnectionValidate(t *testing.T) {
	valid := func() *roster.SSOConnection {
		c := &roster.SSOConnection{Type: roster.SSOTypeOIDC, Name: "Okta", Issuer: "https://acme.okta.com",
			ClientID: "client", Domains: []string{" Acme.COM. "}, GroupRoles: map[string]string{"Admins": "admin"}}
		c.Normalize()
		return c
	}
	c := valid()
	if err := c.Validate(); err != nil {
		t.Fatalf("valid connection: %v", err)
	}
	if c.Domains[0] != "acme.com" || c.DefaultRole != "" || c.Claims.Email != "email" || c.Scopes[0] != "openid" {
		t.Fatalf("normalized: %+v", c)
	}
	for field, edit := range map[string]func(*roster.SSOConnection){
		"issuer":       func(c *roster.SSOConnection) { c.Issuer = "https://login.microsoftonline.com/common/v2.0" },
		"client_id":    func(c *roster.SSOConnection) { c.ClientID = "" },
		"default_role": func(c *roster.SSOConnection) { c.DefaultRole = "Owner!" },
		"group_roles":  func(c *roster.SSOConnection) { c.GroupRoles = map[string]string{"x": "root role"} },
		"domains":      func(c *roster.SSOConnection) { c.Domains = []string{"localhost"} },
		"scopes":       func(c *roster.SSOConnection) { c.Scopes = []string{"openid profile"} },
		"type":         func(c *roster.SSOConnection) { c.Type = "ldap" },
	} {
		c := valid()
		edit(c)
		err := c.Validate()
		if fields := roster.ErrorFields(err); len(fields) == 0 || fields[0].Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	for _, issuer := range []string{"https://login.microsoftonline.com/organizations/v2.0", "https://login.microsoftonline.com/consumers/v2.0",
		"http://idp.example.com", "http://169.254.169.254/latest"} {
		c := valid()
		c.Issuer = issuer
		if c.Validate() == nil {
			t.Errorf("%s accepted", issuer)
		}
	}
	for _, issuer := range []string{"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
		"http://localhost:8081/realms/acme", "http://127.0.0.1:5556/dex"} {
		c = valid()
		c.Issuer = issuer
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", issuer, err)
		}
	}
}

func TestSSOConnectionRolesFor(t *testing.T) {
	c := &roster.SSOConnection{GroupRoles: map[string]string{"Admins": "admin", "Eng": "developer", "Support": "support"}}
	grants := map[string][]roster.Permission{"admin": roster.BuiltInPermissions("admin"),
		"developer": roster.BuiltInPermissions("developer"), "support": {roster.PermUsersRead, roster.PermUsersWrite, roster.PermMFAEnroll, roster.PermAuditRead}}
	if r := roster.HighestRole(c.RolesFor([]string{"Eng", "Admins", "Other"}), grants); r != roster.RoleAdmin {
		t.Fatalf("highest mapped role: %q", r)
	}
	if r := roster.HighestRole(c.RolesFor([]string{"Eng", "Support"}), grants); r != "support" {
		t.Fatalf("a custom role granting more than developer: %q", r)
	}
	if roles := c.RolesFor([]string{"Other"}); len(roles) != 0 {
		t.Fatalf("an unmapped group gave roles %v", roles)
	}
}
