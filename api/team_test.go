package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testtenant"
)

// teamOperations are the team and membership operations, for the lists
// every operation is held to.
func teamOperations(e *testEnv) []request {
	team := "/api/v1/teams/" + fakeID
	member := team + "/members/" + e.A.AdminID
	return []request{
		{Method: "GET", Path: "/api/v1/teams"},
		{Method: "POST", Path: "/api/v1/teams", Body: map[string]any{"name": "op"}},
		{Method: "GET", Path: team},
		{Method: "PATCH", Path: team, Body: map[string]any{"description": "op"}},
		{Method: "DELETE", Path: team},
		{Method: "GET", Path: team + "/members"},
		{Method: "PUT", Path: member, Body: map[string]any{"role": "member"}},
		{Method: "DELETE", Path: member},
	}
}

// createTeam creates a team with the token and returns it.
func (e *testEnv) createTeam(token string, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/teams", Token: token, Body: body})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create team %v: %d %s", body, r.Status, r.Body)
	}
	return r.Object(e.t)
}

// teamID creates a team with the token and returns its id.
func (e *testEnv) teamID(token string, body map[string]any) string {
	e.t.Helper()
	return e.createTeam(token, body)["id"].(string)
}

// team reads a team, failing unless it exists.
func (e *testEnv) team(token, id string) map[string]any {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/teams/" + id, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("get team %s: %d %s", id, r.Status, r.Body)
	}
	return r.Object(e.t)
}

// putMember sets a user's role in a team.
func (e *testEnv) putMember(token, teamID, userID, role string) response {
	e.t.Helper()
	return e.do(request{Method: "PUT", Path: "/api/v1/teams/" + teamID + "/members/" + userID, Token: token,
		Body: map[string]any{"role": role}})
}

// wantStatus fails unless r has status.
func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// teamNames lists the names of a page of teams, and its next cursor.
func teamNames(t *testing.T, r response) ([]string, string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Items      []struct{ Name string }
		NextCursor *string `json:"next_cursor"`
	}
	r.JSON(t, &page)
	var names []string
	for _, it := range page.Items {
		names = append(names, it.Name)
	}
	if page.NextCursor == nil {
		return names, ""
	}
	return names, *page.NextCursor
}

// memberPage reads a page of memberships as team:user pairs.
func memberPage(t *testing.T, r response) ([]string, string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Items []struct {
			TeamID string `json:"team_id"`
			UserID string `json:"user_id"`
		}
		NextCursor *string `json:"next_cursor"`
	}
	r.JSON(t, &page)
	var pairs []string
	for _, it := range page.Items {
		pairs = append(pairs, it.TeamID+":"+it.UserID)
	}
	if page.NextCursor == nil {
		return pairs, ""
	}
	return pairs, *page.NextCursor
}

