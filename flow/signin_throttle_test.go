package flow_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/store"
)

// cheapHash is an argon2id hash of pw at the smallest costs the verifier
// accepts (it reads the costs from the hash), so that a test can sign in
// hundreds of users without hundreds of 64 MiB hashes.
func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// newCheapUser creates an active user whose password is hashed cheaply.
func (f *flows) newCheapUser(t *testing.T, email string) *roster.User {
	t.Helper()
	u := &roster.User{Email: email, Role: roster.RoleViewer, Active: true, SetPasswordHash: cheapHash(t, testPassword)}
	created, err := store.NewUserService(f.DB).CreateUser(t.Context(), f.Tenant.Tenant.ID, f.by, u)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// setLockout sets the tenant's lockout threshold.
func (f *flows) setLockout(t *testing.T, attempts int) {
	t.Helper()
	policy := roster.DefaultSecurityPolicy()
	policy.Lockout.MaxAttempts = attempts
	if err := store.NewTenantService(f.DB).SetSecurityPolicy(t.Context(), f.Tenant.Tenant.ID, f.by, policy); err != nil {
		t.Fatal(err)
	}
}

// wantTooMany fails unless err is ETOOMANY saying when to come back.
func wantTooMany(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, roster.ETOOMANY)
	if e, ok := err.(*roster.Error); !ok || e.RetryAfter <= 0 {
		t.Fatalf("ETOOMANY without a time to come back: %#v", err)
	}
}

