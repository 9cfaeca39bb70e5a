package main

import "github.com/rosterhq/roster/graphql"

// graphQLLimitsFromEnv reads ROSTER_GRAPHQL_MAX_DEPTH,
// ROSTER_GRAPHQL_MAX_COMPLEXITY, ROSTER_GRAPHQL_MAX_TOKENS and
// ROSTER_GRAPHQL_MAX_ALIASES; unset ones keep graphql's defaults. The body
// limit is ROSTER_MAX_BODY_BYTES, as for REST.
func graphQLLimitsFromEnv(getenv func(string) string) (graphql.Limits, error) {
	var l graphql.Limits
	err := intsFromEnv(getenv, []intSetting{
		{"ROSTER_GRAPHQL_MAX_DEPTH", &l.Depth, 2, 100, "levels"},
		{"ROSTER_GRAPHQL_MAX_COMPLEXITY", &l.Complexity, 10, 10_000_000, "cost units"},
		{"ROSTER_GRAPHQL_MAX_TOKENS", &l.Tokens, 100, 1_000_000, "tokens"},
		{"ROSTER_GRAPHQL_MAX_ALIASES", &l.Aliases, 1, 10_000, "aliases"},
	})
	return l, err
}
