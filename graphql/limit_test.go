package graphql_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/graphql"
	"github.com/rosterhq/roster/internal/app"
)

// TestLimits sends a query over each limit: each is refused before any
// resolver runs (a mutation over a limit changes nothing), with an error
// that names the limit.
func TestLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnvOn(t, testDSN, app.Config{GraphQL: graphql.Limits{Depth: 5, Complexity: 500, Tokens: 400, Aliases: 3, BodyBytes: 4096}})
	cases := []struct{ limit, query string }{
		{"depth", `{ users { edges { node { mfa { methods { type } } } } } }`},
		{"complexity", `{ users(first: 200) { edges { node { id email } } } }`},
		{"aliases", `{ a: me { id } b: me { id } c: me { id } d: me { id } }`},
		{"tokens", `{ me { ` + strings.Repeat("id ", 400) + `} }`},
		{"aliases", `mutation { a: createUser(input: {email: "limited@example.com"}) { user { id } }
			b: createUser(input: {email: "limited2@example.com"}) { user { id } } c: unlockUser(id: "x") { user { id } }
			d: deleteUser(id: "y") { deletedUserId } }`},
	}
	for _, c := range cases {
		err := e.wantCode(e.A.Admin, "too_large", "", c.query)
		if err.Extensions.Limit != c.limit || !strings.Contains(err.Message, c.limit) {
			t.Errorf("%s: %q limit %q", c.limit, err.Message, err.Extensions.Limit)
		}
	}
	// Depth counts through fragments.
	err := e.wantCode(e.A.Admin, "too_large", "", `{ users { ...E } } fragment E on UserConnection { edges { node { mfa { methods { type } } } } }`)
	if err.Extensions.Limit != "depth" {
		t.Fatalf("fragment depth: %+v", err)
	}
	// The mutations over the aliases limit created no one: the address is
	// still free.
	e.createUser(e.A.Admin, "limited@example.com")

	big := []byte(`{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 5000) + `"}}`)
	w := e.httpDo("POST", "/graphql", e.A.Admin, "application/json", big)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), `"limit":"body"`) || !strings.Contains(w.Body.String(), `"code":"too_large"`) {
		t.Fatalf("large body: %d %s", w.Code, w.Body)
	}
}

// TestTransports: POST runs anything, GET only queries, answers in
// graphql-response+json when asked, and the schema is served as SDL.
func TestTransports(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	w := e.httpDo("GET", "/graphql?query="+url.QueryEscape(`{ me { email } }`), e.A.Admin, "", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"email"`) {
		t.Fatalf("GET query: %d %s", w.Code, w.Body)
	}
	w = e.httpDo("GET", "/graphql?query="+url.QueryEscape(`mutation { createUser(input: {email: "get@example.com"}) { user { id } } }`), e.A.Admin, "", nil)
	if w.Code == http.StatusOK || !strings.Contains(w.Body.String(), "method_not_allowed") {
		t.Fatalf("GET mutation: %d %s", w.Code, w.Body)
	}
	w = e.httpDo("GET", "/graphql?query=%zz", e.A.Admin, "", nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"code":"invalid"`) {
		t.Fatalf("undecodable query string: %d %s", w.Code, w.Body)
	}
	w = e.httpDo("PUT", "/graphql", e.A.Admin, "application/json", []byte(`{"query":"{ me { id } }"}`))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	w = e.httpDo("POST", "/graphql", e.A.Admin, "text/plain", []byte(`{ me { id } }`))
	if w.Code != http.StatusUnsupportedMediaType || !strings.Contains(w.Body.String(), "Content-Type") {
		t.Fatalf("text/plain: %d %s", w.Code, w.Body)
	}
	body := []byte(`{"query":"{ me { id } }"}`)
	w = e.httpDo("POST", "/graphql", e.A.Admin, "application/json", body, "Accept", "application/graphql-response+json")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/graphql-response+json" {
		t.Fatalf("graphql-response+json: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	w = e.httpDo("POST", "/graphql", e.A.Admin, "application/json", body)
	if w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("default content type %q", w.Header().Get("Content-Type"))
	}
	w = e.httpDo("POST", "/graphql", e.A.Admin, "application/json", []byte(`{"query":"{ nope }"}`), "Accept", "application/graphql-response+json")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"code":"invalid"`) {
		t.Fatalf("invalid query: %d %s", w.Code, w.Body)
	}
	w = e.httpDo("POST", "/graphql", e.A.Admin, "application/json", []byte(`{"query":"{ __schema { queryType { name } } }"}`))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"Query"`) {
		t.Fatalf("introspection: %d %s", w.Code, w.Body)
	}
	w = e.httpDo("GET", "/graphql/schema.graphql", "", "", nil)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), graphql.Schema()) || !strings.Contains(w.Body.String(), "type User {") {
		t.Fatalf("schema: %d %.200s", w.Code, w.Body)
	}
}
