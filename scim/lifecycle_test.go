package scim_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

func TestSCIMDeactivationRevokesTheUsersTokens(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	created := e.call("POST", "/scim/v2/Users", e.A.SCIM, oktaUser("leaver@example.com")).must(t, 201)
	id := str(created.Body, "id")
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	tok := &roster.APIToken{Name: "leaver's script", Role: roster.RoleViewer, Prefix: prefix, Hash: hash, UserID: &id}
	if err := store.NewTokenService(e.DB).CreateToken(context.Background(), e.A.ID, roster.Actor{Type: "system", ID: "test"}, tok); err != nil {
		t.Fatal(err)
	}
	e.call("PATCH", "/scim/v2/Users/"+id, e.A.SCIM, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}).must(t, 200)
	if r := e.call("GET", "/api/v1/users", secret, nil); r.Status != 401 {
		t.Fatalf("a deactivated user's token still works: %d", r.Status)
	}
	// Still readable, by id and by filter.
	e.call("GET", "/scim/v2/Users/"+id, e.A.SCIM, nil).must(t, 200)
}

func TestSCIMChangesAreAuditedWithTheSCIMTokenAsActor(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	created := e.call("POST", "/scim/v2/Users", e.A.SCIM, oktaUser("audited@example.com")).must(t, 201)
	id := str(created.Body, "id")
	r := e.call("GET", "/api/v1/audit-events?target_id="+id, e.A.Admin, nil).must(t, 200)
	items := r.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("audit events: %s", r.Raw)
	}
	ev := items[0].(map[string]any)
	if ev["action"] != "user.created" || ev["actor_type"] != "api_token" {
		t.Fatalf("event: %v", ev)
	}
	tok, err := store.NewTokenService(e.DB).FindTokenByHash(context.Background(), auth.HashAPIToken(e.A.SCIM))
	if err != nil || ev["actor_id"] != tok.ID {
		t.Fatalf("actor %v, want the SCIM token %v (%v)", ev["actor_id"], tok, err)
	}
}

func TestSCIMBulk(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	ops := []any{map[string]any{
		"method": "POST", "path": "/Groups", "bulkId": "g1",
		"data": map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Bulk Team",
			"members": []any{map[string]any{"value": "bulkId:u0"}, map[string]any{"value": "bulkId:u1"}}},
	}}
	for i := range 3 {
		ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", i),
			"data": oktaUser(fmt.Sprintf("bulk%d@example.com", i))})
	}
	ops = append(ops, map[string]any{"method": "PATCH", "path": "/Groups/bulkId:g1", "data": map[string]any{
		"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "bulkId:u2"}}}},
	}})
	r := e.call("POST", "/scim/v2/Bulk", e.A.SCIM, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops,
	}).must(t, 200)
	results := r.Body["Operations"].([]any)
	if len(results) != 5 {
		t.Fatalf("results: %s", r.Raw)
	}
	for _, res := range results {
		if st := res.(map[string]any)["status"]; st != "201" && st != "200" && st != "204" {
			t.Fatalf("a bulk operation failed: %s", r.Raw)
		}
	}
	list := e.call("GET", filterPath("Groups", `displayName eq "Bulk Team"`)+"&attributes=members", e.A.SCIM, nil).must(t, 200)
	group := list.Body["Resources"].([]any)[0].(map[string]any)
	if members, _ := group["members"].([]any); len(members) != 3 {
		t.Fatalf("group made by bulk: %s", list.Raw)
	}
	// A duplicate in a later bulk fails on its own; the others stand.
	r = e.call("POST", "/scim/v2/Bulk", e.A.SCIM, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": oktaUser("bulk0@example.com")},
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "new", "data": oktaUser("bulk9@example.com")},
		},
	}).must(t, 200)
	results = r.Body["Operations"].([]any)
	if results[0].(map[string]any)["status"] != "409" || results[1].(map[string]any)["status"] != "201" {
		t.Fatalf("mixed bulk: %s", r.Raw)
	}
}

func TestSCIMPasswordPush(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	creds := store.NewLoginService(e.DB)
	verifies := func(login, pw string) bool {
		t.Helper()
		l, err := creds.FindLogin(context.Background(), e.A.ID, login)
		if err != nil {
			t.Fatal(err)
		}
		ok, _, err := auth.VerifyPassword(l.PasswordHash, pw)
		return err == nil && ok
	}
	created := e.call("POST", "/scim/v2/Users", e.A.SCIM, oktaUser("pushed@example.com")).must(t, 201)
	if !verifies("pushed@example.com", "correct-horse-battery-staple") {
		t.Fatal("Okta's password does not sign the user in")
	}
	id := str(created.Body, "id")
	e.call("PATCH", "/scim/v2/Users/"+id, e.A.SCIM, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": "password", "value": "another-long-passphrase-7"}}}).must(t, 200)
	if !verifies("pushed@example.com", "another-long-passphrase-7") || verifies("pushed@example.com", "correct-horse-battery-staple") {
		t.Fatal("the pushed password change did not take")
	}
	weak := oktaUser("weak@example.com")
	weak["password"] = "password1234"
	wantSCIMError(t, e.call("POST", "/scim/v2/Users", e.A.SCIM, weak), 400, "invalidValue")

	// The tenant's own rules apply: at 30 characters the same push fails.
	tenants := store.NewTenantService(e.DB)
	policy, err := tenants.SecurityPolicy(context.Background(), e.A.ID)
	if err != nil {
		t.Fatal(err)
	}
	policy.Password.MinLength = 30
	if err := tenants.SetSecurityPolicy(context.Background(), e.A.ID, roster.Actor{Type: "system", ID: "test"}, policy); err != nil {
		t.Fatal(err)
	}
	wantSCIMError(t, e.call("POST", "/scim/v2/Users", e.A.SCIM, oktaUser("strict@example.com")), 400, "invalidValue")
}
