package graphql_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

type invitationNode struct {
	ID     string
	Email  string
	Role   string
	Status string
}

// TestInvitations invites, lists, resends and revokes.
func TestInvitations(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var inv struct {
		InviteUser struct{ Invitation invitationNode } `json:"inviteUser"`
	}
	e.query(e.A.Admin, `mutation { inviteUser(input: {email: "new@example.com", role: "developer"}) { invitation { id email role status } } }`, &inv)
	got := inv.InviteUser.Invitation
	if got.Status != "PENDING" || got.Role != "developer" {
		t.Fatalf("invited %+v", got)
	}
	e.wantCode(e.A.Admin, "conflict", "", `mutation { inviteUser(input: {email: "new@example.com", role: "viewer"}) { invitation { id } } }`)
	e.wantCode(e.A.Admin, "invalid", "email", `mutation { inviteUser(input: {email: "nope", role: "viewer"}) { invitation { id } } }`)
	e.wantCode(e.A.Viewer, "forbidden", "", `mutation { inviteUser(input: {email: "v@example.com", role: "viewer"}) { invitation { id } } }`)

	var list struct {
		Invitations struct {
			Edges []struct{ Node invitationNode }
		}
	}
	e.query(e.A.Viewer, `{ invitations(status: PENDING, first: 10) { edges { node { id email role status } } } }`, &list)
	if len(list.Invitations.Edges) != 1 || list.Invitations.Edges[0].Node.ID != got.ID {
		t.Fatalf("pending %+v", list)
	}
	e.query(e.A.Admin, `mutation($id: ID!) { resendInvitation(id: $id) { invitation { id } } }`, nil, "id", got.ID)
	var revoked struct {
		RevokeInvitation struct{ Invitation invitationNode } `json:"revokeInvitation"`
	}
	e.query(e.A.Admin, `mutation($id: ID!) { revokeInvitation(id: $id) { invitation { id email role status } } }`, &revoked, "id", got.ID)
	if revoked.RevokeInvitation.Invitation.Status != "REVOKED" {
		t.Fatalf("revoked %+v", revoked)
	}
	e.wantCode(e.A.Admin, "conflict", "", `mutation($id: ID!) { revokeInvitation(id: $id) { invitation { id } } }`, "id", got.ID)
}

