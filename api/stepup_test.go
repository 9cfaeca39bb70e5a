package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster/internal/testkit"
)

// stepUp raises the session of token with a TOTP code of secret and
// returns the new access token. The MFA clock moves on a step first, so
// that the code is later than any used before.
func stepUp(t *testing.T, e *testEnv, clock *testClock, token, secret string) string {
	t.Helper()
	clock.Add(30 * time.Second)
	r := stepUpWith(e, token, "totp", testkit.Oathtool(t, secret, clock.Now()))
	if r.Status != 200 {
		t.Fatalf("step-up: %d %s", r.Status, r.Body)
	}
	return r.Object(t)["access_token"].(string)
}

func stepUpWith(e *testEnv, token, method, code string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/auth/step-up", Token: token, Body: map[string]any{"method": method, "code": code}})
}

// ageSignIns makes every sign-in so far older than the step-up maximum
// age, by moving the sign-in clock 11 minutes on.
func ageSignIns(e *testEnv) {
	e.signIn.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
}

// claimsOf returns the claims of a JWT, unverified.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	claims, err := jwtSegment(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

// wantStepUpRequired fails unless r is the RFC 9470 answer to a sign-in
// too old or too weak, whose description mentions hint.
func wantStepUpRequired(t *testing.T, r response, hint string) {
	t.Helper()
	wantProblem(t, r, http.StatusUnauthorized, "")
	if code := r.Object(t)["code"]; code != "step_up_required" {
		t.Fatalf("code %v, want step_up_required", code)
	}
	h := r.Header.Get("WWW-Authenticate")
	for _, want := range []string{`Bearer realm="roster"`, `error="insufficient_user_authentication"`, `max_age=600`, `error_description="`, hint} {
		if !strings.Contains(h, want) {
			t.Fatalf("WWW-Authenticate %q lacks %q", h, want)
		}
	}
}

func TestStepUpGuardsFactorsAndPassword(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, pwd := signIn(t, e, "careful@example.com")
	secret := enrolTOTP(t, e, pwd) // a first factor needs only the password
	db := openTestDB(t)
	if _, err := db.Exec(`INSERT INTO mfa_methods (tenant_id, user_id, type, target, verified, created_at)
		VALUES ($1, $2, 'sms', '+44 20 7946 0958', true, now())`, e.A.ID, id); err != nil {
		t.Fatal(err)
	}

	guarded := []request{
		{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes"},
		{Method: "POST", Path: "/api/v1/me/mfa/totp"},
		{Method: "POST", Path: "/api/v1/me/mfa/totp/verify", Body: map[string]any{"code": "123456"}},
		{Method: "DELETE", Path: "/api/v1/me/mfa/sms"},
		{Method: "PUT", Path: "/api/v1/me/password", Body: map[string]any{"current_password": goodPassword, "new_password": goodPassword + "-2"}},
		{Method: "DELETE", Path: "/api/v1/me/mfa/totp"},
	}
	// With a factor enrolled, a password sign-in no longer does.
	for _, req := range guarded {
		req.Token = pwd
		wantStepUpRequired(t, e.do(req), "step up at POST /api/v1/auth/step-up")
	}

	// A step-up does, for each.
	full := stepUp(t, e, clock, pwd, secret)
	want := func(r response, status int) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("after a step-up: %d %s", r.Status, r.Body)
		}
	}
	want(e.do(request{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes", Token: full}), 200)
	replacement := startTOTP(t, e, full)
	want(confirmTOTP(e, full, testkit.Oathtool(t, replacement, clock.Now())), 204)
	want(e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/sms", Token: full}), 204)
	want(e.do(request{Method: "PUT", Path: "/api/v1/me/password", Token: full,
		Body: map[string]any{"current_password": goodPassword, "new_password": goodPassword + "-2"}}), 204)

	// Ten minutes on, the step-up has worn off.
	ageSignIns(e)
	for _, req := range guarded {
		req.Token = full
		wantStepUpRequired(t, e.do(req), "step up")
	}
	clock.Add(30 * time.Second)
	again := stepUpWith(e, full, "totp", testkit.Oathtool(t, replacement, clock.Now()))
	want(again, 200)
	want(e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/totp", Token: again.Object(t)["access_token"].(string)}), 204)
	wantActions(t, e, id, "mfa.stepped_up", "mfa.removed", "user.password_changed")
}

func TestStepUpWithoutAFactor(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, pwd := signIn(t, e, "first-factor@example.com")
	// Nothing to step up with: a recent password sign-in enrols the first
	// factor, an old one does not.
	ageSignIns(e)
	wantStepUpRequired(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: pwd}), "sign in again")
	var tok tokens
	login(e, e.A.ID, "first-factor", goodPassword).JSON(t, &tok)
	startTOTP(t, e, tok.AccessToken)

	// An identity provider's token is judged by its own claims.
	idp := func(amr []string, authTime time.Time) string {
		return e.jwt(e.A.ID, []string{"viewer"}, func(b *jwt.Builder) { b.Claim("amr", amr).Claim("auth_time", authTime.Unix()) })
	}
	wantStepUpRequired(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: e.jwt(e.A.ID, []string{"viewer"}, nil)}), "identity provider")
	wantStepUpRequired(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: idp([]string{"pwd", "mfa"}, time.Now().Add(-time.Hour))}), "second factor")
}

