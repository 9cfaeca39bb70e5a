package main

import "testing"

func TestGraphQLLimitsConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	c, err := ConfigFromEnv(env(map[string]string{"ROSTER_GRAPHQL_MAX_DEPTH": "8", "ROSTER_GRAPHQL_MAX_COMPLEXITY": "2000",
		"ROSTER_GRAPHQL_MAX_TOKENS": "5000", "ROSTER_GRAPHQL_MAX_ALIASES": "5", "ROSTER_MAX_BODY_BYTES": "65536"}))
	if err != nil || c.GraphQL.Depth != 8 || c.GraphQL.Complexity != 2000 || c.GraphQL.Tokens != 5000 || c.GraphQL.Aliases != 5 || c.GraphQL.BodyBytes != 65536 {
		t.Fatalf("graphql limits: %+v %v", c.GraphQL, err)
	}
	for _, vars := range []map[string]string{
		{"ROSTER_GRAPHQL_MAX_DEPTH": "1"}, {"ROSTER_GRAPHQL_MAX_COMPLEXITY": "lots"}, {"ROSTER_GRAPHQL_MAX_ALIASES": "0"},
	} {
		if _, err := ConfigFromEnv(env(vars)); err == nil {
			t.Errorf("%v was accepted", vars)
		}
	}
}
