package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// groupOperations are the groups' operations for allOperations.
func groupOperations() []request {
	return []request{
		{Method: "GET", Path: "/api/v1/groups"},
		{Method: "GET", Path: "/api/v1/groups/" + fakeID},
		{Method: "GET", Path: "/api/v1/groups/" + fakeID + "/members"},
	}
}

type groupBody struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"display_name"`
	ExternalID  *string `json:"external_id"`
	Version     int64   `json:"version"`
	ManagedBy   string  `json:"managed_by"`
	MemberCount *int    `json:"member_count"`
}

type groupMemberBody struct {
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Active      bool   `json:"active"`
}

type listBody[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// createGroup stores a group as a SCIM client would, with members.
func createGroup(t *testing.T, e *testEnv, tenantID, name string, members ...string) *roster.Group {
	t.Helper()
	g := &roster.Group{DisplayName: name}
	for _, id := range members {
		g.Members = append(g.Members, roster.GroupMember{UserID: id})
	}
	created, err := store.NewGroupService(e.DB).CreateGroup(context.Background(), tenantID, roster.Actor{Type: roster.ActorSystem, ID: "test"}, g)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// pageAll follows next_cursor from path until the last page, returning
// every item and how many pages it took.
func pageAll[T any](t *testing.T, e *testEnv, token, path string) ([]T, int) {
	t.Helper()
	var all []T
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next, pages := path, 0
	for {
		r := e.do(request{Method: "GET", Path: next, Token: token})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, r.Status, r.Body)
		}
		var page listBody[T]
		r.JSON(t, &page)
		all, pages = append(all, page.Items...), pages+1
		if page.NextCursor == nil {
			return all, pages
		}
		next = path + sep + "cursor=" + url.QueryEscape(*page.NextCursor)
	}
}

func TestGroupsList(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.newTenant()
	for _, name := range []string{"gamma", "Beta", "alpha", "beta two", "BETAMAX"} {
		createGroup(t, e, c.ID, name)
	}
	createGroup(t, e, e.B.ID, "Beta of B")

	names := func(gs []groupBody) []string {
		out := make([]string, len(gs))
		for i, g := range gs {
			out[i] = g.DisplayName
			if g.ManagedBy != "scim" || g.MemberCount != nil || g.Version != 1 {
				t.Fatalf("list item %+v: want managed_by scim, version 1, no member_count", g)
			}
		}
		return out
	}
	all, pages := pageAll[groupBody](t, e, c.Viewer, "/api/v1/groups?limit=2")
	if want := []string{"alpha", "Beta", "beta two", "BETAMAX", "gamma"}; !slices.Equal(names(all), want) || pages != 3 {
		t.Fatalf("groups in %d pages: %q, want %q in 3", pages, names(all), want)
	}
	prefixed, _ := pageAll[groupBody](t, e, c.Developer, "/api/v1/groups?q=BeTa&limit=1")
	if want := []string{"Beta", "beta two", "BETAMAX"}; !slices.Equal(names(prefixed), want) {
		t.Fatalf("q=BeTa: %q, want %q", names(prefixed), want)
	}
	// LIKE's wildcards are the characters themselves.
	if none, _ := pageAll[groupBody](t, e, c.Viewer, "/api/v1/groups?q="+url.QueryEscape("b%")); len(none) != 0 {
		t.Fatalf(`q="b%%": %q, want none`, names(none))
	}

	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/groups", Token: c.SCIM}), http.StatusForbidden, "")
	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=ten", "limit"},
		{"cursor=not-a-cursor", "cursor"},
		{"cursor=" + url.QueryEscape(fakeCursor(`{"s":"groups","k":["x","not-a-uuid"]}`)), "cursor"},
		{"cursor=" + url.QueryEscape(fakeCursor(`{"s":"groups","k":["x\u0000","`+fakeID+`"]}`)), "cursor"},
		{"cursor=" + url.QueryEscape(fakeCursor(`{"s":"group_members","k":["`+fakeID+`"]}`)), "cursor"},
		{"q=" + strings.Repeat("x", 257), "q"},
		{"sort=name", "sort"},
	} {
		wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/groups?" + tc.query, Token: c.Admin, Invalid: true}), http.StatusBadRequest, tc.field)
	}
}

func TestGroupGet(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	g := createGroup(t, e, e.A.ID, "Staff", e.A.AdminID)
	other := createGroup(t, e, e.B.ID, "Staff", e.B.AdminID)

	r := e.do(request{Method: "GET", Path: "/api/v1/groups/" + g.ID, Token: e.A.Viewer})
	var got groupBody
	r.JSON(t, &got)
	if r.Status != http.StatusOK || got.ID != g.ID || got.DisplayName != "Staff" || got.ExternalID != nil ||
		got.ManagedBy != "scim" || got.MemberCount == nil || *got.MemberCount != 1 {
		t.Fatalf("get group: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/groups/" + other.ID, "/api/v1/groups/" + other.ID + "/members", "/api/v1/groups/" + fakeID} {
		wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.A.Admin}), http.StatusNotFound, "")
	}
	for _, path := range []string{"/api/v1/groups/not-a-uuid", "/api/v1/groups/not-a-uuid/members", "/api/v1/groups/" + strings.ToUpper(fakeID) + "0"} {
		wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.A.Admin, Invalid: true}), http.StatusNotFound, "")
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/groups/" + g.ID, Token: e.A.SCIM}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/groups/" + g.ID + "?x=1", Token: e.A.Admin, Invalid: true}), http.StatusBadRequest, "x")
}

// TestGroupMembersPaging pages a group larger than every page size through
// its cursors: each member once, in user id order, none missing.
func TestGroupMembersPaging(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	c := e.newTenant()
	if _, err := e.DB.SeedUsers(context.Background(), c.ID, 260); err != nil {
		t.Fatal(err)
	}
	users, _ := pageAll[struct {
		ID string `json:"id"`
	}](t, e, c.Admin, "/api/v1/users?limit=200")
	var members []string
	for _, u := range users {
		members = append(members, u.ID)
	}
	g := createGroup(t, e, c.ID, "Everyone", members...)
	createGroup(t, e, c.ID, "Nobody")
	slices.Sort(members)

	for _, tc := range []struct {
		query string
		pages int
	}{{"", 6}, {"?limit=200", 2}, {"?limit=7", 38}} {
		got, pages := pageAll[groupMemberBody](t, e, c.Viewer, "/api/v1/groups/"+g.ID+"/members"+tc.query)
		ids := make([]string, len(got))
		for i, m := range got {
			ids[i] = m.UserID
			if m.Email == "" || m.DisplayName == "" {
				t.Fatalf("member %+v lacks email or name", m)
			}
		}
		if !slices.Equal(ids, members) || pages != tc.pages {
			t.Fatalf("members%s: %d in %d pages, want the %d members in id order in %d", tc.query, len(ids), pages, len(members), tc.pages)
		}
	}
	r := e.do(request{Method: "GET", Path: "/api/v1/groups/" + g.ID, Token: c.Viewer})
	if got := r.Object(t)["member_count"]; got != float64(len(members)) {
		t.Fatalf("member_count %v, want %d", got, len(members))
	}
	if empty, pages := pageAll[groupMemberBody](t, e, c.Viewer, "/api/v1/groups/"+createGroup(t, e, c.ID, "Empty").ID+"/members"); len(empty) != 0 || pages != 1 {
		t.Fatalf("empty group: %d members in %d pages", len(empty), pages)
	}

	path := "/api/v1/groups/" + g.ID + "/members?"
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: c.SCIM}), http.StatusForbidden, "")
	for _, tc := range []struct{ query, field string }{
		{"limit=-1", "limit"},
		{"limit=1.5", "limit"},
		{"cursor=%%%", "cursor"},
		{"cursor=" + url.QueryEscape(fakeCursor(`{"s":"group_members","k":["nope"]}`)), "cursor"},
		{"cursor=" + url.QueryEscape(fakeCursor(`{"s":"groups","k":["a","`+fakeID+`"]}`)), "cursor"},
		{"q=a", "q"},
	} {
		wantProblem(t, e.do(request{Method: "GET", Path: path + tc.query, Token: c.Admin, Invalid: true}), http.StatusBadRequest, tc.field)
	}
}

// fakeCursor encodes a cursor as the store does, with any content.
func fakeCursor(raw string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}
