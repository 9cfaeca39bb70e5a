package flow_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/store"
)

const testPassword = "correct horse battery staple"

func TestSignInLocksOutAfterThePolicysFailures(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	policy := roster.DefaultSecurityPolicy()
	policy.Lockout.MaxAttempts = 3
	if err := store.NewTenantService(f.DB).SetSecurityPolicy(ctx, tenant, f.by, policy); err != nil {
		t.Fatal(err)
	}
	u := f.newUser(t, "lock-"+randomHex(t)+"@example.com", testPassword)

	tokens, challenge, err := f.SignIn.Login(ctx, "192.0.2.1", tenant, u.Email, testPassword)
	if err != nil || tokens == nil || challenge != nil || tokens.RefreshToken == "" {
		t.Fatalf("the right password: %+v %+v %v", tokens, challenge, err)
	}
	for range 3 {
		_, _, err := f.SignIn.Login(ctx, "192.0.2.1", tenant, u.Email, "not the password at all")
		wantCode(t, err, roster.EUNAUTHORIZED)
	}
	// Locked: the right password is refused exactly like a wrong one ...
	_, _, err = f.SignIn.Login(ctx, "192.0.2.1", tenant, u.Email, testPassword)
	wantCode(t, err, roster.EUNAUTHORIZED)
	// ... while a signed-in user changing their password is told why.
	p := &roster.Principal{Kind: roster.PrincipalUser, TenantID: tenant, UserID: u.ID}
	err = f.Passwords.ChangePassword(ctx, p, f.by, testPassword, "a brand new passphrase 42")
	wantCode(t, err, roster.ETOOMANY)
	if e, ok := err.(*roster.Error); !ok || e.RetryAfter <= 0 {
		t.Fatalf("a locked account's answer says when to come back: %#v", err)
	}

	if err := store.NewLoginService(f.DB).Unlock(ctx, tenant, f.by, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.SignIn.Login(ctx, "192.0.2.1", tenant, u.Email, testPassword); err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
}

func TestSetPasswordAppliesTheTenantsPolicy(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	policy := roster.DefaultSecurityPolicy()
	policy.Password.MinLength = 20
	if err := store.NewTenantService(f.DB).SetSecurityPolicy(ctx, tenant, f.by, policy); err != nil {
		t.Fatal(err)
	}
	u := &roster.User{Email: "grace@example.com", UserName: "grace"}
	for _, bad := range []string{
		"seventeen letters",             // under the tenant's 20
		"my name is grace, hopper 1906", // holds the user name
	} {
		err := f.Passwords.SetPassword(ctx, tenant, u, bad)
		wantCode(t, err, roster.EINVALID)
		if fields := roster.ErrorFields(err); len(fields) != 1 || fields[0].Field != "password" {
			t.Fatalf("%q: fields %v, want password", bad, fields)
		}
	}
	if u.SetPasswordHash != "" {
		t.Fatal("a refused password left a hash behind")
	}
	if err := f.Passwords.SetPassword(ctx, tenant, u, "a long and uncommon passphrase"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.SetPasswordHash, "$argon2id$") {
		t.Fatalf("the hash %q is not argon2id", u.SetPasswordHash)
	}
	wantCode(t, f.Passwords.SetPassword(ctx, "00000000-0000-0000-0000-000000000000", u, "a long and uncommon passphrase"), roster.ENOTFOUND)
}