func TestTeams(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()

	created := e.do(request{Method: "POST", Path: "/api/v1/teams", Token: c.Admin,
		Body: map[string]any{"name": " Engineering ", "description": "Builds", "roles": []string{"developer", "developer"}}})
	wantStatus(t, created, http.StatusCreated)
	eng := created.Object(t)
	engID := eng["id"].(string)
	if eng["name"] != "Engineering" || eng["parent_id"] != nil || eng["depth"] != 1.0 || eng["member_count"] != 0.0 ||
		fmtList(eng["path"]) != engID || fmtList(eng["roles"]) != "developer" || eng["version"] != 1.0 {
		t.Fatalf("created: %v", eng)
	}
	if created.Header.Get("ETag") != `"1"` || created.Header.Get("Location") != "/api/v1/teams/"+engID {
		t.Fatalf("headers: %v", created.Header)
	}
	backend := e.createTeam(c.Admin, map[string]any{"name": "Backend", "parent_id": engID})
	backendID := backend["id"].(string)
	if backend["parent_id"] != engID || fmtList(backend["path"]) != engID+","+backendID || backend["depth"] != 2.0 {
		t.Fatalf("subteam: %v", backend)
	}
	e.createTeam(c.Admin, map[string]any{"name": "accounts", "parent_id": nil})

	// Listed by name whatever its case, a page at a time, and filtered.
	first, next := teamNames(t, e.do(request{Method: "GET", Path: "/api/v1/teams?limit=2", Token: c.Viewer}))
	rest, end := teamNames(t, e.do(request{Method: "GET", Path: "/api/v1/teams?limit=2&cursor=" + next, Token: c.Viewer}))
	if strings.Join(append(first, rest...), ",") != "accounts,Backend,Engineering" || next == "" || end != "" {
		t.Fatalf("pages: %v %q %v %q", first, next, rest, end)
	}
	for query, want := range map[string]string{
		"top_level=true":     "accounts,Engineering",
		"top_level=false":    "Backend",
		"parent_id=" + engID: "Backend",
	} {
		if names, _ := teamNames(t, e.do(request{Method: "GET", Path: "/api/v1/teams?" + query, Token: c.Viewer})); strings.Join(names, ",") != want {
			t.Fatalf("%s: %v, want %s", query, names, want)
		}
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/teams?parent_id=" + fakeID, Token: c.Viewer}), http.StatusNotFound, "parent_id")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/teams?top_level=true&parent_id=" + engID, Token: c.Viewer}), http.StatusBadRequest, "top_level")

	// Names are unique whatever their case.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/teams", Token: c.Admin, Body: map[string]any{"name": "ENGINEERING"}}), http.StatusConflict, "name")
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + backendID, Token: c.Admin, Body: map[string]any{"name": "engineering"}}), http.StatusConflict, "name")

	// PATCH follows the users' ETags.
	get := e.do(request{Method: "GET", Path: "/api/v1/teams/" + engID, Token: c.Viewer})
	if get.Status != http.StatusOK || get.Header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d %v %s", get.Status, get.Header, get.Body)
	}
	patched := e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + engID, Token: c.Admin, Header: map[string]string{"If-Match": `"1"`},
		Body: map[string]any{"description": "Builds things", "roles": []string{"viewer", "developer"}}})
	wantStatus(t, patched, http.StatusOK)
	if p := patched.Object(t); p["description"] != "Builds things" || p["version"] != 2.0 || fmtList(p["roles"]) != "developer,viewer" ||
		patched.Header.Get("ETag") != `"2"` {
		t.Fatalf("patched: %v %v", p, patched.Header)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + engID, Token: c.Admin, Header: map[string]string{"If-Match": `"1"`},
		Body: map[string]any{"description": "stale"}}), http.StatusPreconditionFailed, "")
	same := e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + engID, Token: c.Admin, Body: map[string]any{"description": "Builds things"}})
	if same.Status != http.StatusOK || same.Object(t)["version"] != 2.0 {
		t.Fatalf("a patch that changes nothing: %d %s", same.Status, same.Body)
	}

	// Members: 201 when added, 200 when changed.
	aliceID, aliceToken := e.userWithRole(c, "alice", "viewer")
	bob := e.createUsers(c.Admin, "bob", 1, nil)[0]
	added := e.putMember(c.Admin, backendID, aliceID, "member")
	wantStatus(t, added, http.StatusCreated)
	if m := added.Object(t); m["team_id"] != backendID || m["user_id"] != aliceID || m["email"] != "alice@example.com" ||
		m["display_name"] != "alice" || m["role"] != "member" {
		t.Fatalf("added: %v", m)
	}
	if r := e.putMember(c.Admin, backendID, aliceID, "admin"); r.Status != http.StatusOK || r.Object(t)["role"] != "admin" {
		t.Fatalf("changed: %d %s", r.Status, r.Body)
	}
	wantStatus(t, e.putMember(c.Admin, backendID, aliceID, "admin"), http.StatusOK)
	wantStatus(t, e.putMember(c.Admin, engID, bob, "member"), http.StatusCreated)
	if e.team(c.Viewer, backendID)["member_count"] != 1.0 || e.team(c.Viewer, engID)["member_count"] != 1.0 {
		t.Fatal("member counts")
	}
	direct, _ := memberPage(t, e.do(request{Method: "GET", Path: "/api/v1/teams/" + engID + "/members", Token: c.Viewer}))
	if strings.Join(direct, " ") != engID+":"+bob {
		t.Fatalf("direct members: %v", direct)
	}
	var all []string
	for cursor := ""; ; {
		page, next := memberPage(t, e.do(request{Method: "GET", Path: "/api/v1/teams/" + engID + "/members?subteams=true&limit=1&cursor=" + cursor, Token: c.Viewer}))
		all = append(all, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	slices.Sort(all)
	want := []string{backendID + ":" + aliceID, engID + ":" + bob}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("with subteams: %v, want %v", all, want)
	}

	// The data export names the person's teams.
	for _, path := range []string{"/api/v1/users/" + aliceID + "/data-export", "/api/v1/me/data-export"} {
		token := c.Admin
		if strings.HasPrefix(path, "/api/v1/me/") {
			token = aliceToken
		}
		r := e.do(request{Method: "GET", Path: path, Token: token})
		var doc struct {
			Teams []struct{ ID, Name, Role, Since string }
		}
		r.JSON(t, &doc)
		if r.Status != http.StatusOK || len(doc.Teams) != 1 || doc.Teams[0].ID != backendID || doc.Teams[0].Name != "Backend" ||
			doc.Teams[0].Role != "admin" || doc.Teams[0].Since == "" {
			t.Fatalf("%s: %d %+v", path, r.Status, doc.Teams)
		}
	}

	wantStatus(t, e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + backendID + "/members/" + aliceID, Token: c.Admin}), http.StatusNoContent)
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + backendID + "/members/" + aliceID, Token: c.Admin}), http.StatusNotFound, "")

	// Deleting: If-Match, then the team and its memberships go.
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + backendID, Token: c.Admin, Header: map[string]string{"If-Match": `"7"`}}), http.StatusPreconditionFailed, "")
	wantStatus(t, e.putMember(c.Admin, backendID, bob, "member"), http.StatusCreated)
	wantStatus(t, e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + backendID, Token: c.Admin, Header: map[string]string{"If-Match": `"1"`}}), http.StatusNoContent)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/teams/" + backendID, Token: c.Admin}), http.StatusNotFound, "")
	if rest, _ := memberPage(t, e.do(request{Method: "GET", Path: "/api/v1/teams/" + engID + "/members?subteams=true", Token: c.Viewer})); len(rest) != 1 {
		t.Fatalf("memberships of the deleted team remain: %v", rest)
	}

	// Every change is in the audit trail, and an event.
	actions := e.auditActions(c.Admin, "target_id="+backendID)
	for _, a := range []string{"team.created", "team.member_added", "team.member_changed", "team.member_removed", "team.deleted"} {
		if !slices.Contains(actions, a) {
			t.Errorf("no %s event about the team: %v", a, actions)
		}
	}
	if !slices.Contains(e.auditActions(c.Admin, "target_id="+engID), "team.updated") {
		t.Error("the update is not audited")
	}
	// A webhook may subscribe to them (the feed and the fan-out select
	// events by the same table).
	hook := e.createWebhook(c.Admin, "https://hooks.example.com/teams", "team.created", "team.updated", "team.deleted",
		"team.member_added", "team.member_changed", "team.member_removed")
	if len(hook.Events) != 6 {
		t.Fatalf("webhook events: %v", hook.Events)
	}

	// Reading needs users:read, changing teams:write.
	for _, op := range teamOperations(e) {
		op.Token = c.SCIM
		wantProblem(t, e.do(op), http.StatusForbidden, "")
	}
	for _, req := range []request{
		{Method: "POST", Path: "/api/v1/teams", Body: map[string]any{"name": "mine"}},
		{Method: "PATCH", Path: "/api/v1/teams/" + engID, Body: map[string]any{"name": "mine"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + engID},
		{Method: "PUT", Path: "/api/v1/teams/" + engID + "/members/" + aliceID, Body: map[string]any{"role": "admin"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + engID + "/members/" + bob},
	} {
		req.Token = c.Developer
		wantProblem(t, e.do(req), http.StatusForbidden, "")
	}
	if e.team(c.Viewer, engID)["member_count"] != 1.0 {
		t.Fatal("a refused member change went through")
	}
}

// chain creates n teams, each under the one before (the first under
// parent, or at the top when ""), and returns their ids.
func (e *testEnv) chain(token, prefix, parent string, n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range n {
		body := map[string]any{"name": prefix + "-" + string(rune('a'+i))}
		if parent != "" {
			body["parent_id"] = parent
		}
		ids[i] = e.teamID(token, body)
		parent = ids[i]
	}
	return ids
}

func TestTeamTree(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	patch := func(id string, body map[string]any) response {
		return e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + id, Token: c.Admin, Body: body})
	}

	// Ten levels, and no eleventh.
	levels := e.chain(c.Admin, "level", "", roster.MaxTeamDepth)
	if d := e.team(c.Viewer, levels[9])["depth"]; d != 10.0 {
		t.Fatalf("depth %v", d)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/teams", Token: c.Admin, Body: map[string]any{"name": "eleventh", "parent_id": levels[9]}}), http.StatusConflict, "parent_id")

	// No cycles, direct or deep.
	wantProblem(t, patch(levels[0], map[string]any{"parent_id": levels[0]}), http.StatusConflict, "parent_id")
	wantProblem(t, patch(levels[0], map[string]any{"parent_id": levels[9]}), http.StatusConflict, "parent_id")
	wantProblem(t, patch(levels[3], map[string]any{"parent_id": levels[7]}), http.StatusConflict, "parent_id")

	// A move carries the subtree: paths and depths of every team below.
	sub := e.chain(c.Admin, "sub", "", 3)
	home := e.teamID(c.Admin, map[string]any{"name": "home"})
	wantStatus(t, patch(sub[0], map[string]any{"parent_id": home}), http.StatusOK)
	grandchild := e.team(c.Viewer, sub[2])
	if fmtList(grandchild["path"]) != strings.Join([]string{home, sub[0], sub[1], sub[2]}, ",") || grandchild["depth"] != 4.0 ||
		grandchild["parent_id"] != sub[1] || grandchild["version"] != 2.0 {
		t.Fatalf("grandchild after the move: %v", grandchild)
	}
	if child := e.team(c.Viewer, sub[1]); child["depth"] != 3.0 || child["parent_id"] != sub[0] {
		t.Fatalf("child after the move: %v", child)
	}
	if names, _ := teamNames(t, e.do(request{Method: "GET", Path: "/api/v1/teams?parent_id=" + home, Token: c.Viewer})); strings.Join(names, ",") != "sub-a" {
		t.Fatalf("home's children: %v", names)
	}
	// To the top again.
	wantStatus(t, patch(sub[0], map[string]any{"parent_id": nil}), http.StatusOK)
	if g := e.team(c.Viewer, sub[2]); fmtList(g["path"]) != strings.Join(sub, ",") || g["depth"] != 3.0 {
		t.Fatalf("grandchild at the top: %v", g)
	}

	// A subtree three deep fits under level 7, not under level 8; the
	// refused move changes nothing.
	wantProblem(t, patch(sub[0], map[string]any{"parent_id": levels[7]}), http.StatusConflict, "parent_id")
	if g := e.team(c.Viewer, sub[2]); g["depth"] != 3.0 {
		t.Fatalf("a refused move moved: %v", g)
	}
	wantStatus(t, patch(sub[0], map[string]any{"parent_id": levels[6]}), http.StatusOK)
	if g := e.team(c.Viewer, sub[2]); g["depth"] != 10.0 || fmtList(g["path"]) != strings.Join(append(slices.Clone(levels[:7]), sub...), ",") {
		t.Fatalf("grandchild at the bottom: %v", g)
	}

	// A team with subteams stays until they go.
	del := e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + levels[6], Token: c.Admin})
	wantProblem(t, del, http.StatusConflict, "")
	if !strings.Contains(string(del.Body), "2 subteams") {
		t.Fatalf("delete with subteams: %s", del.Body)
	}
	wantStatus(t, e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + levels[9], Token: c.Admin}), http.StatusNoContent)
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + levels[8], Token: c.Admin}); r.Status != http.StatusNoContent {
		t.Fatalf("delete the leaf's parent: %d %s", r.Status, r.Body)
	}
}

