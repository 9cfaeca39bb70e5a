package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testtenant"
)

// roleOperations are the role, grant and permission operations, for the
// lists every operation is held to.
func roleOperations(e *testEnv) []request {
	user := "/api/v1/users/" + e.A.AdminID
	return []request{
		{Method: "GET", Path: "/api/v1/permissions"},
		{Method: "POST", Path: "/api/v1/permissions/check", Body: map[string]any{"user_id": e.A.AdminID, "permission": "users:read"}},
		{Method: "GET", Path: "/api/v1/roles"},
		{Method: "POST", Path: "/api/v1/roles", Body: map[string]any{"name": "op", "permissions": []string{"users:read"}}},
		{Method: "GET", Path: "/api/v1/roles/" + fakeID},
		{Method: "PATCH", Path: "/api/v1/roles/" + fakeID, Body: map[string]any{"description": "op"}},
		{Method: "DELETE", Path: "/api/v1/roles/" + fakeID},
		{Method: "GET", Path: user + "/permissions"},
		{Method: "GET", Path: user + "/grants"},
		{Method: "POST", Path: user + "/grants", Body: map[string]any{"role": "admin", "reason": "op", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)}},
		{Method: "DELETE", Path: user + "/grants/" + fakeID},
	}
}

// enterprise is a tenant on the enterprise plan, where custom roles and
// grants are.
func (e *testEnv) enterprise() tenantCreds {
	return testtenant.NewTenantOnPlan(e.t, e.DB, roster.PlanEnterprise)
}

// createRole creates a role with the token and returns its id.
func (e *testEnv) createRole(token string, body map[string]any) string {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/roles", Token: token, Body: body})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create role %v: %d %s", body, r.Status, r.Body)
	}
	return r.Object(e.t)["id"].(string)
}

// userWithRole creates a user with a password and role in the tenant and
// signs them in, returning their id and access token.
func (e *testEnv) userWithRole(c tenantCreds, name, role string) (string, string) {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: c.Admin, Body: map[string]any{
		"email": name + "@example.com", "user_name": name, "password": goodPassword, "role": role}})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create %s as %s: %d %s", name, role, r.Status, r.Body)
	}
	id := r.Object(e.t)["id"].(string)
	var tok tokens
	l := login(e, c.ID, name, goodPassword)
	l.JSON(e.t, &tok)
	if l.Status != http.StatusOK || tok.AccessToken == "" {
		e.t.Fatalf("login %s: %d %s", name, l.Status, l.Body)
	}
	return id, tok.AccessToken
}

func wantCode(t *testing.T, r response, status int, code string) {
	t.Helper()
	wantProblem(t, r, status, "")
	if got := r.Object(t)["code"]; got != code {
		t.Fatalf("code %v, want %s: %s", got, code, r.Body)
	}
}

func (e *testEnv) allowed(token, userID, perm string) bool {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/permissions/check", Token: token, Body: map[string]any{"user_id": userID, "permission": perm}})
	if r.Status != http.StatusOK {
		e.t.Fatalf("check %s: %d %s", perm, r.Status, r.Body)
	}
	return r.Object(e.t)["allowed"].(bool)
}

func TestPermissionCatalogue(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	e.createRole(c.Admin, map[string]any{"name": "mcp-admin", "permissions": []string{"users:read", "app:mcp.configure"}})
	r := e.do(request{Method: "GET", Path: "/api/v1/permissions", Token: c.Viewer})
	var cat struct {
		Categories []struct {
			Name        string
			Permissions []struct{ Name string }
		}
	}
	r.JSON(t, &cat)
	byCategory := map[string][]string{}
	for _, c := range cat.Categories {
		for _, p := range c.Permissions {
			byCategory[c.Name] = append(byCategory[c.Name], p.Name)
		}
	}
	if r.Status != 200 || !slices.Contains(byCategory["User Management"], "users:write") ||
		!slices.Contains(byCategory["Organisation Settings"], "roles:write") || !slices.Contains(byCategory["API Access"], "scim:provision") ||
		!slices.Contains(byCategory["Application"], "app:mcp.configure") || !slices.Contains(byCategory["Security"], "mfa:enroll") {
		t.Fatalf("catalogue: %d %s", r.Status, r.Body)
	}
	// Another tenant's application permissions are not in it.
	other := e.do(request{Method: "GET", Path: "/api/v1/permissions", Token: e.A.Admin})
	if other.Status != 200 || strings.Contains(string(other.Body), "mcp.configure") {
		t.Fatalf("tenant A's catalogue: %d %s", other.Status, other.Body)
	}
	// A SCIM token may do none of it.
	for _, op := range roleOperations(e) {
		op.Token = e.A.SCIM
		wantProblem(t, e.do(op), http.StatusForbidden, "")
	}

	// The check: the admin holds every application permission.
	if !e.allowed(c.Viewer, c.AdminID, "app:mcp.configure") || !e.allowed(c.Viewer, c.AdminID, "roles:write") {
		t.Fatal("the admin lacks a permission")
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/permissions/check", Token: c.Viewer,
		Body: map[string]any{"user_id": c.AdminID, "permission": "launch:missiles"}}), http.StatusBadRequest, "permission")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/permissions/check", Token: c.Viewer,
		Body: map[string]any{"user_id": c.AdminID}, Invalid: true}), http.StatusBadRequest, "permission")
}

func TestCustomRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()

	// Built-ins are listed and read-only.
	list := e.do(request{Method: "GET", Path: "/api/v1/roles", Token: c.Viewer})
	if list.Status != 200 || !strings.Contains(string(list.Body), `"id":"admin"`) || !strings.Contains(string(list.Body), `"built_in":true`) {
		t.Fatalf("roles: %d %s", list.Status, list.Body)
	}
	admin := e.do(request{Method: "GET", Path: "/api/v1/roles/admin", Token: c.Viewer})
	if admin.Status != 200 || !strings.Contains(string(admin.Body), "roles:write") {
		t.Fatalf("admin role: %d %s", admin.Status, admin.Body)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/roles/admin", Token: c.Admin, Body: map[string]any{"description": "x"}}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/roles/viewer", Token: c.Admin}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/roles/" + fakeID, Token: c.Admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/roles/nope", Token: c.Admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + fakeID, Token: c.Admin, Body: map[string]any{"description": "x"}}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/roles/" + fakeID, Token: c.Admin}), http.StatusNotFound, "")

	// A role from a template, adjusted.
	id := e.createRole(c.Admin, map[string]any{"name": "support", "template": "developer"})
	got := e.do(request{Method: "GET", Path: "/api/v1/roles/" + id, Token: c.Viewer}).Object(t)
	if got["built_in"] != false || len(got["permissions"].([]any)) != len(roster.BuiltInPermissions(roster.RoleDeveloper)) {
		t.Fatalf("from the developer template: %v", got)
	}
	patched := e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + id, Token: c.Admin,
		Body: map[string]any{"permissions": []string{"users:read", "users:write", "mfa:enroll", "app:tickets.close"}}})
	if patched.Status != 200 || !strings.Contains(string(patched.Body), "users:write") {
		t.Fatalf("adjusted: %d %s", patched.Status, patched.Body)
	}
	for _, bad := range []map[string]any{
		{"name": "support", "permissions": []string{"users:read"}},
		{"name": "admin", "permissions": []string{"users:read"}},
	} {
		r := e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Admin, Body: bad})
		if r.Status != http.StatusConflict && r.Status != http.StatusBadRequest {
			t.Fatalf("%v: %d %s", bad, r.Status, r.Body)
		}
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Admin, Body: map[string]any{"name": "support", "permissions": []string{"users:read"}}}), http.StatusConflict, "name")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Admin, Body: map[string]any{"name": "Bad Name", "permissions": []string{"users:read"}}}), http.StatusBadRequest, "name")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Admin, Body: map[string]any{"name": "x", "permissions": []string{"rule:world"}}}), http.StatusBadRequest, "permissions")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Admin, Body: map[string]any{"name": "x"}}), http.StatusBadRequest, "permissions")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Admin, Body: map[string]any{"name": "x", "template": "nope"}}), http.StatusBadRequest, "template")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: c.Developer, Body: map[string]any{"name": "x", "template": "viewer"}}), http.StatusForbidden, "")

	// A user's role may be the custom role wherever a role is set.
	userID, userToken := e.userWithRole(c, "sam", "support")
	if !e.allowed(c.Admin, userID, "users:write") || !e.allowed(c.Admin, userID, "app:tickets.close") || e.allowed(c.Admin, userID, "audit:read") {
		t.Fatal("the support role's permissions")
	}
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: userToken, Body: map[string]any{"email": "by-sam@example.com"}}); r.Status != 201 {
		t.Fatalf("support creates a user: %d %s", r.Status, r.Body)
	}
	perms := e.do(request{Method: "GET", Path: "/api/v1/users/" + userID + "/permissions", Token: c.Viewer}).Object(t)
	if perms["role"] != "support" || !strings.Contains(strings.Join(anyStrings(perms["permissions"]), " "), "app:tickets.close") {
		t.Fatalf("effective permissions: %v", perms)
	}
	invite := e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: c.Admin, Body: map[string]any{"email": "inv@example.com", "role": "support"}})
	if invite.Status != 201 {
		t.Fatalf("invite as support: %d %s", invite.Status, invite.Body)
	}
	other := e.createUsers(c.Admin, "bulk", 1, nil)[0]
	if res := e.bulk(c.Admin, map[string]any{"action": "set_role", "role": "support", "ids": []string{other}}); res.Succeeded != 1 {
		t.Fatalf("bulk set_role support: %+v", res)
	}
	if r := e.do(request{Method: "PUT", Path: "/api/v1/scim-group-roles", Token: c.Admin, Body: map[string]any{"mappings": map[string]string{"Helpdesk": "support"}}}); r.Status != 200 {
		t.Fatalf("map a group to support: %d %s", r.Status, r.Body)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/users?role=support", Token: c.Admin}); r.Status != 200 || len(r.Object(t)["items"].([]any)) != 2 {
		t.Fatalf("users with the role: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/users/" + other, "/api/v1/invitations"} {
		body := map[string]any{"role": "superuser"}
		if path == "/api/v1/invitations" {
			body["email"] = "x@example.com"
		}
		method := "PATCH"
		if path == "/api/v1/invitations" {
			method = "POST"
		}
		wantProblem(t, e.do(request{Method: method, Path: path, Token: c.Admin, Body: body}), http.StatusBadRequest, "role")
	}

	// An IdP's JWT naming the custom role gets its permissions.
	jwt := e.jwt(c.ID, []string{"support"}, nil)
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: jwt, Body: map[string]any{"email": "by-idp@example.com"}}); r.Status != 201 {
		t.Fatalf("an IdP support user: %d %s", r.Status, r.Body)
	}

	// In use: 409 naming how many hold it; renaming it too.
	del := e.do(request{Method: "DELETE", Path: "/api/v1/roles/" + id, Token: c.Admin})
	wantProblem(t, del, http.StatusConflict, "")
	if !strings.Contains(string(del.Body), "2 users hold it") {
		t.Fatalf("in use: %s", del.Body)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + id, Token: c.Admin, Body: map[string]any{"name": "helpdesk"}}), http.StatusConflict, "")

	// A change applies at the user's next request.
	e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + id, Token: c.Admin, Body: map[string]any{"permissions": []string{"users:read"}}})
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: userToken, Body: map[string]any{"email": "by-sam-2@example.com"}}), http.StatusForbidden, "")

	// Unused, it goes.
	spare := e.createRole(c.Admin, map[string]any{"name": "spare", "permissions": []string{"users:read"}})
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + spare, Token: c.Admin, Body: map[string]any{"name": "spare-2"}}); r.Status != 200 {
		t.Fatalf("rename an unused role: %d %s", r.Status, r.Body)
	}
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/roles/" + spare, Token: c.Admin}); r.Status != http.StatusNoContent {
		t.Fatalf("delete an unused role: %d %s", r.Status, r.Body)
	}
	actions := e.auditActions(c.Admin, "target_id="+spare)
	if !slices.Contains(actions, "role.created") || !slices.Contains(actions, "role.updated") || !slices.Contains(actions, "role.deleted") {
		t.Fatalf("audit: %v", actions)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestPlanRequired(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	wantCode(t, e.do(request{Method: "POST", Path: "/api/v1/roles", Token: e.A.Admin, Body: map[string]any{"name": "support", "template": "viewer"}}), http.StatusForbidden, "plan_required")
	wantCode(t, e.do(request{Method: "POST", Path: "/api/v1/users/" + e.A.AdminID + "/grants", Token: e.A.Admin, Body: map[string]any{
		"role": "admin", "reason": "x", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)}}), http.StatusForbidden, "plan_required")
	// Reading the built-ins needs no plan.
	if r := e.do(request{Method: "GET", Path: "/api/v1/roles", Token: e.A.Viewer}); r.Status != 200 {
		t.Fatalf("roles on free: %d %s", r.Status, r.Body)
	}
}

