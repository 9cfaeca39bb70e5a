package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNULInJSONIsRefused: PostgreSQL stores no NUL, so a NUL in any JSON
// string of any body (a value, a nested value or a key) is 400 naming where
// it is, before anything reaches the database; sign-in answered 500.
func TestNULInJSONIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct {
		path, token, body, field string
	}{
		{"/api/v1/auth/login", "", `{"tenant":"acme","username":"a\u0000b","password":"x"}`, "username"},
		{"/api/v1/auth/login", "", `{"tenant":"ac\u0000me","username":"ab","password":"x"}`, "tenant"},
		{"/api/v1/auth/login", "", `{"tenant":"acme","username":"ab","password":"x\u0000"}`, "password"},
		{"/api/v1/auth/passkey/begin", "", `{"tenant":"a\u0000"}`, "tenant"},
		{"/api/v1/auth/refresh", "", `{"refresh_token":"rrt_\u0000"}`, "refresh_token"},
		{"/api/v1/invitations/accept", "", `{"token":"riv_x","password":"p\u0000ssword-long-enough"}`, "password"},
		{"/api/v1/users", e.A.Admin, `{"email":"nul@example.com","given_name":"A\u0000"}`, "given_name"},
		{"/api/v1/users/bulk", e.A.Admin, `{"action":"deactivate","filter":{"q":"x\u0000"}}`, "filter.q"},
		{"/api/v1/users/bulk", e.A.Admin, `{"action":"deactivate","ids":["a","\u0000"]}`, "ids[1]"},
		{"/api/v1/invitations", e.A.Admin, `{"email":"nul@example.com","role":"view\u0000er"}`, "role"},
	} {
		r := e.do(request{Method: "POST", Path: tc.path, Token: tc.token, Body: tc.body, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	// A key: the mapping's group names are stored.
	r := e.do(request{Method: "PUT", Path: "/api/v1/scim-group-roles", Token: e.A.Admin,
		Body: `{"mappings":{"Admins\u0000":"admin"}}`, Invalid: true})
	wantProblem(t, r, http.StatusBadRequest, `mappings.Admins\u0000`)
}

// TestNULInCSVIsRefused: a bulk invitation row with a NUL or bytes that are
// not UTF-8 is 400 naming the column and the row, and nothing is invited.
func TestNULInCSVIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	csvHeader := map[string]string{"Content-Type": "text/csv"}
	for _, tc := range []struct{ body, field string }{
		{"email,role\nok@example.com,viewer\nnul\x00@example.com,viewer\n", "email"},
		{"email,role\nok@example.com,view\x00er\n", "role"},
		{"email,role\nbad\xff@example.com,viewer\n", "email"},
	} {
		r := e.do(request{Method: "POST", Path: "/api/v1/invitations/bulk", Token: e.A.Admin, Body: tc.body, Header: csvHeader, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	if pending := listInvitations(t, e, e.A.Admin, "?status=pending"); len(pending) != 0 {
		t.Fatalf("a refused CSV invited %d people", len(pending))
	}
}

// TestUndecodableQueryIsRefused: a query string Go's URL.Query() cannot
// decode lost the parameter silently (?cursor=%%% read the first page);
// now it is 400 naming it, as is a NUL or non-UTF-8 value, on every
// endpoint.
func TestUndecodableQueryIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/users?cursor=%%%", "cursor"},
		{"/api/v1/users?limit=%zz", "limit"},
		{"/api/v1/users?role=viewer&q=%zz", "q"},
		{"/api/v1/audit-events?cursor=%%%", "cursor"},
		{"/api/v1/invitations?status=%zz", "status"},
		{"/api/v1/stats?role=%", "role"},
		{"/api/v1/users/export?format=csv&q=%zz", "q"},
		{"/api/v1/me?x=%zz", "x"},
		{"/api/v1/users?%zz=1", "%zz"},
		{"/api/v1/users?role=%00", "role"},
		{"/api/v1/users?role=%ff", "role"},
		{"/api/v1/users?a;b", "a;b"},
	} {
		r := e.do(request{Method: "GET", Path: tc.path, Token: e.A.Admin, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	// A change takes no query at all, and says so for an undecodable one too.
	r := e.do(request{Method: "POST", Path: "/api/v1/auth/login?x=%zz", Invalid: true,
		Body: map[string]any{"tenant": "acme", "username": "ab", "password": "x"}})
	wantProblem(t, r, http.StatusBadRequest, "x")
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("bad input logged an error:\n%s", e.logs.String())
	}
}