func TestTeamsAcrossTenants(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a, b := e.enterprise(), e.enterprise()
	teamA := e.teamID(a.Admin, map[string]any{"name": "Secret"})
	userA := e.createUsers(a.Admin, "ann", 1, nil)[0]
	wantStatus(t, e.putMember(a.Admin, teamA, userA, "admin"), http.StatusCreated)
	teamB := e.teamID(b.Admin, map[string]any{"name": "Open"})
	userB := e.createUsers(b.Admin, "ben", 1, nil)[0]

	for _, req := range []request{
		{Method: "GET", Path: "/api/v1/teams/" + teamA},
		{Method: "PATCH", Path: "/api/v1/teams/" + teamA, Body: map[string]any{"name": "Mine"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + teamA},
		{Method: "GET", Path: "/api/v1/teams/" + teamA + "/members"},
		{Method: "PUT", Path: "/api/v1/teams/" + teamA + "/members/" + userA, Body: map[string]any{"role": "member"}},
		{Method: "PUT", Path: "/api/v1/teams/" + teamA + "/members/" + userB, Body: map[string]any{"role": "member"}},
		{Method: "PUT", Path: "/api/v1/teams/" + teamB + "/members/" + userA, Body: map[string]any{"role": "member"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + teamA + "/members/" + userA},
		{Method: "DELETE", Path: "/api/v1/teams/" + teamB + "/members/" + userA},
		{Method: "GET", Path: "/api/v1/teams?parent_id=" + teamA},
		{Method: "POST", Path: "/api/v1/teams", Body: map[string]any{"name": "Inside", "parent_id": teamA}},
		{Method: "PATCH", Path: "/api/v1/teams/" + teamB, Body: map[string]any{"parent_id": teamA}},
	} {
		req.Token = b.Admin
		wantProblem(t, e.do(req), http.StatusNotFound, "")
	}
	if names, _ := teamNames(t, e.do(request{Method: "GET", Path: "/api/v1/teams", Token: b.Admin})); strings.Join(names, ",") != "Open" {
		t.Fatalf("tenant B's teams: %v", names)
	}
	// A's team is as it was.
	if got := e.team(a.Admin, teamA); got["name"] != "Secret" || got["member_count"] != 1.0 {
		t.Fatalf("tenant A's team: %v", got)
	}
	// And A's team name is free in B.
	e.createTeam(b.Admin, map[string]any{"name": "secret"})
}

func TestTeamsNeedEnterprise(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	pro := testtenant.NewTenantOnPlan(t, e.DB, roster.PlanProfessional)
	for _, c := range []tenantCreds{e.A, pro} {
		wantCode(t, e.do(request{Method: "POST", Path: "/api/v1/teams", Token: c.Admin, Body: map[string]any{"name": "Team"}}), http.StatusForbidden, "plan_required")
		// Reading needs no plan.
		if names, _ := teamNames(t, e.do(request{Method: "GET", Path: "/api/v1/teams", Token: c.Viewer})); len(names) != 0 {
			t.Fatalf("teams: %v", names)
		}
	}
	// A tenant that leaves enterprise keeps its teams to read, not to change.
	c := e.enterprise()
	id := e.teamID(c.Admin, map[string]any{"name": "Kept"})
	if _, err := openTestDB(t).Exec(`UPDATE tenants SET plan = 'professional' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, req := range []request{
		{Method: "PATCH", Path: "/api/v1/teams/" + id, Body: map[string]any{"name": "Changed"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + id},
		{Method: "PUT", Path: "/api/v1/teams/" + id + "/members/" + c.AdminID, Body: map[string]any{"role": "member"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + id + "/members/" + c.AdminID},
	} {
		req.Token = c.Admin
		wantCode(t, e.do(req), http.StatusForbidden, "plan_required")
	}
	if got := e.team(c.Viewer, id); got["name"] != "Kept" {
		t.Fatalf("team: %v", got)
	}
}

// TestTeamEscalation: neither a holder of teams:write nor a team's admin
// gives anyone, through a team, more than they hold themselves.
func TestTeamEscalation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	e.createRole(c.Admin, map[string]any{"name": "team-manager", "permissions": []string{"users:read", "teams:write"}})
	_, manager := e.userWithRole(c, "tim", "team-manager")

	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/teams", Token: manager, Body: map[string]any{"name": "Admins", "roles": []string{"admin"}}}), http.StatusForbidden, "")
	readers := e.teamID(manager, map[string]any{"name": "Readers", "roles": []string{"viewer"}})
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + readers, Token: manager, Body: map[string]any{"roles": []string{"viewer", "admin"}}}), http.StatusForbidden, "")

	// A team the admin gave the admin role: the manager may neither add to
	// it, take from it, delete it nor move a team under it.
	bosses := e.teamID(c.Admin, map[string]any{"name": "Bosses", "roles": []string{"admin"}})
	victim := e.createUsers(c.Admin, "victim", 1, nil)[0]
	boss := e.createUsers(c.Admin, "boss", 1, nil)[0]
	wantStatus(t, e.putMember(c.Admin, bosses, boss, "member"), http.StatusCreated)
	for _, req := range []request{
		{Method: "PUT", Path: "/api/v1/teams/" + bosses + "/members/" + victim, Body: map[string]any{"role": "member"}},
		{Method: "DELETE", Path: "/api/v1/teams/" + bosses + "/members/" + boss},
		{Method: "DELETE", Path: "/api/v1/teams/" + bosses},
		{Method: "PATCH", Path: "/api/v1/teams/" + readers, Body: map[string]any{"parent_id": bosses}},
	} {
		req.Token = manager
		wantProblem(t, e.do(req), http.StatusForbidden, "")
	}

	// A viewer who administers Area may not add anyone to a team below a
	// team that gives admin.
	area := e.teamID(c.Admin, map[string]any{"name": "Area"})
	board := e.teamID(c.Admin, map[string]any{"name": "Board", "parent_id": area, "roles": []string{"admin"}})
	committee := e.teamID(c.Admin, map[string]any{"name": "Committee", "parent_id": board})
	valID, val := e.userWithRole(c, "val", "viewer")
	wantStatus(t, e.putMember(c.Admin, area, valID, "admin"), http.StatusCreated)
	wantProblem(t, e.putMember(val, committee, victim, "member"), http.StatusForbidden, "")
	wantProblem(t, e.putMember(val, board, victim, "member"), http.StatusForbidden, "")
	wantStatus(t, e.putMember(val, area, victim, "member"), http.StatusCreated)
	for _, id := range []string{committee, board} {
		if n := e.team(c.Viewer, id)["member_count"]; n != 0.0 {
			t.Fatalf("a refused member was added: %v", n)
		}
	}
	if e.team(c.Viewer, bosses)["member_count"] != 1.0 {
		t.Fatal("the bosses changed")
	}
}

// TestTeamAdmins: an admin of a team manages the members of it and of its
// subteams, nothing else, and without users:read only people already in
// their teams.
func TestTeamAdmins(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	e.createRole(c.Admin, map[string]any{"name": "lead", "permissions": []string{"mfa:enroll"}})
	leadID, lead := e.userWithRole(c, "lee", "lead")
	platform := e.teamID(c.Admin, map[string]any{"name": "Platform"})
	api := e.teamID(c.Admin, map[string]any{"name": "API", "parent_id": platform})
	gateway := e.teamID(c.Admin, map[string]any{"name": "Gateway", "parent_id": api})
	web := e.teamID(c.Admin, map[string]any{"name": "Web", "parent_id": platform})
	wantStatus(t, e.putMember(c.Admin, api, leadID, "admin"), http.StatusCreated)
	inside := e.createUsers(c.Admin, "inside", 1, nil)[0]
	outsider := e.createUsers(c.Admin, "outsider", 1, nil)[0]
	wantStatus(t, e.putMember(c.Admin, api, inside, "member"), http.StatusCreated)

	// A subteam's members: yes.
	wantStatus(t, e.putMember(lead, gateway, inside, "member"), http.StatusCreated)
	wantStatus(t, e.putMember(lead, gateway, inside, "admin"), http.StatusOK)
	wantStatus(t, e.do(request{Method: "DELETE", Path: "/api/v1/teams/" + gateway + "/members/" + inside, Token: lead}), http.StatusNoContent)
	// A sibling's, or the parent's: no.
	wantProblem(t, e.putMember(lead, web, inside, "member"), http.StatusForbidden, "")
	wantProblem(t, e.putMember(lead, platform, inside, "member"), http.StatusForbidden, "")
	// Without users:read, nobody outside their teams exists for them.
	wantProblem(t, e.putMember(lead, gateway, outsider, "member"), http.StatusNotFound, "")
	wantProblem(t, e.putMember(lead, gateway, fakeID, "member"), http.StatusNotFound, "")
	// The teams themselves are not theirs to change, or to read.
	for _, req := range []request{
		{Method: "PATCH", Path: "/api/v1/teams/" + api, Body: map[string]any{"name": "Mine"}},
		{Method: "PATCH", Path: "/api/v1/teams/" + gateway, Body: map[string]any{"parent_id": nil}},
		{Method: "DELETE", Path: "/api/v1/teams/" + gateway},
		{Method: "POST", Path: "/api/v1/teams", Body: map[string]any{"name": "Side", "parent_id": api}},
		{Method: "GET", Path: "/api/v1/teams/" + api},
	} {
		req.Token = lead
		wantProblem(t, e.do(req), http.StatusForbidden, "")
	}

	// An admin who may read every user may add any of them.
	vicID, vic := e.userWithRole(c, "vic", "viewer")
	wantStatus(t, e.putMember(c.Admin, web, vicID, "admin"), http.StatusCreated)
	wantStatus(t, e.putMember(vic, web, outsider, "member"), http.StatusCreated)

	members, _ := memberPage(t, e.do(request{Method: "GET", Path: "/api/v1/teams/" + platform + "/members?subteams=true", Token: c.Viewer}))
	slices.Sort(members)
	want := []string{api + ":" + leadID, api + ":" + inside, web + ":" + vicID, web + ":" + outsider}
	slices.Sort(want)
	if !slices.Equal(members, want) {
		t.Fatalf("members: %v, want %v", members, want)
	}
	actions := e.auditActions(c.Admin, "target_id="+gateway)
	for _, a := range []string{"team.member_added", "team.member_changed", "team.member_removed"} {
		if !slices.Contains(actions, a) {
			t.Errorf("no %s by the team admin: %v", a, actions)
		}
	}
}

// TestTeamInput: bad input is a 4xx problem naming the field, never 500.
func TestTeamInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	team := "/api/v1/teams/" + e.teamID(c.Admin, map[string]any{"name": "Input"})
	member := team + "/members/" + c.AdminID
	membersCursor := func() string {
		wantStatus(t, e.putMember(c.Admin, strings.TrimPrefix(team, "/api/v1/teams/"), c.AdminID, "member"), http.StatusCreated)
		other := e.createUsers(c.Admin, "cursor", 1, nil)[0]
		wantStatus(t, e.putMember(c.Admin, strings.TrimPrefix(team, "/api/v1/teams/"), other, "member"), http.StatusCreated)
		_, next := memberPage(t, e.do(request{Method: "GET", Path: team + "/members?limit=1", Token: c.Admin}))
		return next
	}()
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		field        string
		invalid      bool
	}{
		{"POST", "/api/v1/teams", map[string]any{}, 400, "name", true},
		{"POST", "/api/v1/teams", map[string]any{"name": "   "}, 400, "name", false},
		{"POST", "/api/v1/teams", map[string]any{"name": strings.Repeat("n", 256)}, 400, "name", true},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "description": strings.Repeat("d", 1001)}, 400, "description", true},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "roles": []string{"superuser"}}, 400, "roles", false},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "roles": []string{"Bad Role"}}, 400, "roles", false},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "roles": "admin"}, 400, "roles", true},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "parent_id": "nope"}, 400, "parent_id", true},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "parent_id": fakeID}, 404, "parent_id", false},
		{"POST", "/api/v1/teams", map[string]any{"name": "x", "colour": "red"}, 400, "colour", true},
		{"POST", "/api/v1/teams", "not json", 400, "body", true},
		{"PATCH", team, map[string]any{"parent_id": "nope"}, 400, "parent_id", true},
		{"PATCH", team, map[string]any{"roles": nil}, 400, "roles", true},
		{"PATCH", team, map[string]any{"name": 5}, 400, "name", true},
		{"PATCH", team, map[string]any{"name": ""}, 400, "name", true},
		{"PATCH", team, map[string]any{"roles": []string{"nope"}}, 400, "roles", false},
		{"PATCH", "/api/v1/teams/nope", map[string]any{"name": "x"}, 404, "", false},
		{"GET", "/api/v1/teams/nope", nil, 404, "", false},
		{"DELETE", "/api/v1/teams/nope", nil, 404, "", false},
		{"GET", "/api/v1/teams/nope/members", nil, 404, "", false},
		{"PUT", member, map[string]any{"role": "owner"}, 400, "role", true},
		{"PUT", member, map[string]any{}, 400, "role", true},
		{"PUT", team + "/members/nope", map[string]any{"role": "member"}, 404, "", false},
		{"PUT", "/api/v1/teams/nope/members/" + c.AdminID, map[string]any{"role": "member"}, 404, "", false},
		{"DELETE", team + "/members/nope", nil, 404, "", false},
		{"GET", team + "/members?subteams=yes", nil, 400, "subteams", true},
		{"GET", team + "/members?cursor=bad", nil, 400, "cursor", false},
		{"GET", team + "/members?limit=0", nil, 400, "limit", true},
		{"GET", "/api/v1/teams?cursor=" + membersCursor, nil, 400, "cursor", false},
		{"GET", "/api/v1/teams?top_level=maybe", nil, 400, "top_level", true},
		{"GET", "/api/v1/teams?parent_id=nope", nil, 400, "parent_id", true},
		{"GET", "/api/v1/teams?limit=500", nil, 400, "limit", true},
	} {
		r := e.do(request{Method: tc.method, Path: tc.path, Token: c.Admin, Body: tc.body, Invalid: tc.invalid})
		wantProblem(t, r, tc.status, tc.field)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: team, Token: c.Admin, Header: map[string]string{"If-Match": "3"},
		Body: map[string]any{"description": "x"}}), http.StatusBadRequest, "If-Match")
	wantProblem(t, e.do(request{Method: "DELETE", Path: team, Token: c.Admin, Header: map[string]string{"If-Match": "3"}}), http.StatusBadRequest, "If-Match")
}

// TestRoleGivenByTeam: a custom role a team gives is in use.
func TestRoleGivenByTeam(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.enterprise()
	role := e.createRole(c.Admin, map[string]any{"name": "auditor", "permissions": []string{"users:read", "audit:read"}})
	team := e.teamID(c.Admin, map[string]any{"name": "Audit", "roles": []string{"auditor"}})
	del := e.do(request{Method: "DELETE", Path: "/api/v1/roles/" + role, Token: c.Admin})
	wantProblem(t, del, http.StatusConflict, "")
	if !strings.Contains(string(del.Body), "1 team gives it") {
		t.Fatalf("in use: %s", del.Body)
	}
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/roles/" + role, Token: c.Admin, Body: map[string]any{"name": "auditors"}}), http.StatusConflict, "")
	wantStatus(t, e.do(request{Method: "PATCH", Path: "/api/v1/teams/" + team, Token: c.Admin, Body: map[string]any{"roles": []string{}}}), http.StatusOK)
	wantStatus(t, e.do(request{Method: "DELETE", Path: "/api/v1/roles/" + role, Token: c.Admin}), http.StatusNoContent)
}
