package main_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// consoleCustomRole: on an enterprise tenant, a custom role made over the
// API is offered by every role picker and the directory's filter, and an
// admin gives it to a user from the user's page.
func consoleCustomRole(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSiteOnPlan(t, inbox, "Console Custom Role", "enterprise")
	site.createRole("helpdesk", "users:read", "users:write")
	id := site.createUser("hugo@customrole.example", "viewer")

	b := newBrowser(t)
	site.setupAdmin(b, consolePassword)
	b.do(chromedp.Navigate(site.origin + "/console/users/" + id))
	b.waitReady("/console/users/" + id)
	b.waitFor("the custom role in the picker", `!!document.querySelector('#profile-form select[name=role] option[value="helpdesk"]')`)
	b.axe("user with a custom role to give")
	b.do(chromedp.SetValue(chromedp.CSS("#profile-form select[name=role]"), "helpdesk"))
	b.click("#profile-save")
	b.waitMessage("Saved.")
	var u struct{ Role string }
	if site.call("GET", "/users/"+id, site.tenant.AdminToken, nil, &u); u.Role != "helpdesk" {
		t.Fatalf("the user's role is %q after the console gave helpdesk", u.Role)
	}
	b.waitFor("the role shown", `document.querySelector('#profile-form select[name=role]').value === 'helpdesk'`)

	b.do(chromedp.Navigate(site.origin + "/console/users?role=helpdesk"))
	b.waitReady("/console/users")
	b.waitText("#count", "1 matching user")
	for _, sel := range []string{"#filter-role", "#bulk-role"} {
		if !eval[bool](b, fmt.Sprintf(`!!document.querySelector('%s option[value="helpdesk"]')`, sel)) {
			t.Errorf("%s does not offer the custom role", sel)
		}
	}
	b.click(`#nav a[data-screen="invitations"]`)
	b.waitReady("/console/invitations")
	if !eval[bool](b, `!!document.querySelector('#invite-role option[value="helpdesk"]')`) {
		t.Error("the invitation form does not offer the custom role")
	}
	b.click(`#nav a[data-screen="settings"]`)
	b.waitReady("/console/settings")
	b.click("#group-add")
	if !eval[bool](b, `!!document.querySelector('#group-roles select option[value="helpdesk"]')`) {
		t.Error("the group mapping does not offer the custom role")
	}
}

// consoleCustomRoleHolder: a user whose custom role may read and change
// users, and read the audit trail, but not change the tenant's settings,
// is shown the controls that change users and the settings read-only.
func consoleCustomRoleHolder(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSiteOnPlan(t, inbox, "Console Role Holder", "enterprise")
	// Without mfa:enroll: what a viewer may do only to themselves does not
	// put them above the role.
	site.createRole("support", "users:read", "users:write", "audit:read")
	const email = "sue@roleholder.example"
	site.createUser(email, "support")
	other := site.createUser("otto@roleholder.example", "viewer")

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/console/users/" + other))
	b.waitFor("the sign-in form", `!!document.getElementById('signin-form')`)
	site.signInConsole(b, email, consolePassword, nil)
	b.waitReady("/console/users/" + other)
	for _, sel := range []string{"#profile-save", "#toggle-active", "#profile-form select[name=role]"} {
		if !b.exists(sel) {
			t.Errorf("a holder of users:write does not see %s on a user", sel)
		}
	}
	b.axe("user as a holder of a custom role")
	b.fill("#profile-form [name=given_name]", "Otto")
	b.click("#profile-save")
	b.waitMessage("Saved.")

	b.click(`#nav a[data-screen="users"]`)
	b.waitReady("/console/users")
	b.waitFor("the list", `document.body.dataset.listReady === 'true'`)
	for _, sel := range []string{"#bulk", ".select-user"} {
		if !b.exists(sel) {
			t.Errorf("a holder of users:write does not see %s in the directory", sel)
		}
	}
	b.click(`#nav a[data-screen="invitations"]`)
	b.waitReady("/console/invitations")
	if !b.exists("#invite-form") {
		t.Error("a holder of users:write does not see the invitation form")
	}

	// Without tenant:write the policy is shown, and nothing changes it;
	// without tokens:write there are no SCIM tokens.
	b.click(`#nav a[data-screen="settings"]`)
	b.waitReady("/console/settings")
	for _, sel := range []string{"#policy-save", "#scim-token-form", "#scim-token-create"} {
		if b.exists(sel) {
			t.Errorf("a user without tenant:write sees %s", sel)
		}
	}
	if !eval[bool](b, `[...document.getElementById('policy-form').elements].every((c) => c.disabled)`) {
		t.Error("the policy form can be edited without tenant:write")
	}
	b.axe("settings without tenant:write")
}

// createRole makes a custom role of the tenant over the API.
func (s *consoleSite) createRole(name string, permissions ...string) {
	s.t.Helper()
	if status := s.call("POST", "/roles", s.tenant.AdminToken, map[string]any{"name": name, "permissions": permissions}, nil); status != http.StatusCreated {
		s.t.Fatalf("create role %s: %d", name, status)
	}
}

// createUser makes a user with role and consolePassword, and returns its id.
func (s *consoleSite) createUser(email, role string) string {
	s.t.Helper()
	var u struct{ ID string }
	if status := s.call("POST", "/users", s.tenant.AdminToken, map[string]any{"email": email, "role": role, "password": consolePassword}, &u); status != http.StatusCreated {
		s.t.Fatalf("create user %s: %d", email, status)
	}
	return u.ID
}