// TestPrivilegeEscalation: a user who may manage users and roles, but not
// everything, tries to reach beyond their own permissions every way.
func TestPrivilegeEscalation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	e.createRole(c.Admin, map[string]any{"name": "manager", "permissions": []string{"users:read", "users:write", "roles:write", "mfa:enroll"}})
	victim := e.createUsers(c.Admin, "victim", 1, nil)[0]
	managerID, token := e.userWithRole(c, "mia", "manager")
	future := time.Now().Add(time.Hour).Format(time.RFC3339)

	for _, tc := range []struct {
		name string
		req  request
	}{
		{"a role with more than mine", request{Method: "POST", Path: "/api/v1/roles", Body: map[string]any{"name": "mine", "permissions": []string{"users:read", "tenant:write"}}}},
		{"a role from the admin template", request{Method: "POST", Path: "/api/v1/roles", Body: map[string]any{"name": "boss", "template": "admin"}}},
		{"an application permission I lack", request{Method: "POST", Path: "/api/v1/roles", Body: map[string]any{"name": "app", "permissions": []string{"app:mcp.configure"}}}},
		{"assign admin", request{Method: "PATCH", Path: "/api/v1/users/" + victim, Body: map[string]any{"role": "admin"}}},
		{"promote myself", request{Method: "PATCH", Path: "/api/v1/users/" + managerID, Body: map[string]any{"role": "admin"}}},
		{"create an admin", request{Method: "POST", Path: "/api/v1/users", Body: map[string]any{"email": "new-admin@example.com", "role": "admin"}}},
		{"invite an admin", request{Method: "POST", Path: "/api/v1/invitations", Body: map[string]any{"email": "inv-admin@example.com", "role": "admin"}}},
		{"bulk set_role admin", request{Method: "POST", Path: "/api/v1/users/bulk", Body: map[string]any{"action": "set_role", "role": "admin", "ids": []string{victim}}}},
		{"map a group to admin", request{Method: "PUT", Path: "/api/v1/scim-group-roles", Body: map[string]any{"mappings": map[string]string{"Everyone": "admin"}}}},
		{"grant myself admin", request{Method: "POST", Path: "/api/v1/users/" + managerID + "/grants", Body: map[string]any{"role": "admin", "reason": "please", "expires_at": future}}},
		{"grant admin to another", request{Method: "POST", Path: "/api/v1/users/" + victim + "/grants", Body: map[string]any{"role": "admin", "reason": "please", "expires_at": future}}},
		{"demote the admin", request{Method: "PATCH", Path: "/api/v1/users/" + c.AdminID, Body: map[string]any{"role": "viewer"}}},
		{"deactivate the admin", request{Method: "PATCH", Path: "/api/v1/users/" + c.AdminID, Body: map[string]any{"active": false}}},
		{"delete the admin", request{Method: "DELETE", Path: "/api/v1/users/" + c.AdminID}},
		{"take the admin's address", request{Method: "PATCH", Path: "/api/v1/users/" + c.AdminID, Body: map[string]any{"email": "mia-too@example.com"}}},
		{"edit the manager role up", request{Method: "PATCH", Path: "/api/v1/roles/manager-id", Body: map[string]any{"permissions": []string{"users:read", "users:write", "roles:write", "mfa:enroll", "audit:read"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if strings.HasSuffix(req.Path, "manager-id") {
				req.Path = "/api/v1/roles/" + e.roleID(c, "manager")
			}
			req.Token = token
			wantProblem(t, e.do(req), http.StatusForbidden, "")
		})
	}
	// Nothing changed.
	if u := e.user(c.Admin, victim); u["role"] != "viewer" {
		t.Fatalf("victim: %v", u)
	}
	if u := e.user(c.Admin, c.AdminID); u["role"] != "admin" || u["active"] != true {
		t.Fatalf("admin: %v", u)
	}
	if e.allowed(c.Admin, managerID, "tenant:write") {
		t.Fatal("the manager gained tenant:write")
	}
	// Within their own permissions they may act.
	e.createRole(token, map[string]any{"name": "reader", "permissions": []string{"users:read"}})
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + victim, Token: token, Body: map[string]any{"role": "reader"}}); r.Status != 200 {
		t.Fatalf("assign a lesser role: %d %s", r.Status, r.Body)
	}
	if r := e.do(request{Method: "POST", Path: "/api/v1/users/" + victim + "/grants", Token: token,
		Body: map[string]any{"role": "manager", "reason": "cover", "expires_at": future}}); r.Status != 201 {
		t.Fatalf("grant my own role: %d %s", r.Status, r.Body)
	}
	// What a viewer may do only to themselves (enrol a second factor) does
	// not put them above a role without it.
	e.createRole(c.Admin, map[string]any{"name": "support", "permissions": []string{"users:read", "users:write"}})
	_, support := e.userWithRole(c, "sam", "support")
	viewer := e.createUsers(c.Admin, "plain-viewer", 1, nil)[0]
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + viewer, Token: support, Body: map[string]any{"given_name": "Renamed"}}); r.Status != 200 {
		t.Fatalf("support edits a viewer: %d %s", r.Status, r.Body)
	}
}

