package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestEndpointsWithoutQueryRefuseOne: no change, and no read of a single
// resource, takes a query parameter, and a script that adds one (believing
// it narrows a bulk action, say) gets 400 naming it, with nothing done.
func TestEndpointsWithoutQueryRefuseOne(t *testing.T) {
	e := newTestEnv(t)
	startInvitationMailbox(t, e)
	officers := e.createUsers(e.A.Admin, "officer", 2, map[string]any{"role": "viewer"})
	inv := invite(t, e, e.A.Admin, "invitee@example.com", "viewer")

	for _, tc := range []struct {
		method, path, field string
		body                any
		header              map[string]string
	}{
		// Without the check this deactivated everyone but the caller.
		{"POST", "/api/v1/users/bulk?role=viewer", "role", map[string]any{"action": "deactivate", "filter": map[string]any{}}, nil},
		{"GET", "/api/v1/jobs/" + uuid.NewString() + "?verbose=1", "verbose", nil, nil},
		{"POST", "/api/v1/invitations?role=viewer", "role", map[string]any{"email": "other@example.com", "role": "viewer"}, nil},
		{"POST", "/api/v1/invitations/bulk?dry_run=true", "dry_run", "email,role\nthird@example.com,viewer\n", map[string]string{"Content-Type": "text/csv"}},
		{"DELETE", "/api/v1/invitations/" + inv.ID + "?force=1", "force", nil, nil},
		{"POST", "/api/v1/invitations/" + inv.ID + "/resend?force=1", "force", nil, nil},
		{"POST", "/api/v1/invitations/accept?lang=en", "lang", map[string]any{"token": "riv_x", "password": goodPassword}, nil},
		{"PATCH", "/api/v1/users/" + officers[0] + "?notify=1", "notify", map[string]any{"active": false}, nil},
		{"DELETE", "/api/v1/users/" + officers[0] + "?soft=1", "soft", nil, nil},
		{"GET", "/api/v1/users/" + officers[0] + "?fields=email", "fields", nil, nil},
		{"GET", "/api/v1/users/" + officers[0] + "/mfa?all=1", "all", nil, nil},
		{"GET", "/api/v1/scim-tokens?limit=5", "limit", nil, nil},
		{"GET", "/api/v1/scim-group-roles?x=1", "x", nil, nil},
		{"GET", "/api/v1/tenant/security-policy?x=1", "x", nil, nil},
	} {
		r := e.do(request{Method: tc.method, Path: tc.path, Token: e.A.Admin, Body: tc.body, Header: tc.header, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}

	for _, id := range officers {
		if u := e.user(e.A.Admin, id); u["active"] != true {
			t.Fatalf("officer %s was deactivated by a refused request", id)
		}
	}
	pending := listInvitations(t, e, e.A.Admin, "?status=pending")
	if len(pending) != 1 || pending[0].ID != inv.ID || pending[0].ExpiresAt != inv.ExpiresAt {
		t.Fatalf("invitations after refused requests: %+v, want only %s, untouched", pending, inv.ID)
	}
}

// TestRepeatedQueryParameterIsRefused: a list or dashboard filter given
// twice is 400, not silently the first of the two (role=viewer&role=admin
// reads as "either", and answered viewers only).
func TestRepeatedQueryParameterIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, path := range []string{
		"/api/v1/users?role=viewer&role=admin",
		"/api/v1/users?mfa=disabled&active=true&mfa=enabled",
		"/api/v1/stats?role=viewer&role=admin",
		"/api/v1/users/export?format=csv&role=viewer&role=admin",
		"/api/v1/invitations?status=pending&status=revoked",
		"/api/v1/audit-events?action=user.created&action=user.deleted",
	} {
		field := "role"
		switch {
		case strings.Contains(path, "mfa="):
			field = "mfa"
		case strings.Contains(path, "status="):
			field = "status"
		case strings.Contains(path, "action="):
			field = "action"
		}
		r := e.do(request{Method: "GET", Path: path, Token: e.A.Admin})
		wantProblem(t, r, http.StatusBadRequest, field)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/stats?role=viewer", Token: e.A.Admin}); r.Status != http.StatusOK {
		t.Fatalf("stats with one role: %d %s", r.Status, r.Body)
	}
}

// TestEveryOperationRefusesAStrayQueryParameter: each operation under
// /api/v1 answers an unknown query parameter with 400 naming it, before it
// changes anything: changes take none at all, reads only their own.
func TestEveryOperationRefusesAStrayQueryParameter(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, op := range allOperations(e) {
		sep := "?"
		if strings.Contains(op.Path, "?") {
			sep = "&"
		}
		op.Path += sep + "stray=1"
		op.Token, op.Invalid = e.A.Admin, true
		if needsServiceScope(op) {
			op.Token = e.serviceReader()
		}
		wantProblem(t, e.do(op), http.StatusBadRequest, "stray")
	}
	if u := e.user(e.A.Admin, e.A.AdminID); u["active"] != true || u["given_name"] == "Op" {
		t.Fatalf("the admin was changed by refused requests: %v", u)
	}
}
