package scim_test

import (
	"net/url"
	"strings"
	"testing"
)

const patchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// oktaUser is the body Okta sends to create a user.
func oktaUser(login string) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    login,
		"name":        map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"displayName": "Ada Lovelace",
		"locale":      "en-GB",
		"externalId":  "00u1ab2cd3EFGH4ij5k6",
		"groups":      []any{},
		"password":    "correct-horse-battery-staple",
		"active":      true,
	}
}

func filterPath(resource, filter string) string {
	return "/scim/v2/" + resource + "?filter=" + url.QueryEscape(filter)
}

func TestOktaUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM

	// Okta first looks the user up; an empty answer is a list, not null.
	r := e.call("GET", filterPath("Users", `userName eq "ada@example.com"`)+"&startIndex=1&count=100", tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(0) || r.Body["Resources"] == nil || len(r.Body["Resources"].([]any)) != 0 {
		t.Fatalf("empty lookup: %s", r.Raw)
	}

	created := e.call("POST", "/scim/v2/Users", tok, oktaUser("ada@example.com")).must(t, 201)
	id := str(created.Body, "id")
	if loc := created.Header.Get("Location"); !strings.HasSuffix(loc, "/scim/v2/Users/"+id) || !strings.HasPrefix(loc, "http") {
		t.Errorf("Location %q", loc)
	}
	if str(created.Body, "meta.version") == "" || created.Header.Get("ETag") == "" {
		t.Errorf("no version: %s", created.Raw)
	}
	if strings.Contains(string(created.Raw), "correct-horse") || created.Body["password"] != nil {
		t.Fatalf("the password came back: %s", created.Raw)
	}
	if str(created.Body, "name.givenName") != "Ada" || str(created.Body, "locale") != "en-GB" || str(created.Body, "externalId") != "00u1ab2cd3EFGH4ij5k6" {
		t.Errorf("created user: %s", created.Raw)
	}

	// The same login again, in another case, is taken.
	wantSCIMError(t, e.call("POST", "/scim/v2/Users", tok, oktaUser("ADA@example.com")), 409, "uniqueness")

	r = e.call("GET", filterPath("Users", `userName eq "ADA@EXAMPLE.COM"`), tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(1) || r.Body["itemsPerPage"] != float64(1) {
		t.Fatalf("lookup by userName: %s", r.Raw)
	}

	got := e.call("GET", "/scim/v2/Users/"+id, tok, nil).must(t, 200)
	if got.Header.Get("ETag") == "" {
		t.Error("GET without ETag")
	}

	// Okta deactivates with a no-path replace.
	deactivated := e.call("PATCH", "/scim/v2/Users/"+id, tok, map[string]any{
		"schemas":    []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}},
	}).must(t, 200)
	if deactivated.Body["active"] != false {
		t.Fatalf("after deactivation: %s", deactivated.Raw)
	}
	// REST sees the same user, inactive; SCIM still finds it by filter.
	rest := e.call("GET", "/api/v1/users/"+id, e.A.Admin, nil).must(t, 200)
	if rest.Body["active"] != false {
		t.Fatalf("REST view: %s", rest.Raw)
	}
	r = e.call("GET", filterPath("Users", `userName eq "ada@example.com" and active eq false`), tok, nil).must(t, 200)
	if r.Body["totalResults"] != float64(1) {
		t.Fatalf("deactivated user by filter: %s", r.Raw)
	}

	// Okta's GET-then-PUT.
	body := got.Body
	body["name"] = map[string]any{"givenName": "Augusta", "familyName": "King"}
	body["active"] = true
	put := e.call("PUT", "/scim/v2/Users/"+id, tok, body).must(t, 200)
	if str(put.Body, "name.givenName") != "Augusta" || put.Body["active"] != true {
		t.Fatalf("after PUT: %s", put.Raw)
	}

	e.call("DELETE", "/scim/v2/Users/"+id, tok, nil).must(t, 204)
	wantSCIMError(t, e.call("GET", "/scim/v2/Users/"+id, tok, nil), 404, "")
	wantSCIMError(t, e.call("DELETE", "/scim/v2/Users/"+id, tok, nil), 404, "")
}

