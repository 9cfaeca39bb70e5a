package graphql_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkUsersPage is the bench's GraphQL first page against REST's,
// through the router, on the test database: a profile of what GraphQL
// adds per request.
func BenchmarkUsersPage(b *testing.B) {
	e := newTestEnv(b)
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 200); err != nil {
		b.Fatal(err)
	}
	query := `{ users(first: 50) { edges { cursor node { id email userName givenName familyName displayName externalId role active createdAt updatedAt lastLoginAt } } pageInfo { hasNextPage endCursor } } }`
	for name, path := range map[string]string{
		"graphql": "/graphql?" + url.Values{"query": {query}}.Encode(),
		"rest":    "/api/v1/users?limit=50",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest("GET", path, nil)
				r.Header.Set("Authorization", "Bearer "+e.A.Viewer)
				w := httptest.NewRecorder()
				e.handler.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