// roleID finds a role's id by name.
func (e *testEnv) roleID(c tenantCreds, name string) string {
	e.t.Helper()
	var list struct{ Items []struct{ ID, Name string } }
	e.do(request{Method: "GET", Path: "/api/v1/roles", Token: c.Admin}).JSON(e.t, &list)
	for _, r := range list.Items {
		if r.Name == name {
			return r.ID
		}
	}
	e.t.Fatalf("no role %s", name)
	return ""
}

// TestLastHolderOfRolesWrite: the tenant always keeps an active user who
// may manage roles, whatever the role that gives it.
func TestLastHolderOfRolesWrite(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	owner := e.createRole(c.Admin, map[string]any{"name": "owner", "template": "admin"})
	ownerID, ownerToken := e.userWithRole(c, "olga", "owner")
	// The owner demotes the admin: they still hold roles:write.
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + c.AdminID, Token: ownerToken, Body: map[string]any{"role": "viewer"}}); r.Status != 200 {
		t.Fatalf("demote the admin: %d %s", r.Status, r.Body)
	}
	// Now the owner is the last holder: their role keeps roles:write, and
	// they stay.
	r := e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + owner, Token: ownerToken, Body: map[string]any{"permissions": []string{"users:read", "users:write"}}})
	wantProblem(t, r, http.StatusConflict, "")
	if !strings.Contains(string(r.Body), "roles:write") {
		t.Fatalf("last holder: %s", r.Body)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: ownerToken, Body: map[string]any{"active": false}}), http.StatusConflict, "")
	jwtAdmin := e.jwt(c.ID, []string{"admin"}, nil)
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/users/" + ownerID, Token: jwtAdmin, Body: map[string]any{"role": "viewer"}}), http.StatusConflict, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/users/" + ownerID, Token: jwtAdmin}), http.StatusConflict, "")
	// With another holder, the owner may go.
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + c.AdminID, Token: ownerToken, Body: map[string]any{"role": "admin"}}); r.Status != 200 {
		t.Fatalf("promote the admin again: %d %s", r.Status, r.Body)
	}
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + owner, Token: jwtAdmin, Body: map[string]any{"permissions": []string{"users:read"}}}); r.Status != 200 {
		t.Fatalf("take roles:write from owner: %d %s", r.Status, r.Body)
	}
}

