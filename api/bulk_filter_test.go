package api_test

import (
	"net/http"
	"testing"
)

// TestBulkEmptyFilterSelectsEveryUser: `"filter": {}` is the whole tenant
// (as the contract says), its guards still hold, and the other tenant is
// untouched.
func TestBulkEmptyFilterSelectsEveryUser(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createUsers(e.A.Admin, "everyone", 3, nil)
	e.createUsers(e.B.Admin, "bystander", 2, nil)
	total := func(token string) (total, active float64) {
		r := e.do(request{Method: "GET", Path: "/api/v1/stats", Token: token})
		if r.Status != http.StatusOK {
			t.Fatalf("stats: %d %s", r.Status, r.Body)
		}
		st := r.Object(t)
		return st["total_users"].(float64), st["active_users"].(float64)
	}
	usersA, _ := total(e.A.Admin)
	_, activeB := total(e.B.Admin)

	res := e.bulk(e.A.Admin, map[string]any{"action": "deactivate", "filter": map[string]any{}})
	if float64(res.Matched) != usersA || res.Succeeded != res.Matched-1 || res.FailedCount != 1 || res.Failed[0].ID != e.A.AdminID {
		t.Fatalf("deactivate {}: %+v, want all %v users but the caller", res, usersA)
	}
	if _, active := total(e.A.Admin); active != 1 {
		t.Fatalf("%v active users in A, want only the caller", active)
	}
	if _, active := total(e.B.Admin); active != activeB {
		t.Fatalf("tenant B has %v active users, had %v", active, activeB)
	}
}
