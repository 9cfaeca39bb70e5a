package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestSignInFailuresAreWindowedPrunedAndCleared(t *testing.T) {
	db := MustOpen(t)
	failures, logins, raw := store.NewSignInFailureService(db), store.NewLoginService(db), rawDB(t)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	key := roster.SignInFailureKey{TenantID: a.Tenant.ID, Account: a.Admin.ID, Address: "192.0.2.1"}
	record := func(k roster.SignInFailureKey, bucket time.Time) {
		t.Helper()
		if err := failures.RecordSignInFailure(ctx, k, bucket, bucket.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	count := func(k roster.SignInFailureKey) (account, address int) {
		t.Helper()
		ac, ad, err := failures.CountSignInFailures(ctx, k, now.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ac.Failures, ad.Failures
	}
	rows := func(tenantID string) (n int) {
		t.Helper()
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM signin_failures WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// An hour-old bucket, long expired: not counted, and pruned by the next
	// failure recorded by anyone.
	record(key, now.Add(-time.Hour))
	record(key, now.Add(-10*time.Second))
	record(key, now.Add(-10*time.Second))
	record(roster.SignInFailureKey{TenantID: a.Tenant.ID, Account: "name:someone", Address: "192.0.2.1"}, now)
	if ac, ad := count(key); ac != 2 || ad != 3 {
		t.Fatalf("counted %d account and %d address failures, want 2 and 3", ac, ad)
	}
	if n := rows(a.Tenant.ID); n != 4 {
		t.Fatalf("%d rows after pruning, want 4 (the hour-old two gone)", n)
	}
	// Another tenant's counters are its own.
	other := roster.SignInFailureKey{TenantID: b.Tenant.ID, Account: b.Admin.ID, Address: "192.0.2.1"}
	if ac, ad := count(other); ac != 0 || ad != 0 {
		t.Fatalf("tenant B sees %d and %d failures of A's", ac, ad)
	}
	// A step-up counts its account only.
	record(roster.SignInFailureKey{TenantID: b.Tenant.ID, Account: b.Admin.ID}, now)
	if ac, ad := count(other); ac != 1 || ad != 0 {
		t.Fatalf("a step-up's failure: %d and %d, want 1 and 0", ac, ad)
	}

	// An unlock, like a sign-in, forgets the account's failures, not the
	// address's.
	if err := logins.Unlock(ctx, a.Tenant.ID, testActor, a.Admin.ID); err != nil {
		t.Fatal(err)
	}
	if ac, ad := count(key); ac != 0 || ad != 3 {
		t.Fatalf("after an unlock: %d and %d, want 0 and 3", ac, ad)
	}
	record(key, now)
	if err := logins.RecordLogin(ctx, a.Tenant.ID, a.Admin.ID, roster.SignInPassword, []string{"pwd"}); err != nil {
		t.Fatal(err)
	}
	if ac, _ := count(key); ac != 0 {
		t.Fatalf("after a sign-in: %d account failures", ac)
	}
}