// TestGrantExpiresToTheSecond moves the store's clock: a grant gives its
// role until expires_at and not a second longer, at every request.
func TestGrantExpiresToTheSecond(t *testing.T) {
	e := newTestEnv(t)
	c := e.enterprise()
	userID, token := e.userWithRole(c, "gus", "viewer")
	start := time.Now().UTC().Truncate(time.Second)
	e.DB.Now = func() time.Time { return start }
	end := start.Add(time.Hour)
	path := "/api/v1/users/" + userID + "/grants"

	wantProblem(t, e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "admin", "reason": "x", "expires_at": start.Add(31 * 24 * time.Hour).Format(time.RFC3339)}}), http.StatusBadRequest, "expires_at")
	wantProblem(t, e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "admin", "reason": "x", "expires_at": start.Add(-time.Second).Format(time.RFC3339)}}), http.StatusBadRequest, "expires_at")
	wantProblem(t, e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "admin", "expires_at": end.Format(time.RFC3339)}, Invalid: true}), http.StatusBadRequest, "reason")
	wantProblem(t, e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "nope", "reason": "x", "expires_at": end.Format(time.RFC3339)}}), http.StatusBadRequest, "role")
	wantProblem(t, e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "admin", "reason": "x", "expires_at": "tomorrow"}}), http.StatusBadRequest, "expires_at")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/" + fakeID + "/grants", Token: c.Admin, Body: map[string]any{"role": "admin", "reason": "x", "expires_at": end.Format(time.RFC3339)}}), http.StatusNotFound, "")

	created := e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "admin", "reason": "incident 42", "expires_at": end.Format(time.RFC3339)}})
	if created.Status != 201 || created.Object(t)["status"] != "active" {
		t.Fatalf("grant: %d %s", created.Status, created.Body)
	}
	grantID := created.Object(t)["id"].(string)
	if !e.allowed(c.Viewer, userID, "audit:read") {
		t.Fatal("the grant gives nothing")
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/audit-events", Token: token}); r.Status != 200 {
		t.Fatalf("the user's own token under the grant: %d %s", r.Status, r.Body)
	}
	perms := e.do(request{Method: "GET", Path: "/api/v1/users/" + userID + "/permissions", Token: c.Viewer}).Object(t)
	if fmtList(perms["grant_roles"]) != "admin" || perms["role"] != "viewer" {
		t.Fatalf("effective: %v", perms)
	}

	e.DB.Now = func() time.Time { return end.Add(-time.Second) }
	if !e.allowed(c.Viewer, userID, "audit:read") {
		t.Fatal("the grant ended a second early")
	}
	e.DB.Now = func() time.Time { return end }
	if e.allowed(c.Viewer, userID, "audit:read") {
		t.Fatal("the grant outlived its expiry")
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/audit-events", Token: token}), http.StatusForbidden, "")

	// Its end is in the list and, once looked at, in the audit trail.
	list := e.do(request{Method: "GET", Path: path, Token: c.Viewer})
	if list.Status != 200 || !strings.Contains(string(list.Body), `"status":"expired"`) {
		t.Fatalf("grants: %d %s", list.Status, list.Body)
	}
	actions := e.auditActions(c.Admin, "target_id="+userID)
	if !slices.Contains(actions, "grant.created") || !slices.Contains(actions, "grant.expired") {
		t.Fatalf("audit: %v", actions)
	}
	wantProblem(t, e.do(request{Method: "DELETE", Path: path + "/" + grantID, Token: c.Admin}), http.StatusConflict, "")

	// Revoked: it stops at once.
	second := e.do(request{Method: "POST", Path: path, Token: c.Admin, Body: map[string]any{"role": "admin", "reason": "again", "expires_at": end.Add(time.Hour).Format(time.RFC3339)}}).Object(t)["id"].(string)
	if !e.allowed(c.Viewer, userID, "audit:read") {
		t.Fatal("the second grant gives nothing")
	}
	if r := e.do(request{Method: "DELETE", Path: path + "/" + second, Token: c.Admin}); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if e.allowed(c.Viewer, userID, "audit:read") {
		t.Fatal("a revoked grant still gives its role")
	}
	if !slices.Contains(e.auditActions(c.Admin, "target_id="+userID), "grant.revoked") {
		t.Fatal("revocation not audited")
	}
	wantProblem(t, e.do(request{Method: "DELETE", Path: path + "/" + fakeID, Token: c.Admin}), http.StatusNotFound, "")
	// A deactivated user holds nothing.
	e.do(request{Method: "PATCH", Path: "/api/v1/users/" + userID, Token: c.Admin, Body: map[string]any{"active": false}})
	if e.allowed(c.Viewer, userID, "users:read") {
		t.Fatal("a deactivated user holds a permission")
	}
	if p := e.do(request{Method: "GET", Path: "/api/v1/users/" + userID + "/permissions", Token: c.Viewer}).Object(t); len(p["permissions"].([]any)) != 0 {
		t.Fatalf("deactivated: %v", p)
	}
}