// TestAuditStatsGroupsAndUnlock reads what changes left behind.
func TestAuditStatsGroupsAndUnlock(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id := e.createUser(e.A.Admin, "audited@example.com")
	var unlocked struct {
		UnlockUser struct{ User struct{ ID string } } `json:"unlockUser"`
	}
	e.query(e.A.Admin, `mutation($id: ID!) { unlockUser(id: $id) { user { id } } }`, &unlocked, "id", id)

	var audit struct {
		AuditEvents struct {
			Edges []struct {
				Node struct {
					Action   string
					TargetID string `json:"targetId"`
					Details  any
				}
			}
		} `json:"auditEvents"`
	}
	e.query(e.A.Admin, `query($id: String) { auditEvents(targetId: $id, first: 10) { edges { node { action targetId details } } } }`, &audit, "id", id)
	actions := map[string]bool{}
	for _, edge := range audit.AuditEvents.Edges {
		actions[edge.Node.Action] = true
	}
	if !actions[roster.ActionUserCreated] || !actions[roster.ActionUserUnlocked] {
		t.Fatalf("actions %v", actions)
	}

	var stats struct {
		Stats struct {
			TotalUsers int `json:"totalUsers"`
			Roles      []struct {
				Role  string
				Count int
			}
			Mfa struct {
				AdoptionRate float64 `json:"adoptionRate"`
			}
			RecentSignups struct {
				Daily []struct {
					Date  string
					Count int
				}
			} `json:"recentSignups"`
		}
	}
	e.query(e.A.Viewer, `{ stats { totalUsers roles { role count } mfa { adoptionRate } recentSignups { daily { date count } } } }`, &stats)
	if stats.Stats.TotalUsers != 2 || len(stats.Stats.Roles) == 0 || len(stats.Stats.RecentSignups.Daily) == 0 {
		t.Fatalf("stats %+v", stats)
	}
	e.wantCode(e.A.Viewer, "invalid", "role", `{ stats(role: "owner") { totalUsers } }`)

	groups := store.NewGroupService(e.DB)
	for _, name := range []string{"Engineering", "Sales", "Support"} {
		if _, err := groups.CreateGroup(context.Background(), e.A.ID, roster.Actor{Type: roster.ActorSystem, ID: "test"}, &roster.Group{DisplayName: name}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var after *string
	for {
		var page struct {
			Groups struct {
				Edges    []struct{ Node struct{ DisplayName string } }
				PageInfo struct {
					HasNextPage bool    `json:"hasNextPage"`
					EndCursor   *string `json:"endCursor"`
				} `json:"pageInfo"`
			}
		}
		e.query(e.A.Viewer, `query($after: String) { groups(first: 2, after: $after) { edges { node { displayName } } pageInfo { hasNextPage endCursor } } }`, &page, "after", after)
		for _, edge := range page.Groups.Edges {
			names = append(names, edge.Node.DisplayName)
		}
		if !page.Groups.PageInfo.HasNextPage {
			break
		}
		after = page.Groups.PageInfo.EndCursor
	}
	if len(names) != 3 {
		t.Fatalf("groups %v", names)
	}
}

// TestBulkActionAndJob runs a bulk action at once, and one large enough
// to be a job, which the job query then shows.
func TestBulkActionAndJob(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a, b := e.createUser(e.A.Admin, "bulk-a@example.com"), e.createUser(e.A.Admin, "bulk-b@example.com")
	var now struct {
		BulkUserAction struct {
			Result *struct{ Matched, Succeeded int }
			Job    *struct{ ID string }
		} `json:"bulkUserAction"`
	}
	e.query(e.A.Admin, `mutation($ids: [ID!]) { bulkUserAction(input: {action: DEACTIVATE, ids: $ids}) { result { matched succeeded } job { id } } }`,
		&now, "ids", []string{a, b})
	if r := now.BulkUserAction.Result; r == nil || r.Matched != 2 || r.Succeeded != 2 || now.BulkUserAction.Job != nil {
		t.Fatalf("bulk %+v", now)
	}
	e.wantCode(e.A.Admin, "invalid", "role", `mutation { bulkUserAction(input: {action: SET_ROLE, filter: {active: false}}) { result { matched } } }`)

	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 2*roster.MaxBulkSync); err != nil {
		t.Fatal(err)
	}
	var queued struct {
		BulkUserAction struct {
			Result *struct{ Matched int }
			Job    *struct {
				ID     string
				Status string
				Action string
			}
		} `json:"bulkUserAction"`
	}
	e.query(e.A.Admin, `mutation { bulkUserAction(input: {action: SET_ROLE, role: "developer", filter: {role: "viewer"}}) { result { matched } job { id status action } } }`, &queued)
	job := queued.BulkUserAction.Job
	if job == nil || job.Status != "QUEUED" || job.Action != "SET_ROLE" {
		t.Fatalf("large bulk %+v", queued)
	}
	var read struct {
		Job struct {
			ID       string
			Status   string
			Progress int `json:"processed"`
		}
	}
	e.query(e.A.Admin, `query($id: ID!) { job(id: $id) { id status processed } }`, &read, "id", job.ID)
	if read.Job.ID != job.ID {
		t.Fatalf("job %+v", read)
	}
	e.wantCode(e.A.Viewer, "forbidden", "", `query($id: ID!) { job(id: $id) { id } }`, "id", job.ID)
	e.wantCode(e.B.Admin, "not_found", "", `query($id: ID!) { job(id: $id) { id } }`, "id", job.ID)
}
