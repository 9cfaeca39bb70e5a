package main

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// The plans shown are those of the service's own SQL: store.UserListQuery
// builds exactly what FindUsers sends, and store.UserGetByIDSQL is the
// statement FindUserByID prepares.

// storeFilter is the list request as the store sees it.
func (f listFilter) storeFilter() roster.UserFilter {
	return roster.UserFilter{Query: f.q, Role: f.role, Active: f.active, Sort: f.sort, Limit: f.limit, Cursor: f.cursor,
		MFA: f.mfa, MFAMethod: f.mfaMethod, Team: f.team}
}

// countMatches counts the tenant's users a filter matches.
func countMatches(ctx context.Context, env *benchEnv, f listFilter) (int, error) {
	query, args, err := store.UserMatchCountQuery(env.tenantID, f.storeFilter())
	if err != nil {
		return 0, err
	}
	var n int
	err = env.db.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// explainResult is one scenario's plan.
type explainResult struct {
	scenario *scenario
	query    string
	args     []any
	plan     string
	indexes  []string // what the plan reads: index names, or "seq scan"
}

var planAccess = regexp.MustCompile(`(?:Index Only Scan|Index Scan|Index Scan Backward|Index Only Scan Backward) using (\S+)|Bitmap Index Scan on (\S+)|(Seq Scan) on`)

// explainScenarios runs EXPLAIN (ANALYZE, BUFFERS) of each scenario's SQL
// with the parameters of its (first) request. lib/pq sends parameters with
// an unnamed prepared statement, as the service does, so the planner sees
// the actual values in both.
func explainScenarios(ctx context.Context, env *benchEnv, scenarios []*scenario) ([]explainResult, error) {
	var out []explainResult
	for _, sc := range scenarios {
		var (
			query string
			args  []any
			err   error
		)
		switch {
		case sc.count:
			query, args, err = store.UserCountQuery(env.tenantID, sc.list.storeFilter())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc.name, err)
			}
		case sc.list != nil:
			query, args, err = store.UserListQuery(env.tenantID, sc.list.storeFilter())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc.name, err)
			}
		default:
			query, args = store.UserGetByIDSQL, []any{env.tenantID, sc.ids[0]}
		}
		plan, indexes, err := explainSQL(ctx, env.db, query, args)
		if err != nil {
			return nil, fmt.Errorf("EXPLAIN %s: %w", sc.name, err)
		}
		res := explainResult{scenario: sc, query: query, args: args, plan: plan, indexes: indexes}
		out = append(out, res)
		logf("EXPLAIN %s: %s", sc.name, strings.Join(res.indexes, ", "))
	}
	return out, nil
}

// explainSQL runs EXPLAIN (ANALYZE, BUFFERS) of query and returns the plan
// and what it reads: index names, or "seq scan".
func explainSQL(ctx context.Context, db *sql.DB, query string, args []any) (string, []string, error) {
	rows, err := db.QueryContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+query, args...)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", nil, err
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	plan := strings.Join(lines, "\n")
	var reads []string
	seen := map[string]bool{}
	for _, m := range planAccess.FindAllStringSubmatch(plan, -1) {
		name := m[1] + m[2]
		if m[3] != "" {
			name = "seq scan"
		}
		if !seen[name] {
			seen[name] = true
			reads = append(reads, name)
		}
	}
	return plan, reads, nil
}