func fmtList(v any) string {
	return strings.Join(anyStrings(v), ",")
}

// TestRolesAcrossTenants: another tenant's roles, users and grants are
// not found through any of the endpoints.
func TestRolesAcrossTenants(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a, b := e.enterprise(), e.enterprise()
	role := e.createRole(a.Admin, map[string]any{"name": "secret-role", "permissions": []string{"users:read", "app:vault.open"}})
	userID, _ := e.userWithRole(a, "ann", "secret-role")
	future := time.Now().Add(time.Hour).Format(time.RFC3339)
	created := e.do(request{Method: "POST", Path: "/api/v1/users/" + userID + "/grants", Token: a.Admin,
		Body: map[string]any{"role": "admin", "reason": "x", "expires_at": future}})
	if created.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", created.Status, created.Body)
	}
	grant := created.Object(t)["id"].(string)
	for _, req := range []request{
		{Method: "GET", Path: "/api/v1/roles/" + role},
		{Method: "PATCH", Path: "/api/v1/roles/" + role, Body: map[string]any{"description": "mine now"}},
		{Method: "DELETE", Path: "/api/v1/roles/" + role},
		{Method: "GET", Path: "/api/v1/users/" + userID + "/permissions"},
		{Method: "GET", Path: "/api/v1/users/" + userID + "/grants"},
		{Method: "POST", Path: "/api/v1/users/" + userID + "/grants", Body: map[string]any{"role": "admin", "reason": "x", "expires_at": future}},
		{Method: "DELETE", Path: "/api/v1/users/" + userID + "/grants/" + grant},
		{Method: "POST", Path: "/api/v1/permissions/check", Body: map[string]any{"user_id": userID, "permission": "users:read"}},
	} {
		req.Token = b.Admin
		wantProblem(t, e.do(req), http.StatusNotFound, "")
	}
	// B cannot set A's role on its own users either.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: b.Admin, Body: map[string]any{"email": "x@example.com", "role": "secret-role"}}), http.StatusBadRequest, "role")
	for _, path := range []string{"/api/v1/roles", "/api/v1/permissions"} {
		if r := e.do(request{Method: "GET", Path: path, Token: b.Admin}); strings.Contains(string(r.Body), "secret-role") || strings.Contains(string(r.Body), "vault.open") {
			t.Fatalf("%s shows tenant A's: %s", path, r.Body)
		}
	}
	// A's grant still stands.
	if !e.allowed(a.Admin, userID, "audit:read") {
		t.Fatal("tenant A's grant was touched")
	}
}

