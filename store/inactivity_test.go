package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// TestInactivityWalkAtScale: among 20,000 users, most of them recently
// active, the inactivity job's page of the quiet ones reads only the
// entries of users_inactive_since_idx it returns, with no sort.
func TestInactivityWalkAtScale(t *testing.T) {
	t.Parallel()
	db := MustOpen(t)
	ctx := context.Background()
	a := MustTenant(t, db)
	if _, err := db.SeedUsers(ctx, a.Tenant.ID, 20000); err != nil {
		t.Fatal(err)
	}
	sqlDB := openSQL(t)
	// All were created 400 to 500 days ago; a tenth never signed in, the
	// rest did within the last 30 days.
	if _, err := sqlDB.ExecContext(ctx, `
		UPDATE users SET
		    created_at = now() - (400 + abs(hashtext(id::text)) % 100) * interval '1 day',
		    last_login_at = CASE WHEN hashtext(id::text) % 10 = 0 THEN NULL
		                         ELSE now() - (abs(hashtext(id::text)) % 30) * interval '1 day' END
		WHERE tenant_id = $1`, a.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(ctx, `VACUUM ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	warnBy := time.Now().Add(-83 * 24 * time.Hour)
	for name, after := range map[string]time.Time{"first page": {}, "a later page": time.Now().Add(-450 * 24 * time.Hour)} {
		plan := explainAnalyze(t, sqlDB, store.InactiveUsersSQL, a.Tenant.ID, "00000000-0000-0000-0000-000000000000", warnBy, after, 500)
		t.Logf("%s:\n%s", name, plan)
		if !strings.Contains(plan, "users_inactive_since_idx") || strings.Contains(plan, "Seq Scan") ||
			strings.Contains(plan, "Sort") || strings.Contains(plan, "Rows Removed by Filter") {
			t.Errorf("%s does not read users_inactive_since_idx alone:\n%s", name, plan)
		}
	}
}
