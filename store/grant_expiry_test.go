package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestRecordEndedGrants: a worker records each grant's natural end once,
// in its own tenant, soon after it, and nothing of a grant still running
// or revoked. On a database of its own: it reads every tenant's grants.
func TestRecordEndedGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, raw := mustOwnDatabase(t)

	start := time.Now().UTC().Truncate(time.Second)
	db.Now = func() time.Time { return start }
	roles, users, expiries := store.NewRoleService(db), store.NewUserService(db), store.NewGrantExpiries(db)
	grant := func(tenant, user string, d time.Duration) string {
		t.Helper()
		g, err := roles.CreateGrant(ctx, tenant, testActor, &roster.Grant{UserID: user, Role: roster.RoleAdmin, Reason: "on call", ExpiresAt: start.Add(d)})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	expired := func(tenant string) int {
		t.Helper()
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'grant.expired'`, tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var tenants []string
	var revoked string
	for range 2 {
		b := MustTenant(t, db)
		if _, err := raw.Exec(`UPDATE tenants SET plan = 'enterprise' WHERE id = $1`, b.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		u := MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "oncall@example.com", Role: roster.RoleViewer, Active: true})
		grant(b.Tenant.ID, u.ID, time.Minute)
		grant(b.Tenant.ID, u.ID, time.Hour)
		revoked = grant(b.Tenant.ID, u.ID, 2*time.Minute)
		if err := roles.RevokeGrant(ctx, b.Tenant.ID, testActor, u.ID, revoked); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, b.Tenant.ID)
	}

	if n, err := expiries.RecordEndedGrants(ctx, 10); err != nil || n != 0 {
		t.Fatalf("before any ended: %d %v", n, err)
	}
	db.Now = func() time.Time { return start.Add(5 * time.Minute) }
	if n, err := expiries.RecordEndedGrants(ctx, 1); err != nil || n != 1 {
		t.Fatalf("a batch of one: %d %v", n, err)
	}
	if n, err := expiries.RecordEndedGrants(ctx, 10); err != nil || n != 1 {
		t.Fatalf("the rest: %d %v", n, err)
	}
	if n, err := expiries.RecordEndedGrants(ctx, 10); err != nil || n != 0 {
		t.Fatalf("again: %d %v", n, err)
	}
	for _, tenant := range tenants {
		if got := expired(tenant); got != 1 {
			t.Fatalf("tenant %s has %d grant.expired, want 1 (the minute's grant; not the hour's, not the revoked one)", tenant, got)
		}
	}
}