// entraUser is the body Microsoft Entra ID sends to create a user.
func entraUser(upn string) map[string]any {
	return map[string]any{
		"schemas": []string{
			"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		},
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName":   upn,
		"active":     true,
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": upn}},
		"meta":       map[string]any{"resourceType": "User"},
		"name":       map[string]any{"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
		"roles":      []any{},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"employeeNumber": "701984", "department": "Navy",
		},
	}
}

func TestEntraUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	created := e.call("POST", "/scim/v2/Users", tok, entraUser("grace@contoso.example")).must(t, 201)
	id := str(created.Body, "id")
	if enterprise(created)["employeeNumber"] != "701984" {
		t.Fatalf("enterprise extension lost: %s", created.Raw)
	}
	manager := e.call("POST", "/scim/v2/Users", tok, entraUser("boss@contoso.example")).must(t, 201)
	managerID := str(manager.Body, "id")

	patch := func(ops ...map[string]any) reply {
		t.Helper()
		list := make([]any, len(ops))
		for i, op := range ops {
			list[i] = op
		}
		return e.call("PATCH", "/scim/v2/Users/"+id, tok, map[string]any{"schemas": []string{patchOp}, "Operations": list})
	}

	// Entra: capitalised ops, "False" as a string.
	r := patch(map[string]any{"op": "Replace", "path": "active", "value": "False"}).must(t, 200)
	if r.Body["active"] != false {
		t.Fatalf("Replace active \"False\": %s", r.Raw)
	}
	// Dotted and URN keys in a no-path replace.
	r = patch(map[string]any{"op": "Replace", "value": map[string]any{
		"name.givenName": "Amazing",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
		"active": true,
	}}).must(t, 200)
	if str(r.Body, "name.givenName") != "Amazing" || str(r.Body, "name.familyName") != "Hopper" || r.Body["active"] != true {
		t.Fatalf("dotted no-path replace: %s", r.Raw)
	}
	if enterprise(r)["employeeNumber"] != "42" {
		t.Fatalf("URN key replace: %s", r.Raw)
	}
	// A value-path replace creates the element when it is missing.
	r = patch(map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "grace.hopper@contoso.example"}).must(t, 200)
	rest := e.call("GET", "/api/v1/users/"+id, e.A.Admin, nil).must(t, 200)
	if rest.Body["email"] != "grace.hopper@contoso.example" {
		t.Fatalf("work email replace: REST email %v; SCIM %s", rest.Body["email"], r.Raw)
	}
	r = patch(map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+44 20 7946 0000"}).must(t, 200)
	if !strings.Contains(string(r.Raw), "+44 20 7946 0000") {
		t.Fatalf("created phone number element: %s", r.Raw)
	}
	// The manager, as a raw string, then removed with "".
	r = patch(map[string]any{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": managerID}).must(t, 200)
	if m, _ := enterprise(r)["manager"].(map[string]any); m["value"] != managerID {
		t.Fatalf("manager as a string: %s", r.Raw)
	}
	r = patch(map[string]any{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": map[string]any{"value": managerID}}).must(t, 200)
	if m, _ := enterprise(r)["manager"].(map[string]any); m["value"] != managerID {
		t.Fatalf("manager as {value}: %s", r.Raw)
	}
	r = patch(map[string]any{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}).must(t, 200)
	if strings.Contains(string(r.Raw), managerID) {
		t.Fatalf("manager not removed: %s", r.Raw)
	}
	// Several operations on one attribute apply in order.
	r = patch(
		map[string]any{"op": "replace", "path": "displayName", "value": "First"},
		map[string]any{"op": "replace", "path": "displayName", "value": "Second"},
	).must(t, 200)
	if r.Body["displayName"] != "Second" {
		t.Fatalf("operations in order: %s", r.Raw)
	}
	// If-Match with a stale version is refused.
	wantSCIMError(t, e.call("PATCH", "/scim/v2/Users/"+id, tok, map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Stale"}}}, "If-Match", `W/"1"`), 412, "")
}

func TestSCIMUserFilters(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	for _, login := range []string{"alan@bletchley.example", "joan@bletchley.example", "tommy@dollis.example"} {
		body := oktaUser(login)
		body["externalId"] = "ext-" + strings.Split(login, "@")[0]
		if login == "alan@bletchley.example" {
			body["UserType"] = "Employee"
		}
		e.call("POST", "/scim/v2/Users", tok, body).must(t, 201)
	}
	for _, tc := range []struct {
		filter string
		want   float64
	}{
		{`externalId eq "ext-alan"`, 1},
		{`externalId eq "EXT-ALAN"`, 0}, // externalId is case-exact
		{`emails.value eq "JOAN@bletchley.example"`, 1},
		{`emails[type eq "work"].value eq "tommy@dollis.example"`, 1},
		{`userName co "bletchley"`, 2},
		{`userName sw "to"`, 1},
		{`userName ew ".example"`, 3},
		{`userName co "bletchley" and not (externalId eq "ext-joan")`, 1},
		{`externalId eq "ext-alan" or externalId eq "ext-tommy"`, 2},
		{`meta.lastModified gt "2000-01-01T00:00:00Z"`, 4}, // with the tenant's admin
		{`meta.created lt "2000-01-01T00:00:00Z"`, 0},
		{`locale eq "en-GB"`, 3},
		{`title pr`, 0},
		{`locale pr`, 3},
		{`userName gt "joan@bletchley.example"`, 1},
		{`userName ge "joan@bletchley.example"`, 2},
		{`userName lt "b"`, 2}, // alan and the tenant's admin
		{`userName le "alan@bletchley.example"`, 2},
		{`userType eq "Employee"`, 1}, // sent as "UserType" by one client
	} {
		r := e.call("GET", filterPath("Users", tc.filter), tok, nil).must(t, 200)
		if r.Body["totalResults"] != tc.want {
			t.Errorf("%s: totalResults %v, want %v", tc.filter, r.Body["totalResults"], tc.want)
		}
	}
	for _, bad := range []string{`userName eq`, `nosuch eq "x"`, `active eq "maybe"`, `meta.created gt "yesterday"`, `(userName eq "x"`} {
		wantSCIMError(t, e.call("GET", filterPath("Users", bad), tok, nil), 400, "invalidFilter")
	}
}

func TestSCIMBadRequests(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	for name, body := range map[string]string{
		"malformed JSON":       `{"userName": "x"`,
		"missing userName":     `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"emails":[{"value":"a@example.com"}]}`,
		"userName wrong type":  `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":42}`,
		"emails not an array":  `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","emails":"a@example.com"}`,
		"active not a boolean": `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","active":"sometimes"}`,
		"no email at all":      `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"not-an-address"}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := e.call("POST", "/scim/v2/Users", tok, body)
			wantSCIMError(t, r, 400, "")
			if r.Body["scimType"] == nil {
				t.Fatalf("400 without scimType: %s", r.Raw)
			}
		})
	}
	for _, q := range []string{"startIndex=one", "count=ten", "sortBy=password", "sortOrder=sideways"} {
		wantSCIMError(t, e.call("GET", "/scim/v2/Users?"+q, tok, nil), 400, "")
	}
}

func TestSCIMNeedsTheSCIMPermissionAndStaysInItsTenant(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	wantSCIMError(t, e.call("GET", "/scim/v2/Users", "", nil), 401, "")
	wantSCIMError(t, e.call("GET", "/scim/v2/Users", "rst_"+strings.Repeat("x", 40), nil), 401, "")
	// The SCIM token cannot use REST, and a REST token without the scope
	// cannot use SCIM... admins hold scim:provision, so their tokens can.
	wantViewer := e.call("GET", "/api/v1/users", e.A.SCIM, nil)
	if wantViewer.Status != 403 {
		t.Fatalf("SCIM token on REST: %d", wantViewer.Status)
	}
	created := e.call("POST", "/scim/v2/Users", e.A.SCIM, oktaUser("private@a.example")).must(t, 201)
	id := str(created.Body, "id")
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		var body any
		switch m {
		case "PUT":
			body = oktaUser("stolen@b.example")
		case "PATCH":
			body = map[string]any{"schemas": []string{patchOp}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}
		}
		wantSCIMError(t, e.call(m, "/scim/v2/Users/"+id, e.B.SCIM, body), 404, "")
	}
	r := e.call("GET", filterPath("Users", `userName eq "private@a.example"`), e.B.SCIM, nil).must(t, 200)
	if r.Body["totalResults"] != float64(0) {
		t.Fatalf("tenant B finds tenant A's user: %s", r.Raw)
	}
}

// enterprise is the enterprise extension object of a user reply.
func enterprise(r reply) map[string]any {
	m, _ := r.Body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	return m
}

func TestSCIMAttributeProjection(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	created := e.call("POST", "/scim/v2/Users?attributes=userName", e.A.SCIM, oktaUser("projected@example.com")).must(t, 201)
	id := str(created.Body, "id")
	for _, key := range []string{"id", "schemas", "meta", "userName"} {
		if created.Body[key] == nil {
			t.Fatalf("attributes=userName dropped %s: %s", key, created.Raw)
		}
	}
	if created.Body["name"] != nil || created.Body["emails"] != nil {
		t.Fatalf("attributes=userName kept more: %s", created.Raw)
	}
	r := e.call("GET", "/scim/v2/Users/"+id+"?excludedAttributes=emails,name.familyName", e.A.SCIM, nil).must(t, 200)
	if r.Body["emails"] != nil || str(r.Body, "name.familyName") != "" || str(r.Body, "name.givenName") != "Ada" {
		t.Fatalf("excludedAttributes: %s", r.Raw)
	}
	list := e.call("GET", filterPath("Users", `userName eq "projected@example.com"`)+"&attributes=name.givenName", e.A.SCIM, nil).must(t, 200)
	item := list.Body["Resources"].([]any)[0].(map[string]any)
	if item["userName"] != nil || str(item, "name.givenName") != "Ada" {
		t.Fatalf("list projection: %s", list.Raw)
	}
}