// TestSSOGivesCustomRoles: a connection maps a provider's groups to custom
// roles, and of several the one that grants most wins.
func TestSSOGivesCustomRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if _, err := openTestDB(t).Exec(`UPDATE tenants SET plan = 'enterprise' WHERE id = $1`, e.A.ID); err != nil {
		t.Fatal(err)
	}
	e.createRole(e.A.Admin, map[string]any{"name": "okta-eng", "permissions": []string{"users:read", "users:write", "mfa:enroll", "app:deploy"}})
	op := startOP(t, ada)
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Admin, Body: map[string]any{
		"type": "oidc", "name": "x", "issuer": op.URL, "client_id": testOIDCClientID, "client_secret": testOIDCSecret,
		"default_role": "okta-ops"}}), http.StatusBadRequest, "default_role")
	conn := e.createOIDCConnection(e.A, op, map[string]any{"group_roles": map[string]string{"Engineers": "okta-eng", "Okta Admins": "developer"}})
	_, tokens := e.signInVia(op, conn, "ada")
	if tokens.Status != 200 {
		t.Fatalf("exchange: %d %s", tokens.Status, tokens.Body)
	}
	me := e.do(request{Method: "GET", Path: "/api/v1/me", Token: tokens.Object(t)["access_token"].(string)})
	if u := me.Object(t); me.Status != 200 || u["role"] != "okta-eng" || !strings.Contains(string(me.Body), "app:deploy") {
		t.Fatalf("me: %d %s", me.Status, me.Body)
	}
	del := e.do(request{Method: "DELETE", Path: "/api/v1/roles/" + e.roleID(e.A, "okta-eng"), Token: e.A.Admin})
	wantProblem(t, del, http.StatusConflict, "")
	if !strings.Contains(string(del.Body), "1 user holds it") || !strings.Contains(string(del.Body), "SSO connection") {
		t.Fatalf("in use: %s", del.Body)
	}
}
