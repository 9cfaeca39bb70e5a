package graphql_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
)

// TestTenantIsolation reaches for tenant A's user, passkey, invitation,
// job and audit trail with tenant B's admin through every query and
// mutation that takes an id: each is not_found, as an id that does not
// exist is, and nothing of A changes. Lists and counts of B show none of
// A's.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	userID, token := e.signedInUser(uniqueEmail(t, "iso"))
	passkey := e.registerPasskey(token, userID, "Key")
	var inv struct {
		InviteUser struct{ Invitation struct{ ID string } } `json:"inviteUser"`
	}
	e.query(e.A.Admin, `mutation { inviteUser(input: {email: "iso-invite@example.com", role: "viewer"}) { invitation { id } } }`, &inv)
	invID := inv.InviteUser.Invitation.ID
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 2*roster.MaxBulkSync); err != nil {
		t.Fatal(err)
	}
	var bulk struct {
		BulkUserAction struct{ Job struct{ ID string } } `json:"bulkUserAction"`
	}
	e.query(e.A.Admin, `mutation { bulkUserAction(input: {action: REMIND_MFA, filter: {mfa: DISABLED}}) { job { id } } }`, &bulk)
	jobID := bulk.BulkUserAction.Job.ID
	if jobID == "" {
		t.Fatal("no job")
	}
	const missing = "00000000-0000-7000-8000-000000000000"

	byID := []struct {
		name, query string
		vars        []any
	}{
		{"user", `query($id: ID!) { user(id: $id) { id } }`, []any{"id", userID}},
		{"job", `query($id: ID!) { job(id: $id) { id } }`, []any{"id", jobID}},
		{"updateUser", `mutation($id: ID!) { updateUser(id: $id, input: {givenName: "Mallory"}) { user { id } } }`, []any{"id", userID}},
		{"unlockUser", `mutation($id: ID!) { unlockUser(id: $id) { user { id } } }`, []any{"id", userID}},
		{"resetUserMFA", `mutation($id: ID!) { resetUserMFA(id: $id) { user { id } } }`, []any{"id", userID}},
		{"revokeUserPasskey", `mutation($u: ID!, $p: ID!) { revokeUserPasskey(userId: $u, passkeyId: $p) { passkey { id } } }`, []any{"u", userID, "p", passkey.ID}},
		{"resendInvitation", `mutation($id: ID!) { resendInvitation(id: $id) { invitation { id } } }`, []any{"id", invID}},
		{"revokeInvitation", `mutation($id: ID!) { revokeInvitation(id: $id) { invitation { id } } }`, []any{"id", invID}},
		{"deleteUser", `mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`, []any{"id", userID}},
	}
	for _, c := range byID {
		other := e.wantCode(e.B.Admin, "not_found", "", c.query, c.vars...)
		vars := append([]any{}, c.vars...)
		for i := 1; i < len(vars); i += 2 {
			vars[i] = missing
		}
		none := e.wantCode(e.B.Admin, "not_found", "", c.query, vars...)
		if other.Message != none.Message {
			t.Errorf("%s: another tenant's id answers %q, a missing one %q", c.name, other.Message, none.Message)
		}
	}
	// A's passkey under B's own user: still not found.
	e.wantCode(e.B.Admin, "not_found", "", `mutation($u: ID!, $p: ID!) { revokeUserPasskey(userId: $u, passkeyId: $p) { passkey { id } } }`,
		"u", e.B.AdminID, "p", passkey.ID)
	// A user of B renaming or deleting A's passkey as their own.
	_, tokenB := e.signedInUserIn(e.B, uniqueEmail(t, "iso-b"))
	e.wantCode(tokenB, "not_found", "", `mutation($id: ID!) { renamePasskey(id: $id, name: "mine") { passkey { id } } }`, "id", passkey.ID)
	e.wantCode(tokenB, "not_found", "", `mutation($id: ID!) { deletePasskey(id: $id) { passkey { id } } }`, "id", passkey.ID)
	// Bulk actions by id skip what is not B's.
	var skipped struct {
		BulkUserAction struct {
			Result struct{ Matched, Succeeded int }
		} `json:"bulkUserAction"`
	}
	e.query(e.B.Admin, `mutation($ids: [ID!]) { bulkUserAction(input: {action: DEACTIVATE, ids: $ids}) { result { matched succeeded } } }`,
		&skipped, "ids", []string{userID})
	if skipped.BulkUserAction.Result.Succeeded != 0 {
		t.Fatalf("B deactivated A's user: %+v", skipped)
	}

	// Nothing of A changed.
	var still struct {
		User struct {
			GivenName string `json:"givenName"`
			Active    bool
			Passkeys  []struct{ ID string }
		}
	}
	e.query(e.A.Admin, `query($id: ID!) { user(id: $id) { givenName active passkeys { id } } }`, &still, "id", userID)
	if still.User.GivenName == "Mallory" || !still.User.Active || len(still.User.Passkeys) != 1 {
		t.Fatalf("A's user changed: %+v", still.User)
	}
	var invitations struct {
		Invitations struct {
			Edges []struct{ Node struct{ Status string } }
		}
	}
	e.query(e.A.Admin, `{ invitations { edges { node { status } } } }`, &invitations)
	if len(invitations.Invitations.Edges) != 1 || invitations.Invitations.Edges[0].Node.Status != "PENDING" {
		t.Fatalf("A's invitation changed: %+v", invitations)
	}

	// B's lists, counts and dashboard hold only B.
	var lists struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
		UsersCount  struct{ Count int } `json:"usersCount"`
		Invitations struct {
			Edges []struct{ Node struct{ ID string } }
		}
		AuditEvents struct {
			Edges []struct {
				Node struct {
					TargetID string `json:"targetId"`
				}
			}
		} `json:"auditEvents"`
		Groups struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Stats struct {
			TotalUsers int `json:"totalUsers"`
		}
	}
	e.query(e.B.Admin, `{ users(first: 200) { edges { node { id } } } usersCount { count } invitations { edges { node { id } } }
		auditEvents(first: 200) { edges { node { targetId } } } groups { edges { node { id } } } stats { totalUsers } }`, &lists)
	if len(lists.Users.Edges) != 2 || lists.UsersCount.Count != 2 || lists.Stats.TotalUsers != 2 || len(lists.Invitations.Edges) != 0 || len(lists.Groups.Edges) != 0 {
		t.Fatalf("B sees %+v", lists)
	}
	for _, edge := range lists.AuditEvents.Edges {
		if edge.Node.TargetID == userID || edge.Node.TargetID == invID {
			t.Fatalf("B's audit trail holds A's %s", edge.Node.TargetID)
		}
	}
}
