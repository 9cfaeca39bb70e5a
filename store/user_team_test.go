package store_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testtenant"
	"github.com/rosterhq/roster/store"
)

// teamFixture is listFixture's tenant with teams: root above child above
// grandchild, and other beside root. Users 0-9 are in child, 5-14 in
// grandchild (5-9 in both), 30 in root itself, 20-25 in other.
type teamFixture struct {
	users                          *store.UserService
	tenantID                       string
	all                            []*roster.User
	root, child, grandchild, other testtenant.Team
	rootMembers, childMembers      map[string]bool
}

func newTeamFixture(t *testing.T) *teamFixture {
	t.Helper()
	users, tenantID, all := listFixture(t)
	raw := rawDB(t)
	f := &teamFixture{users: users, tenantID: tenantID, all: all, rootMembers: map[string]bool{}, childMembers: map[string]bool{}}
	f.root = testtenant.CreateTeam(t, raw, tenantID, nil, "Root")
	f.child = testtenant.CreateTeam(t, raw, tenantID, &f.root, "Child")
	f.grandchild = testtenant.CreateTeam(t, raw, tenantID, &f.child, "Grandchild")
	f.other = testtenant.CreateTeam(t, raw, tenantID, nil, "Other")
	add := func(team testtenant.Team, from, to int) {
		for i := from; i <= to; i++ {
			testtenant.AddTeamMember(t, raw, tenantID, team, all[i].ID, "member")
		}
	}
	add(f.child, 0, 9)
	add(f.grandchild, 5, 14)
	add(f.root, 30, 30)
	add(f.other, 20, 25)
	for i := range 15 {
		f.rootMembers[all[i].ID], f.childMembers[all[i].ID] = true, true
	}
	f.rootMembers[all[30].ID] = true
	return f
}

// TestFindUsersOfTeam: team selects the distinct members of a team and its
// subteams, combined with every other filter and sort, page after page in
// the same order as the whole list.
func TestFindUsersOfTeam(t *testing.T) {
	f := newTeamFixture(t)
	for _, sort := range []string{"", "-created_at", "email", "-name", "last_login_at"} {
		for name, filter := range map[string]roster.UserFilter{
			"no other filter": {},
			"q":               {Query: "bob"},
			"role":            {Role: roster.RoleDeveloper},
			"inactive":        {Active: ptr(false)},
			"without mfa":     {MFA: ptr(false)},
			"never signed in": {NeverSignedIn: true},
		} {
			t.Run(name+" sort "+sort, func(t *testing.T) {
				filter.Sort, filter.Limit = sort, 200
				var want []string
				for _, u := range walk(t, f.users, f.tenantID, filter) {
					if f.rootMembers[u.ID] {
						want = append(want, u.ID)
					}
				}
				filter.Team, filter.Limit = f.root.ID, 2
				got := ids(walk(t, f.users, f.tenantID, filter))
				if !slices.Equal(got, want) {
					t.Fatalf("team %s: %v, want %v", f.root.ID, got, want)
				}
				n, err := f.users.CountUsers(context.Background(), f.tenantID, filter)
				if err != nil || n.Count != int64(len(want)) || n.Capped {
					t.Fatalf("count %+v, %v; want %d", n, err, len(want))
				}
			})
		}
	}
	if got := walk(t, f.users, f.tenantID, roster.UserFilter{Team: f.grandchild.ID, Limit: 3}); len(got) != 10 {
		t.Fatalf("grandchild: %d users, want 10", len(got))
	}
}

