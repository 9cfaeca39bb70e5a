package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestGroupRoleMappingEndpoints(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	path := "/api/v1/scim-group-roles"
	_, err := store.NewGroupService(e.DB).CreateGroup(context.Background(), e.A.ID, roster.Actor{Type: "system", ID: "test"},
		&roster.Group{DisplayName: "Staff", Members: []roster.GroupMember{{UserID: e.A.AdminID}}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(request{Method: "GET", Path: path, Token: e.A.Viewer})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"mappings":{}`) {
		t.Fatalf("empty mapping: %d %s", r.Status, r.Body)
	}
	r = e.do(request{Method: "PUT", Path: path, Token: e.A.Admin, Body: map[string]any{"mappings": map[string]string{"Roster Admins": "admin"}}})
	if r.Status != http.StatusOK {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	if r = e.do(request{Method: "GET", Path: path, Token: e.B.Admin}); strings.Contains(string(r.Body), "Roster Admins") {
		t.Fatalf("tenant B sees tenant A's mapping: %s", r.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.A.SCIM}), 403, "")
	wantProblem(t, e.do(request{Method: "PUT", Path: path, Token: e.A.Viewer, Body: map[string]any{"mappings": map[string]string{}}}), 403, "")
	wantProblem(t, e.do(request{Method: "PUT", Path: path, Token: e.A.Admin, Body: map[string]any{"mappings": map[string]string{"X": "root"}}, Invalid: true}), 400, "mappings")
	wantProblem(t, e.do(request{Method: "PUT", Path: path, Token: e.A.Admin, Body: map[string]any{"mappings": []string{"admin"}}, Invalid: true}), 400, "mappings")
	wantProblem(t, e.do(request{Method: "PUT", Path: path, Token: e.A.Admin, Body: `{"mappings": {"x": "` + strings.Repeat("y", 2<<20) + `"}}`, Invalid: true}), 413, "")
	wantProblem(t, e.do(request{Method: "GET", Path: path + "?x=1", Token: e.A.Admin, Invalid: true}), 400, "x")
	// The tenant's only admin is in Staff: mapping it to viewer would leave
	// the tenant without an admin, so it is refused, changing nothing.
	wantProblem(t, e.do(request{Method: "PUT", Path: path, Token: e.A.Admin, Body: map[string]any{"mappings": map[string]string{"staff": "viewer"}}}), 409, "")
	if r = e.do(request{Method: "GET", Path: path, Token: e.A.Admin}); !strings.Contains(string(r.Body), "Roster Admins") {
		t.Fatalf("a refused mapping was kept: %s", r.Body)
	}
}
