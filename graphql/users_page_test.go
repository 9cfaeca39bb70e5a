package graphql_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/graphql"
)

// TestUsersPagesAnswerAsGenerated: a users field written straight from its
// selection answers byte for byte what gqlgen's generated code answers,
// for every shape of selection the page writes and for those it hands on.
func TestUsersPagesAnswerAsGenerated(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 30); err != nil {
		t.Fatal(err)
	}
	signedIn, _ := e.signedInUser(uniqueEmail(t, "page-signed-in")) // a lastLoginAt
	e.query(e.A.Admin, `mutation($id: ID!) { updateUser(id: $id, input: {externalId: "ext-\"quoted\"\\ é"}) { user { id } } }`, nil, "id", signedIn)

	const scalars = `id email userName givenName familyName displayName externalId role active createdAt updatedAt lastLoginAt version __typename`
	var after string
	for _, q := range []string{
		`{ users(first: 50) { edges { cursor node { ` + scalars + ` } } pageInfo { hasNextPage endCursor } } }`,
		`{ users(first: 7, orderBy: {field: EMAIL, direction: DESC}) { __typename pageInfo { endCursor hasNextPage __typename } edges { __typename node { email id } cursor } } }`,
		`{ a: users(first: 3) { e: edges { c: cursor n: node { mail: email mail2: email } } } b: users(first: 2, filter: {active: true}) { pageInfo { hasNextPage } } }`,
		`query($f: UserFilter, $skip: Boolean!) { users(first: 5, filter: $f) { edges { node { ...Names id @skip(if: $skip) role @include(if: $skip) } } } } fragment Names on User { givenName familyName }`,
		`{ users(first: 2, filter: {q: "nobody-matches-this"}) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
		`{ users(first: 4) { edges { node { id mfa { enabled } } } } }`,
		`{ users(first: 4, after: "not a cursor") { edges { node { id } } } }`,
		`{ users(first: 500) { edges { node { id } } } }`,
		`{ users(first: 50) { edges { node { id lastLoginAt } } } usersCount { count } }`,
	} {
		vars := map[string]any{"f": map[string]any{"mfa": "DISABLED"}, "skip": true}
		fast, slow := e.rawQuery(t, context.Background(), q, vars), e.rawQuery(t, graphql.WithoutUsersPages(context.Background()), q, vars)
		if fast != slow {
			t.Fatalf("%s\nwritten: %s\ngenerated: %s", q, fast, slow)
		}
		if strings.Contains(q, "first: 7") {
			var page struct {
				Data struct {
					Users struct{ PageInfo struct{ EndCursor string } }
				}
			}
			if err := json.Unmarshal([]byte(fast), &page); err != nil || page.Data.Users.PageInfo.EndCursor == "" {
				t.Fatalf("no end cursor in %s: %v", fast, err)
			}
			after = page.Data.Users.PageInfo.EndCursor
		}
	}
	q := `query($after: String) { users(first: 7, after: $after, orderBy: {field: EMAIL, direction: DESC}) { edges { cursor node { email } } } }`
	if fast, slow := e.rawQuery(t, context.Background(), q, map[string]any{"after": after}),
		e.rawQuery(t, graphql.WithoutUsersPages(context.Background()), q, map[string]any{"after": after}); fast != slow {
		t.Fatalf("the second page: written %s, generated %s", fast, slow)
	}
}

// TestUsersPagesAllocateLess: the written page is the one served, by what
// it costs. Not parallel: AllocsPerRun counts the whole process.
func TestUsersPagesAllocateLess(t *testing.T) {
	e := newTestEnv(t)
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 30); err != nil {
		t.Fatal(err)
	}
	page := `{ users(first: 30) { edges { cursor node { id email userName givenName familyName displayName externalId role active createdAt updatedAt lastLoginAt } } pageInfo { hasNextPage endCursor } } }`
	fast := testing.AllocsPerRun(5, func() { e.rawQuery(t, context.Background(), page, nil) })
	slow := testing.AllocsPerRun(5, func() { e.rawQuery(t, graphql.WithoutUsersPages(context.Background()), page, nil) })
	if fast > slow/2 {
		t.Fatalf("a written page of 30 allocates %.0f times, the generated one %.0f", fast, slow)
	}
	t.Logf("a page of 30 users: %.0f allocations written, %.0f generated", fast, slow)
}

// rawQuery posts an operation as the viewer of tenant A on ctx and
// returns the answer's body.
func (e *testEnv) rawQuery(t *testing.T, ctx context.Context, q string, vars map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequestWithContext(ctx, "POST", "/graphql", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+e.A.Viewer)
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	if w.Code != http.StatusOK && w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("%s: %d %s", q, w.Code, w.Body)
	}
	return w.Body.String()
}
