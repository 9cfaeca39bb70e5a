package api_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testtenant"
)

// teamTree is tenant A (on the enterprise plan, for custom roles) with
// teams made by SQL: root above child above grandchild, and other beside
// root. lead (a custom role without users:read) is an admin of child;
// inChild and inGrandchild are members below lead, inRoot and inOther
// are not.
type teamTree struct {
	e                              *testEnv
	db                             *sql.DB
	root, child, grandchild, other testtenant.Team
	lead, leadToken                string
	inChild, inGrandchild          string
	inRoot, inOther                string
}

func newTeamTree(t *testing.T) *teamTree {
	t.Helper()
	e := newTestEnv(t)
	db := openTestDB(t)
	if _, err := db.Exec(`UPDATE tenants SET plan = 'enterprise' WHERE id = $1`, e.A.ID); err != nil {
		t.Fatal(err)
	}
	e.createRole(e.A.Admin, map[string]any{"name": "helper", "permissions": []string{"mfa:enroll"}})
	tt := &teamTree{e: e, db: db}
	tt.lead, tt.leadToken = e.userWithRole(e.A, "lead", "helper")
	ids := e.createUsers(e.A.Admin, "member", 4, nil)
	tt.inChild, tt.inGrandchild, tt.inRoot, tt.inOther = ids[0], ids[1], ids[2], ids[3]
	tt.root = testtenant.CreateTeam(t, db, e.A.ID, nil, "Root")
	tt.child = testtenant.CreateTeam(t, db, e.A.ID, &tt.root, "Child")
	tt.grandchild = testtenant.CreateTeam(t, db, e.A.ID, &tt.child, "Grandchild")
	tt.other = testtenant.CreateTeam(t, db, e.A.ID, nil, "Other")
	testtenant.AddTeamMember(t, db, e.A.ID, tt.child, tt.lead, "admin")
	testtenant.AddTeamMember(t, db, e.A.ID, tt.child, tt.inChild, "member")
	testtenant.AddTeamMember(t, db, e.A.ID, tt.grandchild, tt.inGrandchild, "member")
	testtenant.AddTeamMember(t, db, e.A.ID, tt.root, tt.inRoot, "member")
	testtenant.AddTeamMember(t, db, e.A.ID, tt.other, tt.inOther, "member")
	return tt
}

// developers creates n developers and puts them in teams in turn.
func (tt *teamTree) developers(prefix string, n int, teams ...testtenant.Team) []string {
	tt.e.t.Helper()
	ids := tt.e.createUsers(tt.e.A.Admin, prefix, n, map[string]any{"role": "developer"})
	for i, id := range ids {
		testtenant.AddTeamMember(tt.e.t, tt.db, tt.e.A.ID, teams[i%len(teams)], id, "member")
	}
	return ids
}

// setMFA gives users verified second factors (a text[] literal) under
// the API.
func (tt *teamTree) setMFA(methods string, ids ...string) {
	tt.e.t.Helper()
	for _, id := range ids {
		if _, err := tt.db.Exec(`UPDATE users SET mfa_methods = $3 WHERE tenant_id = $1 AND id = $2`, tt.e.A.ID, id, methods); err != nil {
			tt.e.t.Fatal(err)
		}
	}
}