// One user signing in again and again (scripts, several devices) is never
// throttled: only failures count.
func TestSignInCountsFailuresNotSuccesses(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	f.setLockout(t, 100) // so that the throttle, not the lockout, answers
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	u := f.newCheapUser(t, "scripted-"+randomHex(t)+"@example.com")
	for i := range 25 {
		if _, _, err := f.SignIn.Login(ctx, "192.0.2.10", tenant, u.Email, testPassword); err != nil {
			t.Fatalf("sign-in %d of one user: %v", i+1, err)
		}
	}
	limit := flow.DefaultSignInRate().AccountFailures
	for range limit {
		_, _, err := f.SignIn.Login(ctx, "192.0.2.10", tenant, u.Email, "not the password at all")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	// Over the account's failures, from any address, even with the right
	// password.
	_, _, err := f.SignIn.Login(ctx, "198.51.100.7", tenant, u.Email, testPassword)
	wantTooMany(t, err)

	// Once the window has passed, the account signs in again.
	f.SignIn.Now = func() time.Time { return time.Now().Add(flow.DefaultSignInRate().Window + time.Minute) }
	if _, _, err := f.SignIn.Login(ctx, "192.0.2.10", tenant, u.Email, testPassword); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// 300 officers behind one NAT address sign in at shift change, a few of
// them mistyping first: every one gets in.
func TestShiftChangeFromOneAddress(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	const officers, typos = 300, 40
	users := make([]*roster.User, officers)
	for i := range users {
		users[i] = f.newCheapUser(t, fmt.Sprintf("officer-%03d-%s@example.com", i, randomHex(t)))
	}
	const station = "203.0.113.50"
	for _, u := range users[:typos] {
		_, _, err := f.SignIn.Login(ctx, station, tenant, u.Email, "caps lock was on")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	var wg sync.WaitGroup
	errs := make(chan error, officers)
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := f.SignIn.Login(ctx, station, tenant, u.Email, testPassword); err != nil {
				errs <- fmt.Errorf("%s: %w", u.Email, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// An address guessing at many accounts is stopped once its failures reach
// the limit, while other addresses and other tenants go on; the limits and
// the ceiling come from the configuration.
func TestSignInThrottlesAnAddressByItsFailures(t *testing.T) {
	t.Parallel()
	rate := flow.SignInRate{Window: time.Minute, AccountFailures: 3, AddressFailures: 5, AddressAttempts: 40}
	f := newFlows(t, app.Config{SignInRate: rate})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	victims := make([]*roster.User, 5)
	for i := range victims {
		victims[i] = f.newCheapUser(t, fmt.Sprintf("victim-%d-%s@example.com", i, randomHex(t)))
	}
	const attacker = "192.0.2.66"
	for _, v := range victims {
		_, _, err := f.SignIn.Login(ctx, attacker, tenant, v.Email, "Summer2026!")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	other := f.newCheapUser(t, "bystander-"+randomHex(t)+"@example.com")
	_, _, err := f.SignIn.Login(ctx, attacker, tenant, other.Email, testPassword)
	wantTooMany(t, err)
	if _, _, err := f.SignIn.Login(ctx, "192.0.2.67", tenant, other.Email, testPassword); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// An unknown user name counts as a failure like a known one, so the
	// throttle does not tell which users exist.
	g := newFlows(t, app.Config{SignInRate: rate})
	for range 3 {
		_, _, err := g.SignIn.Login(ctx, "192.0.2.68", g.Tenant.Tenant.ID, "nobody-at-all", "guess")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	_, _, err = g.SignIn.Login(ctx, "192.0.2.69", g.Tenant.Tenant.ID, "NOBODY-at-all", "guess")
	wantTooMany(t, err)

	// The ceiling on attempts of any outcome from one address.
	h := newFlows(t, app.Config{SignInRate: rate})
	u := h.newCheapUser(t, "busy-"+randomHex(t)+"@example.com")
	// A token bucket refills as the test runs, so the ceiling answers
	// within twice its size, never before it.
	for i := range 2 * rate.AddressAttempts {
		_, _, err := h.SignIn.Login(ctx, "192.0.2.70", h.Tenant.Tenant.ID, u.Email, testPassword)
		if roster.ErrorCode(err) == roster.ETOOMANY {
			if i < rate.AddressAttempts {
				t.Fatalf("the ceiling of %d answered at attempt %d", rate.AddressAttempts, i+1)
			}
			wantTooMany(t, err)
			return
		} else if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no ceiling after %d attempts", 2*rate.AddressAttempts)
}

// After an admin unlocks an account, its user signs in at once: the unlock
// clears the account's failures as well as the lockout.
func TestUnlockLiftsTheThrottleToo(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	u := f.newCheapUser(t, "unlocked-"+randomHex(t)+"@example.com")
	for range roster.DefaultSecurityPolicy().Lockout.MaxAttempts {
		_, _, err := f.SignIn.Login(ctx, "192.0.2.20", tenant, u.Email, "wrong again")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	_, _, err := f.SignIn.Login(ctx, "192.0.2.20", tenant, u.Email, testPassword)
	if c := roster.ErrorCode(err); c != roster.EUNAUTHORIZED && c != roster.ETOOMANY {
		t.Fatalf("a locked account: %v", err)
	}
	if err := store.NewLoginService(f.DB).Unlock(ctx, tenant, f.by, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.SignIn.Login(ctx, "192.0.2.20", tenant, u.Email, testPassword); err != nil {
		t.Fatalf("right after the unlock: %v", err)
	}
}

// Two services on one database (two replicas) share the failure counts:
// an attacker alternating between them gains nothing.
func TestSignInFailuresAreSharedByReplicas(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	f.setLockout(t, 100)
	other := f.replica(t, app.Config{})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	u := f.newCheapUser(t, "spread-"+randomHex(t)+"@example.com")
	limit := flow.DefaultSignInRate().AccountFailures
	for i := range limit {
		sig := f.SignIn
		if i%2 == 1 {
			sig = other.SignIn
		}
		_, _, err := sig.Login(ctx, "192.0.2.30", tenant, u.Email, "guess")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	for _, sig := range []*flow.SignIn{f.SignIn, other.SignIn} {
		_, _, err := sig.Login(ctx, "192.0.2.31", tenant, u.Email, testPassword)
		wantTooMany(t, err)
	}
}

// replica builds a second service on the same database, as another
// `roster serve` process would be.
func (f *flows) replica(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	cfg.PublicURL = "http://roster.test"
	cfg.EncryptionKey = []byte("roster-flow-tests-encryption-key")
	a, err := app.New(context.Background(), f.DB, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}
