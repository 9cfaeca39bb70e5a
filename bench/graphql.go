package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// graphQLListRatioTarget is the GraphQL issue's target: users(first: 50)
// within 1.25× of the REST list's p99 with the same filter.
const graphQLListRatioTarget = 1.25

// graphQLUserFields are the fields REST's list answers with, so that both
// encode the same data.
const graphQLUserFields = `id email userName givenName familyName displayName externalId role active createdAt updatedAt lastLoginAt`

// graphQLScenarios are the REST list scenarios (first pages, no cursor)
// as GraphQL queries, sent as GET /graphql?query= on the same router.
func graphQLScenarios(rest []*scenario) []*scenario {
	var out []*scenario
	for _, sc := range rest {
		if sc.list == nil || sc.count || sc.list.cursor != "" {
			continue
		}
		query := graphQLUsersQuery(*sc.list)
		p := "/graphql?" + url.Values{"query": {query}}.Encode()
		f := *sc.list
		out = append(out, &scenario{name: "graphql " + sc.name, request: "GET /graphql " + query, list: &f,
			graphQLOf: sc, note: "the same page as REST's " + sc.name + ", with the same fields, through GraphQL",
			matches: -1, path: func(*rand.Rand) string { return p }})
	}
	return out
}

// graphQLUsersQuery is users(first:) with f's filter and order, asking for
// what REST answers: the users and the next page's cursor.
func graphQLUsersQuery(f listFilter) string {
	var filter []string
	if f.q != "" {
		filter = append(filter, "q: "+strconv.Quote(f.q))
	}
	if f.role != "" {
		filter = append(filter, "role: "+strconv.Quote(f.role))
	}
	if f.active != nil {
		filter = append(filter, fmt.Sprintf("active: %t", *f.active))
	}
	if f.mfa != nil {
		filter = append(filter, "mfa: "+map[bool]string{true: "ENABLED", false: "DISABLED"}[*f.mfa])
	}
	if f.mfaMethod != "" {
		filter = append(filter, "mfaMethod: "+strings.ToUpper(f.mfaMethod))
	}
	args := []string{fmt.Sprintf("first: %d", f.limit)}
	if len(filter) > 0 {
		args = append(args, "filter: {"+strings.Join(filter, ", ")+"}")
	}
	if f.sort != "" {
		field, dir := strings.TrimPrefix(f.sort, "-"), "ASC"
		if strings.HasPrefix(f.sort, "-") {
			dir = "DESC"
		}
		args = append(args, fmt.Sprintf("orderBy: {field: %s, direction: %s}", strings.ToUpper(field), dir))
	}
	return "{ users(" + strings.Join(args, ", ") + ") { edges { node { " + graphQLUserFields + " } } pageInfo { hasNextPage endCursor } } }"
}

// checkGraphQL runs a GraphQL scenario once: data, no errors, users
// unless a search may match none.
func checkGraphQL(ctx context.Context, c *apiClient, sc *scenario) error {
	status, body, err := c.get(ctx, sc.path(nil), true)
	if err != nil {
		return err
	}
	var resp struct {
		Data struct {
			Users struct{ Edges []json.RawMessage }
		}
		Errors []json.RawMessage
	}
	if status != http.StatusOK || json.Unmarshal(body, &resp) != nil || len(resp.Errors) > 0 {
		return fmt.Errorf("%s: HTTP %d: %.300s", sc.name, status, body)
	}
	if len(resp.Data.Users.Edges) == 0 && sc.list.q == "" {
		return fmt.Errorf("%s answered no users", sc.name)
	}
	return nil
}

// graphQLSection compares each GraphQL scenario's p99 with its REST
// twin's, measured in the same run.
func (r *report) graphQLSection(p func(string, ...any)) {
	rows := 0
	for _, res := range r.results {
		rest := r.find(func(sc *scenario) bool { return sc == res.scenario.graphQLOf })
		if res.scenario.graphQLOf == nil || rest == nil || rest.percentile(99) == 0 {
			continue
		}
		if rows == 0 {
			p("## GraphQL against REST\n\n")
			p("`users(first: %d)` through `GET /graphql?query=` against `GET /api/v1/users` with the same filter and the same\n", pageSize)
			p("fields, in the same run at concurrency %d. Target: GraphQL's p99 within %.2f× of REST's.\n\n", r.opts.concurrency, graphQLListRatioTarget)
			p("| filter | REST p99 | GraphQL p99 | ratio | REST req/s | GraphQL req/s | met |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
		}
		rows++
		ratio := float64(res.percentile(99)) / float64(rest.percentile(99))
		p("| %s | %s | %s | ×%.2f | %.0f | %.0f | %s |\n", res.scenario.graphQLOf.name, ms(rest.percentile(99)), ms(res.percentile(99)),
			ratio, rest.rate(), res.rate(), verdict(ratio <= graphQLListRatioTarget && res.errors == 0))
	}
	if rows > 0 {
		p("\n")
	}
}

// selectScenarios keeps the scenarios run matches, with each selected
// GraphQL scenario's REST twin measured just before it, so that their
// ratio comes from the same minutes of a noisy machine.
func selectScenarios(all []*scenario, run *regexp.Regexp) []*scenario {
	paired := map[*scenario]bool{}
	for _, sc := range all {
		if sc.graphQLOf != nil && run.MatchString(sc.name) {
			paired[sc.graphQLOf] = true
		}
	}
	var out []*scenario
	for _, sc := range all {
		switch {
		case paired[sc]:
			// measured beside its GraphQL twin
		case sc.graphQLOf != nil && paired[sc.graphQLOf]:
			out = append(out, sc.graphQLOf, sc)
		case run.MatchString(sc.name):
			out = append(out, sc)
		}
	}
	return out
}