// listIDs walks a users list to its end and returns the ids, in order.
func (e *testEnv) listIDs(token, query string) []string {
	e.t.Helper()
	var ids []string
	path := "/api/v1/users?" + query
	for range 100 {
		r := e.do(request{Method: "GET", Path: path, Token: token})
		if r.Status != http.StatusOK {
			e.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(e.t, &page)
		for _, u := range page.Items {
			ids = append(ids, u.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		v, _ := url.ParseQuery(query)
		v.Set("cursor", *page.NextCursor)
		path = "/api/v1/users?" + v.Encode()
	}
	e.t.Fatalf("GET /api/v1/users?%s does not end", query)
	return nil
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestTeamAdminScope: an admin of a team without users:read reaches the
// members of that team and of its subteams, and no one else: the list,
// its count, each user's pages (404 outside, as for no user), the
// statistics of a team below them, and MFA reminders, but no other bulk
// action; losing the admin role ends it at the next request.
func TestTeamAdminScope(t *testing.T) {
	t.Parallel()
	tt := newTeamTree(t)
	e, lead := tt.e, tt.leadToken
	mine := sorted(tt.lead, tt.inChild, tt.inGrandchild)

	if got := sorted(e.listIDs(lead, "limit=1")...); !slices.Equal(got, mine) {
		t.Fatalf("a team admin lists %v, want %v", got, mine)
	}
	if got := e.listIDs(lead, "team="+tt.grandchild.ID); !slices.Equal(got, []string{tt.inGrandchild}) {
		t.Fatalf("team=grandchild: %v", got)
	}
	for _, team := range []string{tt.root.ID, tt.other.ID} {
		wantCode(t, e.do(request{Method: "GET", Path: "/api/v1/users?team=" + team, Token: lead}), http.StatusForbidden, "forbidden")
		wantCode(t, e.do(request{Method: "GET", Path: "/api/v1/stats?team=" + team, Token: lead}), http.StatusForbidden, "forbidden")
	}
	if c := e.do(request{Method: "GET", Path: "/api/v1/users/count?mfa=disabled", Token: lead}).Object(t); c["count"] != float64(3) {
		t.Fatalf("count: %v", c)
	}
	for _, id := range []string{tt.inChild, tt.inGrandchild} {
		for _, page := range []string{"", "/security", "/mfa", "/passkeys"} {
			if r := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + page, Token: lead}); r.Status != http.StatusOK {
				t.Fatalf("GET %s%s in scope: %d %s", id, page, r.Status, r.Body)
			}
		}
	}
	for _, id := range []string{tt.inRoot, tt.inOther, e.A.AdminID, fakeID} {
		for _, page := range []string{"", "/security", "/mfa", "/passkeys"} {
			wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + id + page, Token: lead}), http.StatusNotFound, "")
		}
	}
	st := e.do(request{Method: "GET", Path: "/api/v1/stats?team=" + tt.grandchild.ID, Token: lead})
	if st.Status != http.StatusOK || st.Object(t)["total_users"] != float64(1) {
		t.Fatalf("stats of a team below the lead's: %d %s", st.Status, st.Body)
	}
	if st := e.do(request{Method: "GET", Path: "/api/v1/stats", Token: lead}).Object(t); st["total_users"] != float64(3) {
		t.Fatalf("stats of the lead's reach: %v", st)
	}
	// What needs the permission tenant-wide stays refused.
	for _, op := range []request{
		{Method: "GET", Path: "/api/v1/users/" + tt.inChild + "/permissions"},
		{Method: "PATCH", Path: "/api/v1/users/" + tt.inChild, Body: map[string]any{"given_name": "X"}},
		{Method: "GET", Path: "/api/v1/users/export?format=csv"},
		{Method: "GET", Path: "/api/v1/invitations"},
	} {
		op.Token = lead
		wantProblem(t, e.do(op), http.StatusForbidden, "")
	}

	res := e.bulk(lead, map[string]any{"action": "remind_mfa", "ids": []string{tt.inChild, tt.inOther}})
	if res.Matched != 2 || res.Succeeded != 1 || len(res.Failed) != 1 || res.Failed[0].ID != tt.inOther || res.Failed[0].Error != "not found" {
		t.Fatalf("reminders by ids: %+v", res)
	}
	if res := e.bulk(lead, map[string]any{"action": "remind_mfa", "filter": map[string]any{}}); res.Matched != 3 {
		t.Fatalf("reminders to every user the lead reaches: %+v", res)
	}
	if res := e.bulk(lead, map[string]any{"action": "remind_mfa", "filter": map[string]any{"team": tt.grandchild.ID}}); res.Matched != 1 {
		t.Fatalf("reminders to a team below the lead's: %+v", res)
	}
	wantCode(t, e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: lead,
		Body: map[string]any{"action": "remind_mfa", "filter": map[string]any{"team": tt.other.ID}}}), http.StatusForbidden, "forbidden")
	for _, action := range []string{"deactivate", "reset_mfa", "delete"} {
		wantCode(t, e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: lead,
			Body: map[string]any{"action": action, "ids": []string{tt.inChild}}}), http.StatusForbidden, "forbidden")
	}
	if u := e.user(e.A.Admin, tt.inChild); u["active"] != true {
		t.Fatalf("a refused bulk action changed the user: %v", u)
	}
	// A user of the same role who administers no team is not let through.
	_, noTeams := e.userWithRole(e.A, "loner", "helper")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: noTeams}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: noTeams,
		Body: map[string]any{"action": "remind_mfa", "ids": []string{tt.inChild}}}), http.StatusForbidden, "")

	testtenant.RemoveTeamMember(t, tt.db, e.A.ID, tt.child, tt.lead)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: lead}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + tt.inChild, Token: lead}), http.StatusForbidden, "")
}

