package scim_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	var ids []string
	for i := range 4 {
		r := e.call("POST", "/scim/v2/Users", tok, oktaUser(fmt.Sprintf("member%d@example.com", i))).must(t, 201)
		ids = append(ids, str(r.Body, "id"))
	}
	members := func(r reply) []string {
		var out []string
		list, _ := r.Body["members"].([]any)
		for _, m := range list {
			out = append(out, m.(map[string]any)["value"].(string))
		}
		return out
	}

	// Entra adds a schema of its own to groups; it is tolerated.
	created := e.call("POST", "/scim/v2/Groups", tok, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"displayName": "Officers",
		"externalId":  "grp-1",
		"members":     []any{map[string]any{"value": ids[0]}, map[string]any{"value": ids[1]}},
	}).must(t, 201)
	gid := str(created.Body, "id")
	if got := members(created); len(got) != 2 {
		t.Fatalf("created with members %v: %s", got, created.Raw)
	}
	wantSCIMError(t, e.call("POST", "/scim/v2/Groups", tok, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "OFFICERS"}), 409, "uniqueness")

	r := e.call("GET", filterPath("Groups", `externalId eq "grp-1"`), tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(1) {
		t.Fatalf("group by externalId: %s", r.Raw)
	}
	r = e.call("GET", filterPath("Groups", `externalId eq "GRP-1"`), tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(0) {
		t.Fatalf("group externalId is case-exact: %s", r.Raw)
	}
	r = e.call("GET", filterPath("Groups", `displayName eq "officers"`)+"&excludedAttributes=members", tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(1) || strings.Contains(string(r.Raw), `"members"`) {
		t.Fatalf("group by displayName without members: %s", r.Raw)
	}
	one := e.call("GET", "/scim/v2/Groups/"+gid+"?excludedAttributes=members", tok, nil).must(t, 200)
	if one.Body["members"] != nil || one.Body["displayName"] != "Officers" {
		t.Fatalf("get without members: %s", one.Raw)
	}

	patch := func(ops ...any) reply {
		t.Helper()
		return e.call("PATCH", "/scim/v2/Groups/"+gid, tok, map[string]any{"schemas": []string{patchOp}, "Operations": ops})
	}
	get := func() []string {
		return members(e.call("GET", "/scim/v2/Groups/"+gid, tok, nil).must(t, 200))
	}
	patch(map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": ids[2], "$ref": nil}}}).must(t, 204)
	if got := get(); len(got) != 3 {
		t.Fatalf("after add: %v", got)
	}
	patch(map[string]any{"op": "Remove", "path": fmt.Sprintf(`members[value eq "%s"]`, ids[0])}).must(t, 204)
	patch(map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": ids[1]}}}).must(t, 204)
	if got := get(); len(got) != 1 || got[0] != ids[2] {
		t.Fatalf("after removes, want only %s: %v", ids[2], got)
	}
	patch(map[string]any{"op": "Replace", "path": "members", "value": []any{map[string]any{"value": ids[0]}, map[string]any{"value": ids[3]}}}).must(t, 204)
	if got := get(); len(got) != 2 {
		t.Fatalf("after replace: %v", got)
	}
	// Okta renames with a no-path replace that repeats the id.
	patch(map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Senior Officers"}}).must(t, 204)
	// A member that does not exist is refused and changes nothing.
	wantSCIMError(t, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "00000000-0000-7000-8000-000000000000"}}}), 400, "")
	if got := get(); len(got) != 2 {
		t.Fatalf("a failed add changed the members: %v", got)
	}

	// A deleted user leaves every group.
	e.call("DELETE", "/scim/v2/Users/"+ids[3], tok, nil).must(t, 204)
	if got := get(); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("after deleting a member: %v", got)
	}
	r = e.call("GET", filterPath("Groups", fmt.Sprintf(`members[value eq "%s"]`, ids[0])), tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(1) {
		t.Fatalf("groups of a member: %s", r.Raw)
	}

	// Another tenant cannot see or touch the group.
	wantSCIMError(t, e.call("GET", "/scim/v2/Groups/"+gid, e.B.SCIM, nil), 404, "")
	wantSCIMError(t, e.call("DELETE", "/scim/v2/Groups/"+gid, e.B.SCIM, nil), 404, "")
	e.call("DELETE", "/scim/v2/Groups/"+gid, tok, nil).must(t, 204)
	wantSCIMError(t, e.call("GET", "/scim/v2/Groups/"+gid, tok, nil), 404, "")
}

func TestSCIMPagination(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	for i := range 11 {
		e.call("POST", "/scim/v2/Users", tok, oktaUser(fmt.Sprintf("page%02d@example.com", i))).must(t, 201)
	}
	seen := map[string]bool{}
	for start := 1; start <= 12; start += 5 {
		r := e.call("GET", fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=5&sortBy=userName&sortOrder=descending", start), tok, nil).must(t, 200)
		if r.Body["totalResults"] != float64(12) || r.Body["startIndex"] != float64(start) {
			t.Fatalf("page at %d: %s", start, r.Raw)
		}
		items := r.Body["Resources"].([]any)
		if r.Body["itemsPerPage"] != float64(len(items)) {
			t.Fatalf("itemsPerPage %v for %d items", r.Body["itemsPerPage"], len(items))
		}
		for _, it := range items {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("user %s on two pages", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 12 {
		t.Fatalf("saw %d users over the pages, want 12", len(seen))
	}
	r := e.call("GET", "/scim/v2/Users?startIndex=100&count=5", tok, nil).must(t, 200)
	if r.Body["itemsPerPage"] != float64(0) || len(r.Body["Resources"].([]any)) != 0 {
		t.Fatalf("past the end: %s", r.Raw)
	}
	r = e.call("GET", "/scim/v2/Users?count=0", tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(12) || len(r.Body["Resources"].([]any)) != 0 {
		t.Fatalf("count=0: %s", r.Raw)
	}
}

func TestSCIMDiscovery(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	cfg := e.call("GET", "/scim/v2/ServiceProviderConfig", e.A.SCIM, nil).must(t, 200)
	for _, feature := range []string{"patch", "filter", "sort", "etag"} {
		if f, _ := cfg.Body[feature].(map[string]any); f["supported"] != true {
			t.Errorf("%s not advertised: %s", feature, cfg.Raw)
		}
	}
	if f, _ := cfg.Body["changePassword"].(map[string]any); f["supported"] != false {
		t.Errorf("changePassword advertised: %s", cfg.Raw)
	}
	for _, path := range []string{"/scim/v2/Schemas", "/scim/v2/ResourceTypes"} {
		r := e.call("GET", path, e.A.SCIM, nil).must(t, 200)
		if r.Body["totalResults"] == nil {
			t.Errorf("%s: %s", path, r.Raw)
		}
	}
}

func TestGroupPushSetsRoles(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	e.call("PUT", "/api/v1/scim-group-roles", e.A.Admin, map[string]any{"mappings": map[string]string{
		"Roster Admins": "admin", "Engineering": "developer",
	}}).must(t, 200)
	u := str(e.call("POST", "/scim/v2/Users", tok, oktaUser("dev@example.com")).must(t, 201).Body, "id")
	role := func() any {
		return e.call("GET", "/api/v1/users/"+u, e.A.Admin, nil).must(t, 200).Body["role"]
	}
	eng := str(e.call("POST", "/scim/v2/Groups", tok, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "engineering",
		"members": []any{map[string]any{"value": u}},
	}).must(t, 201).Body, "id")
	if got := role(); got != "developer" {
		t.Fatalf("member of Engineering is %v", got)
	}
	admins := str(e.call("POST", "/scim/v2/Groups", tok, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Roster Admins",
	}).must(t, 201).Body, "id")
	e.call("PATCH", "/scim/v2/Groups/"+admins, tok, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u}}}}}).must(t, 204)
	if got := role(); got != "admin" {
		t.Fatalf("member of Roster Admins is %v", got)
	}
	e.call("DELETE", "/scim/v2/Groups/"+admins, tok, nil).must(t, 204)
	if got := role(); got != "developer" {
		t.Fatalf("after the admin group went: %v", got)
	}
	e.call("PATCH", "/scim/v2/Groups/"+eng, tok, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Unmapped"}}}).must(t, 204)
	if got := role(); got != "viewer" {
		t.Fatalf("after the group was renamed out of the mapping: %v", got)
	}
}
