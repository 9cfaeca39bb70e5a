package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestSignInHistoryAtScale: with 100,000 sign-ins of one user and as many
// failures at unknown accounts, a page of the history (the first and one
// deep in it), the device check of a new sign-in and the dashboard's
// failure count each read only the index entries they return, and a page
// takes well under the 20 ms the issue allows.
func TestSignInHistoryAtScale(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	a := MustTenant(t, db)
	tid, uid := a.Tenant.ID, a.Admin.ID
	sqlDB := openSQL(t)
	// In slices, each its own short transaction: a long one would hold
	// back the events feed of every other test on the server.
	for from := 1; from <= 200000; from += 20000 {
		if _, err := sqlDB.ExecContext(ctx, `
			INSERT INTO sign_ins (tenant_id, id, user_id, at, address, network, user_agent, method, result, reason)
			SELECT $1, gen_random_uuid(), CASE WHEN i % 2 = 0 THEN $2::uuid END, now() - i * interval '10 seconds',
			       '203.0.113.' || (i % 250), '203.0.113.0/24', 'Agent/' || (i % 7), 'password',
			       CASE WHEN i % 3 = 0 THEN 'success' ELSE 'failure' END,
			       CASE WHEN i % 3 = 0 THEN '' ELSE 'wrong_password' END
			FROM generate_series($3::int, $3::int + 19999) i`, tid, uid, from); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqlDB.ExecContext(ctx, `VACUUM ANALYZE sign_ins`); err != nil {
		t.Fatal(err)
	}
	history := store.NewSignInHistoryService(db)
	var pages []time.Duration
	cursor := ""
	for range 40 {
		start := time.Now()
		page, err := history.FindSignIns(ctx, tid, uid, roster.SignInFilter{Limit: 50, Cursor: cursor})
		pages = append(pages, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 50 || page.NextCursor == "" {
			t.Fatalf("a page of %d, next %q", len(page.Items), page.NextCursor)
		}
		cursor = page.NextCursor
	}
	slices.Sort(pages)
	t.Logf("40 pages of 50 of 100,000 sign-ins: median %v, slowest %v", pages[len(pages)/2], pages[len(pages)-1])

	deep := time.Now().Add(-500 * time.Hour).UTC().Format(time.RFC3339Nano)
	for name, q := range map[string]struct {
		sql   string
		index string
		args  []any
	}{
		"first page": {store.SignInsOfUserSQL + ` ORDER BY at DESC, id LIMIT 51`, "sign_ins_user_idx", []any{tid, uid}},
		"deep page": {store.SignInsOfUserSQL + ` AND at <= $3::timestamptz AND (at < $3::timestamptz OR id > $4::uuid)
			ORDER BY at DESC, id LIMIT 51`, "sign_ins_user_idx", []any{tid, uid, deep, "00000000-0000-0000-0000-000000000000"}},
		"device": {store.SignInDeviceSQL, "sign_ins_device_idx",
			[]any{tid, uid, "198.51.100.0/24", "Agent/3", time.Now().Add(-roster.NewDeviceWindow)}},
		"failed 24h": {store.StatsFailedSignInsSQL, "sign_ins_failed_idx", []any{tid, time.Now().Add(-24 * time.Hour)}},
	} {
		plan := explainAnalyze(t, sqlDB, q.sql, q.args...)
		t.Logf("%s:\n%s", name, plan)
		if !strings.Contains(plan, q.index) || strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") ||
			strings.Contains(plan, "Rows Removed by Filter") {
			t.Errorf("%s does not read %s alone:\n%s", name, q.index, plan)
		}
	}
}
