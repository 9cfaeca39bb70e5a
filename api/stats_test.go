package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// statsBody is GET /stats as a client reads it.
type statsBody struct {
	TotalUsers         int64            `json:"total_users"`
	ActiveUsers        int64            `json:"active_users"`
	InactiveUsers      int64            `json:"inactive_users"`
	Roles              map[string]int64 `json:"roles"`
	PendingInvitations int64            `json:"pending_invitations"`
	PendingApproval    int64            `json:"pending_approval"`
	RecentSignups      struct {
		Last7Days  int64 `json:"last_7_days"`
		Last30Days int64 `json:"last_30_days"`
		Daily      []struct {
			Date  string `json:"date"`
			Count int64  `json:"count"`
		} `json:"daily"`
	} `json:"recent_signups"`
	MFA struct {
		Enabled      int64            `json:"enabled"`
		Disabled     int64            `json:"disabled"`
		AdoptionRate float64          `json:"adoption_rate"`
		Methods      map[string]int64 `json:"methods"`
	} `json:"mfa"`
	Passkeys struct {
		Total       int64 `json:"total"`
		Synced      int64 `json:"synced"`
		DeviceBound int64 `json:"device_bound"`
	} `json:"passkeys"`
	LockedUsers      int64 `json:"locked_users"`
	FailedSignIns24h int64 `json:"failed_sign_ins_24h"`
}

func (e *testEnv) stats(token, query string) statsBody {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/stats" + query, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET /stats%s: %d %s", query, r.Status, r.Body)
	}
	var s statsBody
	r.JSON(e.t, &s)
	return s
}

func TestStats(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.A.Admin
	var ids []string
	for i, role := range []string{"viewer", "viewer", "developer", "admin", "developer"} {
		r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: admin,
			Body: map[string]any{"email": fmt.Sprintf("s%d@example.com", i), "role": role}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		ids = append(ids, r.Object(t)["id"].(string))
	}
	// A deactivation, a role change and a deletion through the API.
	for _, patch := range []struct {
		id   string
		body map[string]any
	}{{ids[0], map[string]any{"active": false}}, {ids[1], map[string]any{"role": "developer"}}} {
		if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + patch.id, Token: admin, Body: patch.body}); r.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
	}
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/users/" + ids[4], Token: admin}); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	db := openTestDB(t)
	ctx := context.Background()
	// An email factor for one user, a lockout for another, a passkey and an
	// open invitation: as the MFA, sign-in, passkey and invitation code
	// leave them.
	for _, x := range []struct {
		query string
		args  []any
	}{
		{`UPDATE users SET mfa_methods = '{email,totp}' WHERE tenant_id = $1 AND id = $2`, []any{e.A.ID, ids[3]}},
		{`UPDATE users SET locked_until = now() + interval '10 minutes' WHERE tenant_id = $1 AND id = $2`, []any{e.A.ID, ids[2]}},
		{`INSERT INTO passkeys (tenant_id, id, user_id, credential_id, public_key, backup_eligible, backed_up, name, created_at)
			VALUES ($1, gen_random_uuid(), $2, '\x01', '\x00', true, true, 'phone', now())`, []any{e.A.ID, ids[3]}},
		{`INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, created_at, expires_at)
			VALUES ($1, gen_random_uuid(), 'invitee@example.com', 'viewer', '\x02', 'test', now(), now() + interval '7 days')`, []any{e.A.ID}},
	} {
		if _, err := db.ExecContext(ctx, x.query, x.args...); err != nil {
			t.Fatalf("%s: %v", x.query, err)
		}
	}

	s := e.stats(e.A.Viewer, "")
	// The tenant's admin and the four users left.
	if s.TotalUsers != 5 || s.ActiveUsers != 4 || s.InactiveUsers != 1 {
		t.Errorf("totals %+v", s)
	}
	if s.Roles["admin"] != 2 || s.Roles["developer"] != 2 || s.Roles["viewer"] != 1 {
		t.Errorf("roles %v", s.Roles)
	}
	if s.MFA.Enabled != 1 || s.MFA.Disabled != 4 || s.MFA.AdoptionRate != 0.2 ||
		s.MFA.Methods["email"] != 1 || s.MFA.Methods["totp"] != 1 || s.MFA.Methods["sms"] != 0 {
		t.Errorf("mfa %+v", s.MFA)
	}
	if s.Passkeys.Total != 1 || s.Passkeys.Synced != 1 || s.Passkeys.DeviceBound != 0 {
		t.Errorf("passkeys %+v", s.Passkeys)
	}
	if s.LockedUsers != 1 || s.PendingInvitations != 1 {
		t.Errorf("locked %d, pending invitations %d", s.LockedUsers, s.PendingInvitations)
	}
	today := time.Now().UTC().Format("2006-01-02")
	daily := s.RecentSignups.Daily
	if s.RecentSignups.Last7Days != 5 || s.RecentSignups.Last30Days != 5 || len(daily) != 30 ||
		daily[29].Date != today || daily[29].Count != 5 || daily[0].Count != 0 {
		t.Errorf("recent sign-ups %+v", s.RecentSignups)
	}

	// Filters narrow every user count.
	devs := e.stats(admin, "?role=developer")
	if devs.TotalUsers != 2 || devs.Roles["developer"] != 2 || devs.Roles["admin"] != 0 || devs.LockedUsers != 1 ||
		devs.PendingInvitations != 0 || devs.Passkeys.Total != 0 || devs.RecentSignups.Last7Days != 2 {
		t.Errorf("role=developer: %+v", devs)
	}
	inactive := e.stats(admin, "?active=false")
	if inactive.TotalUsers != 1 || inactive.ActiveUsers != 0 || inactive.Roles["viewer"] != 1 {
		t.Errorf("active=false: %+v", inactive)
	}
	admins := e.stats(admin, "?role=admin&active=true")
	if admins.TotalUsers != 2 || admins.MFA.Enabled != 1 || admins.MFA.AdoptionRate != 0.5 || admins.Passkeys.Synced != 1 {
		t.Errorf("role=admin&active=true: %+v", admins)
	}
	viewers := e.stats(admin, "?role=viewer")
	if viewers.PendingInvitations != 1 || viewers.TotalUsers != 1 {
		t.Errorf("role=viewer: %+v", viewers)
	}

	// Tenant B sees only its own admin.
	b := e.stats(e.B.Viewer, "")
	if b.TotalUsers != 1 || b.Roles["admin"] != 1 || b.LockedUsers != 0 || b.PendingInvitations != 0 ||
		b.Passkeys.Total != 0 || b.MFA.Enabled != 0 || b.RecentSignups.Last30Days != 1 {
		t.Errorf("tenant B: %+v", b)
	}
}

func TestStatsRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct{ query, field string }{
		{"?role=owner", "role"},
		{"?active=yes", "active"},
		{"?active=1", "active"},
		{"?limit=10", "limit"},
	} {
		r := e.do(request{Method: "GET", Path: "/api/v1/stats" + tc.query, Token: e.A.Admin, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/stats", Token: e.A.SCIM}), http.StatusForbidden, "")
}