// TestFindUsersWithinScope: a bounded scope selects only its subtrees'
// members; a team outside it is EFORBIDDEN; an unknown, malformed or
// another tenant's team is EINVALID naming team, as an unknown role is.
func TestFindUsersWithinScope(t *testing.T) {
	ctx := context.Background()
	f := newTeamFixture(t)
	scope := roster.UserScope{Teams: []string{f.child.ID}}
	var want []string
	for _, u := range f.all {
		if f.childMembers[u.ID] {
			want = append(want, u.ID)
		}
	}
	if got := ids(walk(t, f.users, f.tenantID, roster.UserFilter{Scope: scope, Limit: 4})); !slices.Equal(got, want) {
		t.Fatalf("scope: %v, want %v", got, want)
	}
	if got := walk(t, f.users, f.tenantID, roster.UserFilter{Scope: scope, Team: f.grandchild.ID, Limit: 4}); len(got) != 10 {
		t.Fatalf("grandchild within scope: %d users, want 10", len(got))
	}
	if got := walk(t, f.users, f.tenantID, roster.UserFilter{Scope: roster.UserScope{Teams: []string{}}, Limit: 4}); len(got) != 0 {
		t.Fatalf("a scope of no team reaches %d users", len(got))
	}
	_, err := f.users.FindUsers(ctx, f.tenantID, roster.UserFilter{Scope: scope, Team: f.root.ID})
	wantCode(t, err, roster.EFORBIDDEN)
	_, err = f.users.CountUsers(ctx, f.tenantID, roster.UserFilter{Scope: scope, Team: f.other.ID})
	wantCode(t, err, roster.EFORBIDDEN)

	otherTenant := MustTenant(t, MustOpen(t)).Tenant.ID
	foreign := testtenant.CreateTeam(t, rawDB(t), otherTenant, nil, "Foreign")
	for _, team := range []string{foreign.ID, "01a2538f-0000-7000-8000-000000000000", "not-a-team", "'; DROP TABLE teams; --"} {
		_, err := f.users.FindUsers(ctx, f.tenantID, roster.UserFilter{Team: team})
		wantCode(t, err, roster.EINVALID)
		wantField(t, err, "team")
		_, err = f.users.CountUsers(ctx, f.tenantID, roster.UserFilter{Team: team})
		wantField(t, err, "team")
	}

	access := store.NewAccessService(MustOpen(t))
	if err := access.UserInScope(ctx, f.tenantID, scope, f.all[12].ID); err != nil {
		t.Fatalf("a grandchild's member is outside the child's scope: %v", err)
	}
	wantCode(t, access.UserInScope(ctx, f.tenantID, scope, f.all[30].ID), roster.ENOTFOUND)
	wantCode(t, access.UserInScope(ctx, f.tenantID, scope, f.all[20].ID), roster.ENOTFOUND)
	wantCode(t, access.UserInScope(ctx, otherTenant, scope, f.all[1].ID), roster.ENOTFOUND)
}

// TestUserAccessThroughTeams: a team's roles reach the members of its
// subteams, with what the tenant's custom roles among them grant, and the
// teams a user is an admin of come with them; leaving the team takes them
// away at the next check.
func TestUserAccessThroughTeams(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	raw := rawDB(t)
	b := MustTenant(t, db)
	tenant := b.Tenant.ID
	mustExec(t, raw, `UPDATE tenants SET plan = 'enterprise' WHERE id = $1`, tenant)
	admin := roster.Actor{Type: roster.PrincipalUser, ID: b.Admin.ID, UserID: b.Admin.ID, Bounded: true,
		Permissions: roster.BuiltInPermissions(roster.RoleAdmin)}
	if _, err := store.NewRoleService(db).CreateRole(ctx, tenant, admin, &roster.Role{Name: "support",
		Permissions: []roster.Permission{"app:tickets.close"}}); err != nil {
		t.Fatal(err)
	}
	u := MustCreateUser(t, store.NewUserService(db), tenant, roster.User{Email: "sam@example.com", Role: roster.RoleViewer, Active: true})
	root := testtenant.CreateTeam(t, raw, tenant, nil, "Support", "support")
	mid := testtenant.CreateTeam(t, raw, tenant, &root, "Tier 2", roster.RoleDeveloper)
	leaf := testtenant.CreateTeam(t, raw, tenant, &mid, "Nights")
	beside := testtenant.CreateTeam(t, raw, tenant, nil, "Sales", roster.RoleAdmin)
	testtenant.AddTeamMember(t, raw, tenant, leaf, u.ID, "member")
	testtenant.AddTeamMember(t, raw, tenant, mid, u.ID, "admin")

	access := store.NewAccessService(db)
	a, err := access.UserAccess(ctx, tenant, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.TeamRoles, ",") != "developer,support" || !slices.Contains(a.Permissions, "app:tickets.close") ||
		!slices.Contains(a.Permissions, roster.PermAPIKeysWrite) || slices.Contains(a.Permissions, roster.PermUsersWrite) ||
		!slices.Equal(a.AdminTeams, []string{mid.ID}) {
		t.Fatalf("access through teams: %+v (beside: %s)", a, beside.ID)
	}
	testtenant.RemoveTeamMember(t, raw, tenant, leaf, u.ID)
	testtenant.RemoveTeamMember(t, raw, tenant, mid, u.ID)
	if a, err := access.UserAccess(ctx, tenant, u.ID); err != nil || len(a.TeamRoles) != 0 || len(a.AdminTeams) != 0 ||
		slices.Contains(a.Permissions, "app:tickets.close") || slices.Contains(a.Permissions, roster.PermAPIKeysWrite) {
		t.Fatalf("after leaving the teams: %+v, %v", a, err)
	}
}

