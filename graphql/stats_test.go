package graphql_test

import (
	"context"
	"encoding/json"
	"testing"
)

// TestStatsMatchREST: the GraphQL stats carry every figure of GET
// /api/v1/stats, the same numbers, the sign-in and approval figures too.
func TestStatsMatchREST(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	email := uniqueEmail(t, "stats")
	e.createUser(e.A.Admin, email)
	if _, _, err := e.app.SignIn.Login(context.Background(), "192.0.2.1", e.A.ID, email, "not the password"); err == nil {
		t.Fatal("a wrong password signed in")
	}
	var rest map[string]any
	if w := e.httpDo("GET", "/api/v1/stats", e.A.Viewer, "", nil); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &rest) != nil {
		t.Fatalf("REST stats: %d %s", w.Code, w.Body)
	}
	var got struct {
		Stats struct {
			TotalUsers         float64 `json:"totalUsers"`
			ActiveUsers        float64 `json:"activeUsers"`
			InactiveUsers      float64 `json:"inactiveUsers"`
			PendingInvitations float64 `json:"pendingInvitations"`
			LockedUsers        float64 `json:"lockedUsers"`
			FailedSignIns24h   float64 `json:"failedSignIns24h"`
			PendingApproval    float64 `json:"pendingApproval"`
		}
		UsersCount struct{ Count int } `json:"usersCount"`
	}
	e.query(e.A.Viewer, `{ stats { totalUsers activeUsers inactiveUsers pendingInvitations lockedUsers failedSignIns24h pendingApproval }
		usersCount(filter: {pendingApproval: false}) { count } }`, &got)
	s := got.Stats
	for name, pair := range map[string][2]any{
		"total_users": {s.TotalUsers, rest["total_users"]}, "active_users": {s.ActiveUsers, rest["active_users"]},
		"inactive_users": {s.InactiveUsers, rest["inactive_users"]}, "pending_invitations": {s.PendingInvitations, rest["pending_invitations"]},
		"locked_users": {s.LockedUsers, rest["locked_users"]}, "failed_sign_ins_24h": {s.FailedSignIns24h, rest["failed_sign_ins_24h"]},
		"pending_approval": {s.PendingApproval, rest["pending_approval"]},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s: GraphQL %v, REST %v", name, pair[0], pair[1])
		}
	}
	if s.FailedSignIns24h < 1 || got.UsersCount.Count != int(s.TotalUsers) {
		t.Fatalf("failed sign-ins %v, users not waiting %d of %v", s.FailedSignIns24h, got.UsersCount.Count, s.TotalUsers)
	}
}
