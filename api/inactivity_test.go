package api_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestInactiveUsers finds users by their last sign-in, in the list, its
// count, the export and a bulk action alike, and names a bad time.
func TestInactiveUsers(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ids := e.createUsers(e.A.Admin, "dormant", 3, nil)
	newPasswordUser(t, e, "recent@example.com")
	if r := login(e, e.A.ID, "recent@example.com", goodPassword); r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	soon := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	for query, want := range map[string]int{
		"never_signed_in=true":                            4, // the three and tenant A's first admin
		"never_signed_in=true&q=dormant":                  3,
		"last_login_before=" + soon:                       1,
		"last_login_before=" + past:                       0,
		"last_login_before=" + soon + "&role=developer":   0,
		"never_signed_in=false&last_login_before=" + soon: 1,
	} {
		var page struct{ Items []map[string]any }
		e.do(request{Method: "GET", Path: "/api/v1/users?" + query, Token: e.A.Admin}).JSON(t, &page)
		if len(page.Items) != want {
			t.Errorf("GET /users?%s: %d users, want %d", query, len(page.Items), want)
		}
		if r := e.do(request{Method: "GET", Path: "/api/v1/users/count?" + query, Token: e.A.Admin}); r.Object(t)["count"] != float64(want) {
			t.Errorf("GET /users/count?%s: %s, want %d", query, r.Body, want)
		}
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users?last_login_before=yesterday", Token: e.A.Admin, Invalid: true}), 400, "last_login_before")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/count?never_signed_in=maybe", Token: e.A.Admin, Invalid: true}), 400, "never_signed_in")

	// Deactivate everyone who never signed in and is called dormant.
	r := e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: e.A.Admin,
		Body: map[string]any{"action": "deactivate", "filter": map[string]any{"never_signed_in": true, "q": "dormant"}}})
	if r.Status != http.StatusOK || r.Object(t)["succeeded"] != float64(len(ids)) {
		t.Fatalf("bulk: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: e.A.Admin, Invalid: true,
		Body: map[string]any{"action": "deactivate", "filter": map[string]any{"last_login_before": "soon"}}}), 400, "filter.last_login_before")
}