// TestFindUsersOfALargeTeam: past the members read first, the list walks
// its order and probes each user's teams, with the same answer: every
// member once, in order, across pages, filters applied.
func TestFindUsersOfALargeTeam(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	raw := rawDB(t)
	tenant := MustTenant(t, db).Tenant.ID
	mustExec(t, raw, `INSERT INTO users (tenant_id, id, user_name, email, role, created_at, updated_at)
		SELECT $1, gen_random_uuid(), 'many' || i, 'many' || i || '@example.com', CASE WHEN i % 7 = 0 THEN 'developer' ELSE 'viewer' END,
			now() - i * interval '1 second', now()
		FROM generate_series(1, 2600) AS i`, tenant)
	root := testtenant.CreateTeam(t, raw, tenant, nil, "Division")
	sub := testtenant.CreateTeam(t, raw, tenant, &root, "Department")
	// Users 1-2400 are in the department, 2000-2200 in the division too.
	mustExec(t, raw, `INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		SELECT $1, $2, id, 'member', now() FROM users WHERE tenant_id = $1 AND user_name ~ '^many' AND substr(user_name, 5)::int <= 2400`, tenant, sub.ID)
	mustExec(t, raw, `INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		SELECT $1, $2, id, 'member', now() FROM users WHERE tenant_id = $1 AND user_name ~ '^many' AND substr(user_name, 5)::int BETWEEN 2000 AND 2200`, tenant, root.ID)
	users := store.NewUserService(db)
	for _, filter := range []roster.UserFilter{{}, {Role: roster.RoleDeveloper}, {Sort: "-email"}} {
		filter.Limit = 200
		var want []string
		for _, u := range walk(t, users, tenant, filter) {
			if n := strings.TrimPrefix(u.UserName, "many"); n != u.UserName && mustAtoi(t, n) <= 2400 {
				want = append(want, u.ID)
			}
		}
		filter.Team = root.ID
		if got := ids(walk(t, users, tenant, filter)); !slices.Equal(got, want) {
			t.Fatalf("%+v: %d users, want %d", filter, len(got), len(want))
		}
		n, err := users.CountUsers(ctx, tenant, filter)
		if err != nil || (len(want) > roster.UserCountCap) != n.Capped || !n.Capped && n.Count != int64(len(want)) {
			t.Fatalf("count %+v: %+v, %v; want %d", filter, n, err, len(want))
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	db.Now = func() time.Time { return now }
	stats := store.NewStatsService(db)
	st, err := stats.UserStats(ctx, tenant, roster.StatsFilter{Team: root.ID})
	if err != nil || st.TotalUsers != 2400 || st.Roles[roster.RoleDeveloper] != 2400/7 || !st.AsOf.Equal(now) {
		t.Fatalf("stats of the division: %+v, %v", st, err)
	}
	// A subtree this large is counted at most once a minute, and says
	// when; a small team is counted at each request.
	mustExec(t, raw, `INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		SELECT $1, $2, id, 'member', now() FROM users WHERE tenant_id = $1 AND user_name = 'many2500'`, tenant, sub.ID)
	small := testtenant.CreateTeam(t, raw, tenant, nil, "Small")
	mustExec(t, raw, `INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		SELECT $1, $2, id, 'member', now() FROM users WHERE tenant_id = $1 AND user_name = 'many2500'`, tenant, small.ID)
	db.Now = func() time.Time { return now.Add(59 * time.Second) }
	if st, err := stats.UserStats(ctx, tenant, roster.StatsFilter{Team: root.ID}); err != nil || st.TotalUsers != 2400 || !st.AsOf.Equal(now) {
		t.Fatalf("within the minute: %+v, %v", st, err)
	}
	if st, err := stats.UserStats(ctx, tenant, roster.StatsFilter{Team: small.ID}); err != nil || st.TotalUsers != 1 || !st.AsOf.Equal(now.Add(59*time.Second)) {
		t.Fatalf("a small team: %+v, %v", st, err)
	}
	developers := roster.RoleDeveloper
	if st, err := stats.UserStats(ctx, tenant, roster.StatsFilter{Team: root.ID, Role: developers}); err != nil || st.TotalUsers != 2400/7 {
		t.Fatalf("another filter of the same team is counted apart: %+v, %v", st, err)
	}
	db.Now = func() time.Time { return now.Add(time.Minute) }
	if st, err := stats.UserStats(ctx, tenant, roster.StatsFilter{Team: root.ID}); err != nil || st.TotalUsers != 2401 || !st.AsOf.Equal(now.Add(time.Minute)) {
		t.Fatalf("after the minute: %+v, %v", st, err)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
