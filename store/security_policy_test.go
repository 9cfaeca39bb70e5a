package store_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestSecurityPolicy(t *testing.T) {
	db := MustOpen(t)
	tenants := store.NewTenantService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()

	p, err := tenants.SecurityPolicy(ctx, a.Tenant.ID)
	if err != nil || !reflect.DeepEqual(p, roster.DefaultSecurityPolicy()) {
		t.Fatalf("a new tenant's policy: %+v %v", p, err)
	}
	// Fields a stored policy lacks (one written before they existed) keep
	// their defaults.
	if _, err := openSQL(t).Exec(`UPDATE tenants SET settings = settings || '{"security_policy": {"mfa_required": true, "lockout": {"max_attempts": 4}}}' WHERE id = $1`,
		a.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	p, err = tenants.SecurityPolicy(ctx, a.Tenant.ID)
	want := roster.DefaultSecurityPolicy()
	want.MFARequired, want.Lockout.MaxAttempts = true, 4
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("a partial policy: %+v %v", p, err)
	}

	p.Session.AccessTokenMinutes = 61
	wantField(t, tenants.SetSecurityPolicy(ctx, a.Tenant.ID, testActor, p), "session.access_token_minutes")
	p.Session.AccessTokenMinutes = 5
	if err := tenants.SetSecurityPolicy(ctx, a.Tenant.ID, testActor, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := tenants.SecurityPolicy(ctx, a.Tenant.ID); got.AccessTokenTTL() != 5*time.Minute {
		t.Fatalf("after set: %+v", got)
	}
	if got, _ := tenants.SecurityPolicy(ctx, b.Tenant.ID); !reflect.DeepEqual(got, roster.DefaultSecurityPolicy()) {
		t.Fatalf("tenant B's policy changed: %+v", got)
	}
	// The group-to-role mapping shares the settings and survives.
	if err := tenants.SetGroupRoles(ctx, a.Tenant.ID, testActor, map[string]string{"Ops": "developer"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := tenants.SecurityPolicy(ctx, a.Tenant.ID); got.AccessTokenTTL() != 5*time.Minute {
		t.Fatalf("after setting group roles: %+v", got)
	}
	_, err = tenants.SecurityPolicy(ctx, "00000000-0000-7000-8000-000000000000")
	wantCode(t, err, roster.ENOTFOUND)
	wantCode(t, tenants.SetSecurityPolicy(ctx, "not-a-tenant", testActor, roster.DefaultSecurityPolicy()), roster.ENOTFOUND)
}

// openSQL opens the test database beneath the store, to write what the
// store would not.
func openSQL(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// The allowed networks every request checks are cached, but a change is
// seen at once by the replica that made it, and by no other tenant.
func TestAllowedNetworks(t *testing.T) {
	db := MustOpen(t)
	tenants := store.NewTenantService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()

	for _, id := range []string{a.Tenant.ID, b.Tenant.ID} {
		if got, err := tenants.AllowedNetworks(ctx, id); err != nil || len(got) != 0 {
			t.Fatalf("a new tenant's networks: %v %v", got, err)
		}
	}
	p := roster.DefaultSecurityPolicy()
	p.AllowedNetworks = []string{"10.0.0.0/8", "2001:db8::/32"}
	if err := tenants.SetSecurityPolicy(ctx, a.Tenant.ID, testActor, p); err != nil {
		t.Fatal(err)
	}
	if got, err := tenants.AllowedNetworks(ctx, a.Tenant.ID); err != nil || !reflect.DeepEqual(got, p.AllowedNetworks) {
		t.Fatalf("after set: %v %v", got, err)
	}
	if got, _ := tenants.AllowedNetworks(ctx, b.Tenant.ID); len(got) != 0 {
		t.Fatalf("tenant B's networks: %v", got)
	}
	p.AllowedNetworks = nil
	if err := tenants.SetSecurityPolicy(ctx, a.Tenant.ID, testActor, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := tenants.AllowedNetworks(ctx, a.Tenant.ID); len(got) != 0 {
		t.Fatalf("after clearing: %v", got)
	}
	_, err := tenants.AllowedNetworks(ctx, "00000000-0000-7000-8000-000000000000")
	wantCode(t, err, roster.ENOTFOUND)
}
