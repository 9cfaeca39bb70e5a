package graphql_test

import (
	"context"
	"testing"
)

type userPage struct {
	Users struct {
		Edges []struct {
			Cursor string
			Node   struct{ ID string }
		}
		PageInfo struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
	}
}

const usersPageQuery = `query($first: Int, $after: String, $order: UserOrder) {
  users(first: $first, after: $after, orderBy: $order) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
}`

// TestPaginationToTheEnd walks a 1,000-user list page by page, in two
// orders, and finds every user once.
func TestPaginationToTheEnd(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 999); err != nil {
		t.Fatal(err)
	}
	for _, order := range []map[string]any{nil, {"field": "EMAIL", "direction": "DESC"}, {"field": "LAST_LOGIN_AT"}} {
		seen := map[string]bool{}
		var after *string
		pages := 0
		for {
			var p userPage
			e.query(e.A.Viewer, usersPageQuery, &p, "first", 137, "after", after, "order", order)
			pages++
			for _, edge := range p.Users.Edges {
				if seen[edge.Node.ID] {
					t.Fatalf("order %v: %s twice", order, edge.Node.ID)
				}
				seen[edge.Node.ID] = true
			}
			if !p.Users.PageInfo.HasNextPage {
				break
			}
			last := p.Users.Edges[len(p.Users.Edges)-1].Cursor
			if p.Users.PageInfo.EndCursor == nil || *p.Users.PageInfo.EndCursor != last {
				t.Fatalf("endCursor %v is not the last edge's %s", p.Users.PageInfo.EndCursor, last)
			}
			after = p.Users.PageInfo.EndCursor
		}
		if len(seen) != 1000 || pages != 8 {
			t.Fatalf("order %v: %d users in %d pages, want 1000 in 8", order, len(seen), pages)
		}
	}
}

// TestEdgeCursorResumes pages on from an edge in the middle of a page.
func TestEdgeCursorResumes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for i := range 6 {
		e.createUser(e.A.Admin, uniqueEmail(t, string(rune('a'+i))))
	}
	var all, rest userPage
	e.query(e.A.Viewer, usersPageQuery, &all, "first", 7)
	if len(all.Users.Edges) != 7 || all.Users.PageInfo.HasNextPage {
		t.Fatalf("all: %+v", all.Users)
	}
	e.query(e.A.Viewer, usersPageQuery, &rest, "first", 2, "after", all.Users.Edges[2].Cursor)
	if len(rest.Users.Edges) != 2 || rest.Users.Edges[0].Node.ID != all.Users.Edges[3].Node.ID ||
		rest.Users.Edges[1].Node.ID != all.Users.Edges[4].Node.ID || !rest.Users.PageInfo.HasNextPage {
		t.Fatalf("after the third: %+v", rest.Users)
	}
	var none userPage
	e.query(e.A.Viewer, usersPageQuery, &none, "first", 5, "after", all.Users.Edges[6].Cursor)
	if len(none.Users.Edges) != 0 || none.Users.PageInfo.HasNextPage {
		t.Fatalf("after the last: %+v", none.Users)
	}
	e.wantCode(e.A.Viewer, "invalid", "after", usersPageQuery, "after", "not-a-cursor")
	e.wantCode(e.A.Viewer, "invalid", "first", usersPageQuery, "first", 201)
	e.wantCode(e.A.Viewer, "invalid", "first", usersPageQuery, "first", 0)
}
