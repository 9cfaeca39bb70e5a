package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// teamAdmin is a tenant admin acting through a request.
func teamAdmin(b *roster.Bootstrap) roster.Actor {
	return roster.Actor{Type: roster.PrincipalUser, ID: b.Admin.ID, UserID: b.Admin.ID, Bounded: true,
		Permissions: roster.BuiltInPermissions(roster.RoleAdmin)}
}

// teamTenant is a tenant on the enterprise plan, and the team service.
func teamTenant(tb *testing.T) (*store.DB, *roster.Bootstrap, *store.TeamService) {
	db := MustOpen(tb)
	b := MustTenant(tb, db)
	mustExec(tb, rawDB(tb), `UPDATE tenants SET plan = 'enterprise' WHERE id = $1`, b.Tenant.ID)
	return db, b, store.NewTeamService(db)
}

func mustTeam(tb testing.TB, teams *store.TeamService, tenantID string, by roster.Actor, name string, parent *string) *roster.Team {
	tb.Helper()
	t, err := teams.CreateTeam(context.Background(), tenantID, by, &roster.Team{Name: name, ParentID: parent})
	if err != nil {
		tb.Fatalf("create team %s: %v", name, err)
	}
	return t
}

// TestTeamMovesRace: two moves that would each be fine alone, but together
// make a cycle (a under b, b under a), race many times; the tenant's tree
// lock lets one through and refuses the other, every time.
func TestTeamMovesRace(t *testing.T) {
	ctx := context.Background()
	_, b, teams := teamTenant(t)
	tenant, by := b.Tenant.ID, teamAdmin(b)
	for round := range 10 {
		a := mustTeam(t, teams, tenant, by, "a"+string(rune('0'+round)), nil)
		c := mustTeam(t, teams, tenant, by, "c"+string(rune('0'+round)), nil)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, move := range [][2]*roster.Team{{a, c}, {c, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = teams.UpdateTeam(ctx, tenant, by, move[0].ID, 0, roster.TeamUpdate{ParentID: &move[1].ID})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: both or neither moved: %v, %v", round, errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil && roster.ErrorCode(err) != roster.ECONFLICT {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		for _, team := range []*roster.Team{a, c} {
			got, err := teams.FindTeam(ctx, tenant, team.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Path) > 2 || got.Path[len(got.Path)-1] != got.ID || slices.Index(got.Path, got.ID) != len(got.Path)-1 {
				t.Fatalf("round %d: path %v of %s", round, got.Path, got.Name)
			}
		}
	}
}

// TestTeamMembersNeedAnAdmin: neither an actor without teams:write that
// is no user (a SCIM client) nor a user who administers another team may
// change a team's members, and a team admin's right stops at their
// subtree; whoever may not is refused before learning whether the team
// exists.
func TestTeamMembersNeedAnAdmin(t *testing.T) {
	ctx := context.Background()
	db, b, teams := teamTenant(t)
	tenant, by := b.Tenant.ID, teamAdmin(b)
	users := store.NewUserService(db)
	lead := MustCreateUser(t, users, tenant, roster.User{Email: "lead@example.com", Active: true})
	member := MustCreateUser(t, users, tenant, roster.User{Email: "member@example.com", Active: true})
	top := mustTeam(t, teams, tenant, by, "top", nil)
	mine := mustTeam(t, teams, tenant, by, "mine", &top.ID)
	below := mustTeam(t, teams, tenant, by, "below", &mine.ID)
	other := mustTeam(t, teams, tenant, by, "other", &top.ID)
	if _, added, err := teams.SetTeamMember(ctx, tenant, by, mine.ID, lead.ID, roster.TeamAdmin); err != nil || !added {
		t.Fatalf("make lead an admin: %v %v", added, err)
	}
	if _, _, err := teams.SetTeamMember(ctx, tenant, by, mine.ID, member.ID, roster.TeamMember); err != nil {
		t.Fatal(err)
	}
	leadActor := roster.Actor{Type: roster.PrincipalUser, ID: lead.ID, UserID: lead.ID, Bounded: true,
		Permissions: roster.BuiltInPermissions(roster.RoleViewer), AsUser: true}
	// The lead's personal API key, scoped: it holds its scopes, not the
	// lead's place in the team.
	leadsKey := leadActor
	leadsKey.Type, leadsKey.ID, leadsKey.AsUser = roster.PrincipalAPIToken, "lead-key", false
	scim := roster.Actor{Type: roster.PrincipalAPIToken, ID: "scim", Permissions: []roster.Permission{roster.PermSCIMProvision}}

	for _, tc := range []struct {
		name   string
		by     roster.Actor
		teamID string
		code   string
	}{
		{"the lead, below their team", leadActor, below.ID, ""},
		{"the lead, their own team", leadActor, mine.ID, ""},
		{"the lead, a sibling", leadActor, other.ID, roster.EFORBIDDEN},
		{"the lead, the parent", leadActor, top.ID, roster.EFORBIDDEN},
		{"the lead, no such team", leadActor, "00000000-0000-7000-8000-000000000000", roster.EFORBIDDEN},
		{"a SCIM client", scim, below.ID, roster.EFORBIDDEN},
		{"the lead's scoped key, their own team", leadsKey, mine.ID, roster.EFORBIDDEN},
		{"the admin, no such team", by, "00000000-0000-7000-8000-000000000000", roster.ENOTFOUND},
	} {
		_, _, err := teams.SetTeamMember(ctx, tenant, tc.by, tc.teamID, member.ID, roster.TeamMember)
		if roster.ErrorCode(err) != tc.code {
			t.Errorf("%s: add: %v, want %q", tc.name, err, tc.code)
		}
		if err := teams.RemoveTeamMember(ctx, tenant, tc.by, tc.teamID, member.ID); tc.code != "" && roster.ErrorCode(err) != tc.code {
			t.Errorf("%s: remove: %v, want %q", tc.name, err, tc.code)
		}
	}
	page, err := teams.FindTeamMembers(ctx, tenant, top.ID, roster.TeamMemberFilter{Subteams: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page.Items {
		got = append(got, m.TeamID+":"+m.Email)
	}
	slices.Sort(got)
	if want := []string{mine.ID + ":lead@example.com"}; !slices.Equal(got, want) {
		t.Fatalf("members after the lead's changes: %v, want %v", got, want)
	}
}