func TestSCIMTokenCreationNeedsAStepUp(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	create := func(token string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/scim-tokens", Token: token, Body: map[string]any{"name": "Okta"}})
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin,
		Body: map[string]any{"email": "it-admin@example.com", "password": goodPassword, "role": "admin"}})
	if r.Status != 201 {
		t.Fatalf("create admin: %d %s", r.Status, r.Body)
	}
	var tok tokens
	login(e, e.A.ID, "it-admin@example.com", goodPassword).JSON(t, &tok)
	// An admin without a second factor enrols one first.
	wantStepUpRequired(t, create(tok.AccessToken), "enrol one")
	secret := enrolTOTP(t, e, tok.AccessToken)
	wantStepUpRequired(t, create(tok.AccessToken), "step up")
	full := stepUp(t, e, clock, tok.AccessToken, secret)
	if r := create(full); r.Status != 201 {
		t.Fatalf("after a step-up: %d %s", r.Status, r.Body)
	}
	// An admin API token needs none; a viewer's sign-in lacks the permission.
	if r := create(e.A.Admin); r.Status != 201 {
		t.Fatalf("admin API token: %d %s", r.Status, r.Body)
	}
	_, viewer := signIn(t, e, "viewer@example.com")
	wantProblem(t, create(viewer), 403, "")
	ageSignIns(e)
	wantStepUpRequired(t, create(full), "step up")
}

func TestStepUpEndpoint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, pwd := signIn(t, e, "stepper@example.com")
	secret := enrolTOTP(t, e, pwd)
	full := stepUp(t, e, clock, pwd, secret)
	r := e.do(request{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes", Token: full})
	var body struct{ Codes []string }
	r.JSON(t, &body)

	// A TOTP code raises the session: same sid, fresh auth_time, amr with
	// the factor and mfa, and no new refresh token.
	clock.Add(30 * time.Second)
	code := testkit.Oathtool(t, secret, clock.Now())
	r = stepUpWith(e, pwd, "totp", code)
	if r.Status != 200 || strings.Contains(string(r.Body), "refresh_token") || r.Object(t)["expires_in"] != float64(900) {
		t.Fatalf("step-up: %d %s", r.Status, r.Body)
	}
	before, after := claimsOf(t, pwd), claimsOf(t, r.Object(t)["access_token"].(string))
	if after["sid"] == nil || after["sid"] != before["sid"] {
		t.Fatalf("sid %v, want the session's %v", after["sid"], before["sid"])
	}
	if amr := after["amr"].([]any); len(amr) != 3 || amr[0] != "pwd" || amr[1] != "otp" || amr[2] != "mfa" {
		t.Fatalf("amr %v", amr)
	}
	if at := time.Unix(int64(after["auth_time"].(float64)), 0); time.Since(at) > time.Minute {
		t.Fatalf("auth_time %v is not the step-up's", at)
	}
	// The code is spent; so is a wrong one's chance.
	wantProblem(t, stepUpWith(e, pwd, "totp", code), 400, "code")
	wantProblem(t, stepUpWith(e, pwd, "totp", wrongCode(t, secret, clock.Now())), 400, "code")

	// A recovery code works once.
	r = stepUpWith(e, pwd, "recovery_code", body.Codes[3])
	if r.Status != 200 {
		t.Fatalf("recovery code: %d %s", r.Status, r.Body)
	}
	if amr := claimsOf(t, r.Object(t)["access_token"].(string))["amr"].([]any); len(amr) != 3 || amr[1] != "recovery_code" {
		t.Fatalf("amr %v", amr)
	}
	wantProblem(t, stepUpWith(e, pwd, "recovery_code", body.Codes[3]), 400, "code")
	wantActions(t, e, id, "mfa.stepped_up", "mfa.recovery_code_used")

	// Bad input.
	wantProblem(t, stepUpWith(e, pwd, "sms", "123456"), 400, "method")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up", Token: pwd, Invalid: true,
		Body: map[string]any{"method": "pigeon", "code": "1"}}), 400, "method")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up", Token: pwd, Invalid: true,
		Body: map[string]any{"method": "totp"}}), 400, "code")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up", Token: pwd, Invalid: true,
		Body: `{"code": "` + strings.Repeat("1", 2<<20) + `"}`}), 413, "")

	// Only Roster's own sign-ins step up here.
	idp := e.jwt(e.A.ID, []string{"admin"}, func(b *jwt.Builder) { b.Subject(id) })
	for _, token := range []string{e.A.Admin, idp} {
		wantProblem(t, stepUpWith(e, token, "totp", testkit.Oathtool(t, secret, clock.Now())), 403, "")
	}

	// Nothing to step up with.
	_, bare := signIn(t, e, "bare@example.com")
	wantProblem(t, stepUpWith(e, bare, "totp", "123456"), 409, "")
	wantProblem(t, stepUpWith(e, bare, "recovery_code", body.Codes[4]), 409, "")
}

func TestStepUpCountsTowardsTheLockout(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	setPolicy(t, e, e.A.Admin, func(p policy) { p.section("lockout")["max_attempts"] = 3 })
	id, pwd := signIn(t, e, "guesser@example.com")
	secret := enrolTOTP(t, e, pwd)
	bad := wrongCode(t, secret, clock.Now())
	for range 3 {
		wantProblem(t, stepUpWith(e, pwd, "totp", bad), 400, "code")
	}
	r := stepUpWith(e, pwd, "totp", testkit.Oathtool(t, secret, clock.Now().Add(30*time.Second)))
	wantProblem(t, r, http.StatusTooManyRequests, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	wantProblem(t, login(e, e.A.ID, "guesser", goodPassword), 401, "")
	wantActions(t, e, id, "user.locked")
}
