package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The SQL below reproduces, with the same shape and parameters, what
// store/user_list.go (FindUsers) and store/user.go (FindUserByID) send, so
// that EXPLAIN shows the plans the service gets. Keep it in step with them.

const userColumns = `id, tenant_id, user_name, email, given_name, family_name, display_name,
	external_id, role, active, created_at, updated_at, last_login_at, version`

const userGetByID = `SELECT ` + userColumns + ` FROM users WHERE tenant_id = $1 AND id = $2`

const searchExpr = `(lower(email) || ' ' || lower(user_name) || ' ' || lower(given_name) || ' ' || lower(family_name))`

type sortKey struct{ expr, typ string }

var userSorts = map[string][]sortKey{
	"created_at":    {{"created_at", "timestamptz"}},
	"email":         {{"lower(email)", "text"}},
	"name":          {{"lower(family_name)", "text"}, {"lower(given_name)", "text"}},
	"last_login_at": {{"coalesce(last_login_at, '-infinity'::timestamptz)", "timestamptz"}},
}

// sqlArgs numbers query parameters as they are added, like the store's
// sqlBuilder.
type sqlArgs struct{ args []any }

func (b *sqlArgs) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// wherePart is the WHERE clause of a list request without the cursor.
func wherePart(b *sqlArgs, tenantID string, f listFilter) []string {
	where := []string{"tenant_id = " + b.arg(tenantID)}
	if f.q != "" {
		where = append(where, searchExpr+" LIKE "+b.arg("%"+escapeLike(strings.ToLower(f.q))+"%"))
	}
	if f.role != "" {
		where = append(where, "role = "+b.arg(f.role))
	}
	if f.active != nil {
		where = append(where, "active = "+b.arg(*f.active))
	}
	return where
}

// listSQL is FindUsers' query for f.
func listSQL(tenantID string, f listFilter) (string, []any, error) {
	sortName := f.sort
	if sortName == "" {
		sortName = "created_at"
	}
	name, desc := strings.CutPrefix(sortName, "-")
	keys, ok := userSorts[name]
	if !ok {
		return "", nil, fmt.Errorf("unknown sort %q", f.sort)
	}
	b := &sqlArgs{}
	where := wherePart(b, tenantID, f)
	exprs := []string{}
	for _, k := range keys {
		exprs = append(exprs, k.expr)
	}
	exprs = append(exprs, "id")
	if f.cursor != "" {
		values, err := cursorKeys(f.cursor, sortName, len(keys)+1)
		if err != nil {
			return "", nil, err
		}
		var params []string
		for i, k := range keys {
			params = append(params, b.arg(values[i])+"::"+k.typ)
		}
		params = append(params, b.arg(values[len(keys)])+"::uuid")
		op := ">"
		if desc {
			op = "<"
		}
		where = append(where, fmt.Sprintf("(%s) %s (%s)", strings.Join(exprs, ", "), op, strings.Join(params, ", ")))
	}
	order := make([]string, len(exprs))
	for i, e := range exprs {
		order[i] = e
		if desc {
			order[i] += " DESC"
		}
	}
	k1 := "NULL"
	if len(keys) > 1 {
		k1 = "to_json(" + keys[1].expr + ") #>> '{}'"
	}
	query := `SELECT ` + userColumns + `, to_json(` + keys[0].expr + `) #>> '{}' AS k0, ` + k1 + ` AS k1
		FROM users WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + b.arg(f.limit+1)
	return query, b.args, nil
}

// cursorKeys reads the sort key values out of a cursor. The cursor is
// opaque to clients; the bench looks inside (base64url JSON {"s","k"}) only
// to reproduce the service's SQL.
func cursorKeys(cursor, sort string, n int) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, fmt.Errorf("decode cursor: %w", err)
	}
	var c struct {
		S string   `json:"s"`
		K []string `json:"k"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode cursor: %w", err)
	}
	if c.S != sort || len(c.K) != n {
		return nil, fmt.Errorf("cursor for sort %q with %d keys, want %q with %d", c.S, len(c.K), sort, n)
	}
	return c.K, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// countMatches counts the tenant's users a filter matches.
func countMatches(ctx context.Context, env *benchEnv, f listFilter) (int, error) {
	b := &sqlArgs{}
	where := wherePart(b, env.tenantID, f)
	var n int
	err := env.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE `+strings.Join(where, " AND "), b.args...).Scan(&n)
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
		if sc.list != nil {
			query, args, err = listSQL(env.tenantID, *sc.list)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc.name, err)
			}
		} else {
			query, args = userGetByID, []any{env.tenantID, sc.ids[0]}
		}
		rows, err := env.db.QueryContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+query, args...)
		if err != nil {
			return nil, fmt.Errorf("EXPLAIN %s: %w", sc.name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, line)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		plan := strings.Join(lines, "\n")
		res := explainResult{scenario: sc, query: query, args: args, plan: plan}
		seen := map[string]bool{}
		for _, m := range planAccess.FindAllStringSubmatch(plan, -1) {
			name := m[1] + m[2]
			if m[3] != "" {
				name = "seq scan"
			}
			if !seen[name] {
				seen[name] = true
				res.indexes = append(res.indexes, name)
			}
		}
		out = append(out, res)
		logf("EXPLAIN %s: %s", sc.name, strings.Join(res.indexes, ", "))
	}
	return out, nil
}