// TestTeamRolesReachSubteamMembers: the roles of a team reach the members
// of its subteams, in the user's permissions (with where they come from),
// the permission check and their own credential, until they leave.
func TestTeamRolesReachSubteamMembers(t *testing.T) {
	t.Parallel()
	tt := newTeamTree(t)
	e := tt.e
	e.createRole(e.A.Admin, map[string]any{"name": "auditor", "permissions": []string{"app:reports.read"}})
	if _, err := tt.db.Exec(`UPDATE teams SET roles = '{auditor,developer}' WHERE tenant_id = $1 AND id = $2`, e.A.ID, tt.root.ID); err != nil {
		t.Fatal(err)
	}
	id, token := e.userWithRole(e.A, "nightshift", "viewer")
	testtenant.AddTeamMember(t, tt.db, e.A.ID, tt.grandchild, id, "member")

	perms := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/permissions", Token: e.A.Admin}).Object(t)
	if fmt.Sprint(perms["team_roles"]) != "[auditor developer]" || !strings.Contains(fmt.Sprint(perms["permissions"]), "app:reports.read") ||
		fmt.Sprint(perms["grant_roles"]) != "[]" {
		t.Fatalf("permissions through a parent team: %v", perms)
	}
	if !e.allowed(e.A.Admin, id, "app:reports.read") || !e.allowed(e.A.Admin, id, "api_keys:write") {
		t.Fatal("the check refuses what a parent team gives")
	}
	if got := e.permissionsOf(token); !strings.Contains(got, "api_keys:write") {
		t.Fatalf("the member's own token lacks the team's developer role: %s", got)
	}
	testtenant.RemoveTeamMember(t, tt.db, e.A.ID, tt.grandchild, id)
	if e.allowed(e.A.Admin, id, "app:reports.read") || e.allowed(e.A.Admin, id, "api_keys:write") {
		t.Fatal("the check still allows what a team gave after the user left it")
	}
	if got := e.permissionsOf(token); strings.Contains(got, "api_keys:write") {
		t.Fatalf("the member's own token keeps the team's role after leaving: %s", got)
	}
	if perms := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/permissions", Token: e.A.Admin}).Object(t); fmt.Sprint(perms["team_roles"]) != "[]" {
		t.Fatalf("team_roles after leaving: %v", perms)
	}
}

// TestTeamFilter: team= narrows the list, count, export, statistics and
// bulk filter to a subtree's members, combined with every other filter,
// sort and the cursor; a malformed, unknown or another tenant's team is
// 400 naming team.
func TestTeamFilter(t *testing.T) {
	t.Parallel()
	tt := newTeamTree(t)
	e := tt.e
	// More members below root, some with a second factor, some inactive,
	// one in two teams of the subtree.
	more := tt.developers("teamer", 7, tt.root, tt.child, tt.grandchild)
	testtenant.AddTeamMember(t, tt.db, e.A.ID, tt.root, more[1], "member")
	tt.setMFA("{totp}", more[:3]...)
	e.bulk(e.A.Admin, map[string]any{"action": "deactivate", "ids": []string{more[4], tt.inChild}})
	members := map[string]bool{tt.lead: true, tt.inChild: true, tt.inGrandchild: true, tt.inRoot: true}
	for _, id := range more {
		members[id] = true
	}

	for _, q := range []string{"", "q=teamer", "role=developer", "mfa=disabled", "active=true&mfa=enabled", "sort=-email", "sort=name&active=false", "q=teamer&sort=-created_at&mfa=disabled"} {
		var want []string
		for _, id := range e.listIDs(e.A.Admin, q+"&limit=200") {
			if members[id] {
				want = append(want, id)
			}
		}
		got := e.listIDs(e.A.Admin, q+"&limit=2&team="+tt.root.ID)
		if !slices.Equal(got, want) {
			t.Fatalf("%s&team=root: %v, want %v", q, got, want)
		}
		filter, _ := url.ParseQuery(q)
		filter.Del("sort")
		filter.Set("team", tt.root.ID)
		if c := e.do(request{Method: "GET", Path: "/api/v1/users/count?" + filter.Encode(), Token: e.A.Admin}).Object(t); c["count"] != float64(len(want)) {
			t.Fatalf("count %s&team=root: %v, want %d", q, c, len(want))
		}
	}

	csv := string(e.export(e.A.Admin, "?format=csv&team="+tt.grandchild.ID, "text/csv").Body)
	if lines := strings.Count(csv, "\n"); lines != 1+1+2 || !strings.Contains(csv, tt.inGrandchild) || strings.Contains(csv, tt.inRoot) {
		t.Fatalf("export of grandchild (%d lines):\n%s", lines, csv)
	}
	if res := e.bulk(e.A.Admin, map[string]any{"action": "remind_mfa", "filter": map[string]any{"team": tt.child.ID, "mfa": "disabled"}}); res.Matched != 5 {
		t.Fatalf("bulk filter team=child: %+v", res)
	}

	foreign := testtenant.CreateTeam(t, tt.db, e.B.ID, nil, "Tenant B's")
	for _, team := range []string{foreign.ID, fakeID, "not-a-team"} {
		malformed := team == "not-a-team" // breaks the contract's uuid format
		for _, path := range []string{"/api/v1/users?team=", "/api/v1/users/count?team=", "/api/v1/stats?team=", "/api/v1/users/export?format=csv&team="} {
			wantProblem(t, e.do(request{Method: "GET", Path: path + url.QueryEscape(team), Token: e.A.Admin, Invalid: malformed}), http.StatusBadRequest, "team")
		}
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: e.A.Admin, Invalid: malformed,
			Body: map[string]any{"action": "remind_mfa", "filter": map[string]any{"team": team}}}), http.StatusBadRequest, "filter.team")
	}
	// Tenant B's own admin sees its team, and none of A's.
	if got := e.listIDs(e.B.Admin, "team="+foreign.ID); len(got) != 0 {
		t.Fatalf("tenant B's empty team lists %v", got)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users?team=" + tt.root.ID, Token: e.B.Admin}), http.StatusBadRequest, "team")
}

