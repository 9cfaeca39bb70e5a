package api_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

// A policy without passkey stops passkeys passing as a second factor and
// as a step-up, as it stops them signing in alone; TOTP keeps working.
func TestPasskeyFactorFollowsThePolicy(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, pwd := signIn(t, e, "pk-policy@example.com")
	secret := enrolTOTP(t, e, pwd)
	ch := mfaLogin(t, e, "pk-policy@example.com")
	clock.Add(30 * time.Second)
	raised := wantAMR(t, verifyMFA(e, ch.MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), "pwd", "otp", "mfa")
	k := newSoftKey(id)
	registerPasskey(t, e, raised, k, "Key")
	ch = mfaLogin(t, e, "pk-policy@example.com")
	if !slices.Contains(ch.Methods, "passkey") {
		t.Fatalf("methods %v while passkeys are allowed", ch.Methods)
	}
	// Ceremonies begun while the policy allowed passkeys.
	mfaBegin := e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}})
	stepBegin := e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: raised})
	if mfaBegin.Status != 200 || stepBegin.Status != 200 {
		t.Fatalf("begin: %d %s; %d %s", mfaBegin.Status, mfaBegin.Body, stepBegin.Status, stepBegin.Body)
	}

	setPolicy(t, e, e.A.Admin, func(p policy) { p["allowed_methods"] = []any{"totp", "sms", "email"} })
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/finish",
		Body: map[string]any{"mfa_token": ch.MFAToken, "credential": k.assert(t, mfaBegin.Body, 1)}}), 400, "method")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/finish", Token: raised,
		Body: map[string]any{"credential": k.assert(t, stepBegin.Body, 1)}}), 409, "")
	if n := failedLogins(t, id); n != 0 {
		t.Fatalf("failed_logins %d: a refusal by policy is no failed attempt", n)
	}

	ch = mfaLogin(t, e, "pk-policy@example.com")
	if slices.Contains(ch.Methods, "passkey") || !slices.Contains(ch.Methods, "totp") || (ch.DefaultMethod != nil && *ch.DefaultMethod == "passkey") {
		t.Fatalf("methods %v, default %v, under a policy without passkey", ch.Methods, ch.DefaultMethod)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}}), 400, "method")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: raised}), 409, "")
	wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 2), 401, "")
	// The refusals left the sign-in open: TOTP passes it.
	clock.Add(30 * time.Second)
	wantAMR(t, verifyMFA(e, ch.MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), "pwd", "otp", "mfa")

	// Allowed again, the passkey passes.
	setPolicy(t, e, e.A.Admin, func(p policy) {})
	ch = mfaLogin(t, e, "pk-policy@example.com")
	begin := e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}})
	wantAMR(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/finish",
		Body: map[string]any{"mfa_token": ch.MFAToken, "credential": k.assert(t, begin.Body, 3)}}), "pwd", "hwk", "user", "mfa")
}

// A user whose only factor is a passkey the policy no longer allows signs
// in with the password and can enrol an allowed factor with it.
func TestPasskeyOnlyUserUnderAPolicyWithoutPasskey(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	useClock(e)
	id, pwd := signIn(t, e, "pk-only@example.com")
	registerPasskey(t, e, pwd, newSoftKey(id), nil)
	mfaLogin(t, e, "pk-only@example.com")

	setPolicy(t, e, e.A.Admin, func(p policy) { p["allowed_methods"] = []any{"totp"} })
	token := wantAMR(t, login(e, e.A.ID, "pk-only@example.com", goodPassword), "pwd")
	enrolTOTP(t, e, token)
	if ch := mfaLogin(t, e, "pk-only@example.com"); !slices.Contains(ch.Methods, "totp") || slices.Contains(ch.Methods, "passkey") {
		t.Fatalf("methods %v", ch.Methods)
	}
}
