package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// setUniqueEmail sets the tenant's unique_email policy, keeping the rest.
func setUniqueEmail(t *testing.T, tenants *store.TenantService, tenantID string, unique bool) error {
	t.Helper()
	p, err := tenants.SecurityPolicy(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	p.UniqueEmail = unique
	return tenants.SetSecurityPolicy(context.Background(), tenantID, testActor, p)
}

// TestSharedEmails: under unique_email false users may share an address;
// sign-in by a shared address finds no one (the flow answers it as a wrong
// password) and by user name finds the user; turning the policy back on
// is refused while addresses are shared. Another tenant is untouched.
func TestSharedEmails(t *testing.T) {
	db := MustOpen(t)
	users, tenants, logins := store.NewUserService(db), store.NewTenantService(db), store.NewLoginService(db)
	ctx := context.Background()
	a, b := MustTenant(t, db), MustTenant(t, db)
	shared := "shared-" + randomHex(t) + "@example.com"
	MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: shared, UserName: "first", Role: "viewer"})
	_, err := users.CreateUser(ctx, a.Tenant.ID, testActor, &roster.User{Email: shared, UserName: "second", Role: "viewer"})
	wantCode(t, err, roster.ECONFLICT)

	if err := setUniqueEmail(t, tenants, a.Tenant.ID, false); err != nil {
		t.Fatal(err)
	}
	second := MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: shared, UserName: "second", Role: "viewer"})
	MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: shared, UserName: "first", Role: "viewer"})
	// One tenant's policy is not another's.
	_, err = users.CreateUser(ctx, b.Tenant.ID, testActor, &roster.User{Email: shared, UserName: "second", Role: "viewer"})
	wantCode(t, err, roster.ECONFLICT)

	_, err = logins.FindLogin(ctx, a.Tenant.ID, shared)
	wantCode(t, err, roster.ENOTFOUND)
	if l, err := logins.FindLogin(ctx, a.Tenant.ID, "SECOND"); err != nil || l.User.ID != second.ID {
		t.Fatalf("sign-in by user name: %+v %v", l, err)
	}
	if l, err := logins.FindLogin(ctx, b.Tenant.ID, shared); err != nil || l.User.Email != shared {
		t.Fatalf("sign-in by an address no one shares: %+v %v", l, err)
	}
	// Users loaded in bulk follow the policy too: one may take another's address.
	if _, err := db.SeedUsers(ctx, a.Tenant.ID, 2); err != nil {
		t.Fatal(err)
	}
	seeded, _, err := users.QueryUsers(ctx, a.Tenant.ID, roster.UserQuery{
		Where: roster.And{Left: roster.Compare{Attr: roster.AttrEmail, Op: roster.OpNe, Value: shared},
			Right: roster.Compare{Attr: roster.AttrID, Op: roster.OpNe, Value: a.Admin.ID}}, Count: 2})
	if err != nil || len(seeded) != 2 {
		t.Fatalf("the seeded users: %v %v", seeded, err)
	}
	twin, err := users.UpdateUser(ctx, a.Tenant.ID, testActor, seeded[1].ID, 0, func(u *roster.User) error {
		u.Email = seeded[0].Email
		return nil
	})
	if err != nil {
		t.Fatalf("a seeded user takes another's address: %v", err)
	}

	matches, n, err := users.QueryUsers(ctx, a.Tenant.ID, roster.UserQuery{
		Where: roster.Compare{Attr: roster.AttrEmail, Op: roster.OpEq, Value: shared}, Count: 10})
	if err != nil || n != 2 || len(matches) != 2 {
		t.Fatalf("users with the address: %d of %d, %v", len(matches), n, err)
	}

	err = setUniqueEmail(t, tenants, a.Tenant.ID, true)
	wantCode(t, err, roster.ECONFLICT)
	wantField(t, err, "unique_email")
	if p, _ := tenants.SecurityPolicy(ctx, a.Tenant.ID); p.UniqueEmail {
		t.Fatal("the refused policy was stored")
	}
	for _, id := range []string{second.ID, twin.ID} {
		if err := users.DeleteUser(ctx, a.Tenant.ID, testActor, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := setUniqueEmail(t, tenants, a.Tenant.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = users.CreateUser(ctx, a.Tenant.ID, testActor, &roster.User{Email: shared, UserName: "third", Role: "viewer"})
	wantCode(t, err, roster.ECONFLICT)
}

// TestUniqueEmailHoldsAgainstRacingWrites: a user created while the policy
// turns unique_email on is judged by the policy it ends up under: never two
// users with one address under a policy that wants them unique.
func TestUniqueEmailHoldsAgainstRacingWrites(t *testing.T) {
	db := MustOpen(t)
	users, tenants := store.NewUserService(db), store.NewTenantService(db)
	ctx := context.Background()
	a := MustTenant(t, db)
	for round := range 5 {
		if err := setUniqueEmail(t, tenants, a.Tenant.ID, false); err != nil {
			t.Fatal(err)
		}
		shared := "race-" + randomHex(t) + "@example.com"
		MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: shared, UserName: shared, Role: "viewer"})
		var wg sync.WaitGroup
		var policyErr error
		wg.Go(func() { policyErr = setUniqueEmail(t, tenants, a.Tenant.ID, true) })
		wg.Go(func() {
			_, _ = users.CreateUser(ctx, a.Tenant.ID, testActor, &roster.User{Email: shared, UserName: "racer-" + shared, Role: "viewer"})
		})
		wg.Wait()
		p, err := tenants.SecurityPolicy(ctx, a.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, n, err := users.QueryUsers(ctx, a.Tenant.ID, roster.UserQuery{
			Where: roster.Compare{Attr: roster.AttrEmail, Op: roster.OpEq, Value: shared}, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.UniqueEmail && n > 1 {
			t.Fatalf("round %d: %d users share %s under unique_email (policy error %v)", round, n, shared, policyErr)
		}
		if !p.UniqueEmail && policyErr == nil {
			t.Fatalf("round %d: the policy change succeeded but is not stored", round)
		}
	}
}