// TestTeamStatsMatchTheList: GET /stats?team= gives the figures of
// GET /stats for the subtree's distinct members, each equal to what the
// list says of them.
func TestTeamStatsMatchTheList(t *testing.T) {
	t.Parallel()
	tt := newTeamTree(t)
	e := tt.e
	more := tt.developers("stat", 5, tt.child, tt.grandchild)
	testtenant.AddTeamMember(t, tt.db, e.A.ID, tt.child, more[1], "admin")
	tt.setMFA("{totp,sms}", more[0])
	e.bulk(e.A.Admin, map[string]any{"action": "deactivate", "ids": []string{more[2]}})

	type user struct {
		Role   string `json:"role"`
		Active bool   `json:"active"`
	}
	for _, q := range []string{"", "&role=developer", "&active=false"} {
		var list struct{ Items []user }
		e.do(request{Method: "GET", Path: "/api/v1/users?limit=200&team=" + tt.child.ID + q, Token: e.A.Admin}).JSON(t, &list)
		active, roles := 0, map[string]float64{"admin": 0, "developer": 0, "viewer": 0}
		for _, u := range list.Items {
			if u.Active {
				active++
			}
			roles[u.Role]++
		}
		disabled := e.do(request{Method: "GET", Path: "/api/v1/users/count?mfa=disabled&team=" + tt.child.ID + q, Token: e.A.Admin}).Object(t)["count"].(float64)
		totp := e.do(request{Method: "GET", Path: "/api/v1/users/count?mfa_method=totp&team=" + tt.child.ID + q, Token: e.A.Admin}).Object(t)["count"].(float64)

		st := e.do(request{Method: "GET", Path: "/api/v1/stats?team=" + tt.child.ID + q, Token: e.A.Admin}).Object(t)
		mfa := st["mfa"].(map[string]any)
		total := float64(len(list.Items))
		if st["total_users"] != total || st["active_users"] != float64(active) || st["inactive_users"] != total-float64(active) ||
			fmt.Sprint(st["roles"]) != fmt.Sprint(roles) || mfa["disabled"] != disabled || mfa["enabled"] != total-disabled ||
			mfa["methods"].(map[string]any)["totp"] != totp || st["pending_invitations"] != float64(0) ||
			st["recent_signups"].(map[string]any)["last_7_days"] != total {
			t.Fatalf("stats?team=child%s: %v; from the list: %d users, %d active, roles %v, %v without MFA, %v with TOTP",
				q, st, len(list.Items), active, roles, disabled, totp)
		}
	}
}
