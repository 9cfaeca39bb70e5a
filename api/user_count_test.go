package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCountUsers counts with the list's filters, in the caller's tenant only.
func TestCountUsers(t *testing.T) {
	e := newTestEnv(t)
	for i, role := range []string{"viewer", "viewer", "developer"} {
		r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin,
			Body: map[string]any{"email": fmt.Sprintf("count%d@example.com", i), "role": role, "active": i != 1}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	count := func(token, query string) map[string]any {
		t.Helper()
		r := e.do(request{Method: "GET", Path: "/api/v1/users/count" + query, Token: token})
		if r.Status != http.StatusOK {
			t.Fatalf("GET /users/count%s: %d %s", query, r.Status, r.Body)
		}
		return r.Object(t)
	}
	for query, want := range map[string]float64{
		"":                                  4, // and the admin
		"?role=viewer":                      2,
		"?role=viewer&active=true":          1,
		"?mfa=disabled&active=true":         3,
		"?mfa_method=totp":                  0,
		"?q=COUNT":                          3,
		"?q=count&role=developer":           1,
		"?q=nobody&mfa=enabled&active=true": 0,
		"?email=COUNT1@example.com":         1,
		"?email=count1@example":             0,
		"?q=count1@":                        1,
		"?q=count1@example.com&active=true": 0, // count1 is deactivated
		"?q=example.com@":                   0, // an address term starts the address
	} {
		got := count(e.A.Viewer, query)
		if got["count"] != want || got["capped"] != nil {
			t.Errorf("count%s: %v, want exactly %v", query, got, want)
		}
	}
	// Tenant B sees its own admin alone, whatever it asks.
	for _, query := range []string{"", "?q=count", "?role=viewer", "?email=count0@example.com", "?q=count0@example.com"} {
		want := 1.0
		if query != "" {
			want = 0
		}
		if got := count(e.B.Admin, query); got["count"] != want {
			t.Errorf("tenant B's count%s: %v, want %v", query, got, want)
		}
	}
	for _, query := range []string{"?role=owner", "?active=yes", "?mfa=maybe", "?mfa_method=pigeon", "?sort=email", "?role=viewer&role=admin", "?email=" + strings.Repeat("a", 300)} {
		r := e.do(request{Method: "GET", Path: "/api/v1/users/count" + query, Token: e.A.Admin, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, "")
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/count", Token: e.A.SCIM}), http.StatusForbidden, "")
}
