package store_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestPendingApprovalUsesItsIndex checks the plans of the directory's
// pending_approval filter, its count and the stats figure on a tenant of
// 50,000 users of whom 5 wait: each reads the partial index, never the
// tenant.
func TestPendingApprovalUsesItsIndex(t *testing.T) {
	db := MustOpen(t)
	sqlDB := openSQL(t)
	a := MustTenant(t, db)
	if _, err := sqlDB.Exec(`
		INSERT INTO users (tenant_id, id, user_name, email, role, active, pending_approval, created_at, updated_at)
		SELECT $1, gen_random_uuid(), 'u' || i, 'u' || i || '@example.com', 'viewer', i % 10000 <> 0, i % 10000 = 0,
		       now() - i * interval '1 second', now()
		FROM generate_series(1, 50000) i`, a.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec(`ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	pending := true
	list, listArgs, err := store.UserListQuery(a.Tenant.ID, roster.UserFilter{PendingApproval: &pending, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	count, countArgs, err := store.UserCountQuery(a.Tenant.ID, roster.UserFilter{PendingApproval: &pending})
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"list":  {list, listArgs},
		"count": {count, countArgs},
		"stats": {`SELECT count(*) FROM users WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2) AND pending_approval`, []any{a.Tenant.ID, nil}},
	} {
		text := explainAnalyze(t, sqlDB, q.sql, q.args...)
		t.Logf("%s:\n%s", name, text)
		if !strings.Contains(text, "users_pending_approval_idx") || strings.Contains(text, "Seq Scan") {
			t.Errorf("%s does not read users_pending_approval_idx alone:\n%s", name, text)
		}
	}
}

// explainAnalyze runs EXPLAIN (ANALYZE, BUFFERS) of query and returns the
// plan.
func explainAnalyze(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN (ANALYZE, BUFFERS) `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
