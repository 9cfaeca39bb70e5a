package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/rosterhq/roster/internal/testkit"
)

// newUserIn creates a user with a password in the tenant whose admin
// token is admin, and signs them in: their id and access token.
func newUserIn(t *testing.T, e *testEnv, tenantID, admin, email string) (string, string) {
	t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{"email": email, "password": goodPassword}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.Object(t)["id"].(string)
	r = login(e, tenantID, email, goodPassword)
	var tok tokens
	r.JSON(t, &tok)
	if r.Status != 200 || tok.AccessToken == "" {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return id, tok.AccessToken
}

// failedLogins reads the user's failed sign-in count under the API.
func failedLogins(t *testing.T, userID string) int {
	t.Helper()
	var n int
	if err := openTestDB(t).QueryRow(`SELECT failed_logins FROM users WHERE id = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPasskeySignInRefusals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "ada@example.com")
	k := newSoftKey(id)
	p := registerPasskey(t, e, pwd, k, nil)
	if p.Name != "Apple Passwords" {
		t.Fatalf("default name %q, want the vendor's", p.Name)
	}

	t.Run("another tenant", func(t *testing.T) {
		wantProblem(t, passkeyLogin(t, e, e.B.ID, k, 0), 401, "")
		// An unknown tenant gets options too, that nothing passes.
		wantProblem(t, passkeyLogin(t, e, "no-such-tenant", k, 0), 401, "")
		if n := failedLogins(t, id); n != 0 {
			t.Fatalf("failed_logins %d: a credential unknown to the tenant belongs to no one there", n)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		forged := &softKey{auth: k.auth, cred: virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)}
		forged.cred.ID = k.cred.ID
		wantProblem(t, passkeyLogin(t, e, e.A.ID, forged, 0), 401, "")
		if n := failedLogins(t, id); n != 1 {
			t.Fatalf("failed_logins %d, want 1", n)
		}
	})
	t.Run("counter regression", func(t *testing.T) {
		wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 7), "hwk", "user", "mfa")
		wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 7), 401, "")
		wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 3), 401, "")
		r := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/passkeys", Token: e.A.Admin})
		var list struct{ Items []passkeyJSON }
		r.JSON(t, &list)
		if r.Status != 200 || len(list.Items) != 1 || !list.Items[0].CloneWarning || list.Items[0].UseCount != 1 {
			t.Fatalf("after a replayed counter: %d %s", r.Status, r.Body)
		}
		r = e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=passkey.clone_warning&target_id=" + id, Token: e.A.Admin})
		if r.Status != 200 || len(r.Object(t)["items"].([]any)) != 2 {
			t.Fatalf("clone warnings audited: %s", r.Body)
		}
		// A counter that moves on works again.
		wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 8), "hwk", "user", "mfa")
	})
	t.Run("expired ceremony", func(t *testing.T) {
		begin := e.do(request{Method: "POST", Path: "/api/v1/auth/passkey/begin", Body: map[string]any{"tenant": e.A.ID}})
		answer := k.assert(t, begin.Body, 9)
		e.passkeys.Now = func() time.Time { return time.Now().Add(6 * time.Minute) }
		defer func() { e.passkeys.Now = time.Now }()
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/passkey/finish",
			Body: map[string]any{"tenant": e.A.ID, "credential": answer}}), 401, "")
	})
	t.Run("deactivated", func(t *testing.T) {
		if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"active": false}}); r.Status != 200 {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 10), 401, "")
		if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"active": true}}); r.Status != 200 {
			t.Fatalf("activate: %d %s", r.Status, r.Body)
		}
	})
	t.Run("locked", func(t *testing.T) {
		db := openTestDB(t)
		if _, err := db.Exec(`UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 11), 401, "")
		if _, err := db.Exec(`UPDATE users SET locked_until = NULL WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 12), "hwk", "user", "mfa")
	})
	t.Run("bad input", func(t *testing.T) {
		finish := "/api/v1/auth/passkey/finish"
		wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"tenant": e.A.ID, "credential": "x"}, Invalid: true}), 400, "credential")
		wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"tenant": e.A.ID, "credential": map[string]any{"id": "x", "type": "public-key", "response": map[string]any{}}}}), 400, "credential")
		wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"tenant": e.A.ID}, Invalid: true}), 400, "credential")
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/passkey/begin", Body: map[string]any{"tenant": e.A.ID, "user": "x"}, Invalid: true}), 400, "user")
	})
}

func TestPasskeyUserVerificationAndOtherFactors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, pwd := signIn(t, e, "lin@example.com")
	secret := enrolTOTP(t, e, pwd)
	var first mfaRequired
	login(e, e.A.ID, "lin@example.com", goodPassword).JSON(t, &first)
	clock.Add(30 * time.Second)
	pwd = wantAMR(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/verify",
		Body: map[string]any{"mfa_token": first.MFAToken, "method": "totp", "code": testkit.Oathtool(t, secret, clock.Now())}}), "pwd", "otp", "mfa")
	k := newSoftKey(id)
	k.auth.Options.UserNotVerified = true
	p := registerPasskey(t, e, pwd, k, "Key")
	if p.UserVerified {
		t.Fatalf("user_verified without UV: %+v", p)
	}
	// Without user verification the passkey is one factor: TOTP is due.
	r := passkeyLogin(t, e, e.A.ID, k, 0)
	var ch mfaRequired
	r.JSON(t, &ch)
	if r.Status != 200 || !ch.MFARequired || strings.Join(ch.Methods, ",") != "totp" {
		t.Fatalf("non-UV passkey sign-in: %d %s", r.Status, r.Body)
	}
	// The passkey cannot also be that sign-in's second factor.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}}), 400, "method")
	clock.Add(30 * time.Second)
	r = e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/verify", Body: map[string]any{"mfa_token": ch.MFAToken, "method": "totp", "code": testkit.Oathtool(t, secret, clock.Now())}})
	wantAMR(t, r, "hwk", "user", "otp", "mfa")
	// The history has each step, the passkey's among them.
	if got := history(signIns(t, e, e.A.Admin, "/api/v1/users/"+id+"/sign-ins", 50)); got !=
		"password:success password:mfa_required mfa:success passkey:mfa_required mfa:success" {
		t.Fatalf("history: %s", got)
	}
}

func TestPasskeyAsSecondFactor(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "mfa-passkey@example.com")
	k := newSoftKey(id)
	registerPasskey(t, e, pwd, k, nil)

	r := login(e, e.A.ID, "mfa-passkey@example.com", goodPassword)
	var ch mfaRequired
	r.JSON(t, &ch)
	if !ch.MFARequired || strings.Join(ch.Methods, ",") != "passkey" || ch.DefaultMethod == nil || *ch.DefaultMethod != "passkey" {
		t.Fatalf("login: %s", r.Body)
	}
	begin := e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}})
	var options struct {
		PublicKey struct {
			AllowCredentials []struct{ ID string } `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	begin.JSON(t, &options)
	if begin.Status != 200 || len(options.PublicKey.AllowCredentials) != 1 {
		t.Fatalf("mfa/passkey/begin: %d %s", begin.Status, begin.Body)
	}
	finish := "/api/v1/auth/mfa/passkey/finish"
	// A forged assertion counts against the challenge and the account.
	forged := &softKey{auth: k.auth, cred: virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)}
	forged.cred.ID = k.cred.ID
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"mfa_token": ch.MFAToken, "credential": forged.assert(t, begin.Body, 1)}}), 401, "")
	if n := failedLogins(t, id); n != 1 {
		t.Fatalf("failed_logins %d, want 1", n)
	}
	// That ceremony is spent; a new one passes.
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"mfa_token": ch.MFAToken, "credential": k.assert(t, begin.Body, 1)}}), 401, "")
	begin = e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}})
	r = e.do(request{Method: "POST", Path: finish, Body: map[string]any{"mfa_token": ch.MFAToken, "credential": k.assert(t, begin.Body, 1)}})
	wantAMR(t, r, "pwd", "hwk", "user", "mfa")
	// The mfa_token is spent.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": ch.MFAToken}}), 401, "")
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"mfa_token": ch.MFAToken, "credential": "x"}, Invalid: true}), 400, "credential")
	if n := failedLogins(t, id); n != 0 {
		t.Fatalf("failed_logins %d after a sign-in", n)
	}
}

func TestPasskeyStepUpAndRemoval(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "stepper@example.com")
	k := newSoftKey(id)
	p := registerPasskey(t, e, pwd, k, "Phone")
	del := request{Method: "DELETE", Path: "/api/v1/me/passkeys/" + p.ID, Token: pwd}
	wantStepUpRequired(t, e.do(del), "/api/v1/auth/step-up/passkey/begin")

	begin := e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: pwd})
	if begin.Status != 200 {
		t.Fatalf("step-up begin: %d %s", begin.Status, begin.Body)
	}
	finish := "/api/v1/auth/step-up/passkey/finish"
	forged := &softKey{auth: k.auth, cred: virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)}
	forged.cred.ID = k.cred.ID
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: pwd, Body: map[string]any{"credential": forged.assert(t, begin.Body, 1)}}), 400, "credential")
	begin = e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: pwd})
	r := e.do(request{Method: "POST", Path: finish, Token: pwd, Body: map[string]any{"credential": k.assert(t, begin.Body, 1)}})
	raised := wantAMR(t, r, "pwd", "hwk", "user", "mfa")
	if r.Object(t)["refresh_token"] != nil {
		t.Fatalf("a step-up issued a refresh token: %s", r.Body)
	}
	if claimsOf(t, raised)["sid"] != claimsOf(t, pwd)["sid"] {
		t.Fatal("the step-up left the session")
	}
	// API tokens and other users' passkeys cannot step up.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: e.A.Admin}), 403, "")
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: e.A.Admin, Body: map[string]any{"credential": k.assert(t, begin.Body, 2)}}), 403, "")
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Body: map[string]any{"credential": k.assert(t, begin.Body, 2)}}), 401, "")
	_, other := signIn(t, e, "bystander@example.com")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: other}), 409, "")
	// Another user of the tenant cannot rename or remove it as their own.
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/me/passkeys/" + p.ID, Token: other, Body: map[string]any{"name": "mine"}}), 404, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/passkeys/" + p.ID, Token: other}), 404, "")

	// Rename, then remove with the raised token.
	patch := request{Method: "PATCH", Path: "/api/v1/me/passkeys/" + p.ID, Token: pwd, Body: map[string]any{"name": "  Old phone "}}
	r = e.do(patch)
	if r.Status != 200 || r.Object(t)["name"] != "Old phone" {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	for _, name := range []any{"   ", strings.Repeat("x", 65), "tab\there", 42} {
		patch.Body = map[string]any{"name": name}
		_, isString := name.(string)
		patch.Invalid = !isString
		wantProblem(t, e.do(patch), 400, "name")
	}
	patch.Invalid = true
	patch.Body = map[string]any{"name": "ok", "aaguid": "x"}
	wantProblem(t, e.do(patch), 400, "aaguid")
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/me/passkeys/not-an-id", Token: pwd, Body: map[string]any{"name": "x"}}), 404, "")

	del.Token = e.A.Admin
	wantProblem(t, e.do(del), 403, "")
	del.Token = raised
	if r := e.do(del); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(del), 404, "")
	var methods string
	if err := openTestDB(t).QueryRowContext(context.Background(), `SELECT mfa_methods::text FROM users WHERE id = $1`, id).Scan(&methods); err != nil {
		t.Fatal(err)
	}
	if methods != "{}" {
		t.Fatalf("mfa_methods %s after the last passkey went", methods)
	}
	wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 5), 401, "")
	// A credential that is no user's has no passkeys.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/passkeys", Token: e.A.SCIM}), 404, "")
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "twice@example.com")
	k := newSoftKey(id)
	registerPasskey(t, e, pwd, k, nil)
	access := wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 0), "hwk", "user", "mfa")
	begin := "/api/v1/me/passkeys/register/begin"
	finish := "/api/v1/me/passkeys/register/finish"

	// The same authenticator again (a browser would refuse, being excluded).
	b := e.do(request{Method: "POST", Path: begin, Token: access})
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: access, Body: map[string]any{"credential": k.attest(t, b.Body)}}), 409, "")

	// An answer for another origin fails verification.
	b = e.do(request{Method: "POST", Path: begin, Token: access})
	opts, err := virtualwebauthn.ParseAttestationOptions(string(b.Body))
	if err != nil {
		t.Fatal(err)
	}
	other := newSoftKey(id)
	evil := virtualwebauthn.RelyingParty{ID: "roster.test", Name: "Roster", Origin: "https://evil.example"}
	answer := json.RawMessage(virtualwebauthn.CreateAttestationResponse(evil, other.auth, other.cred, *opts))
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: access, Body: map[string]any{"credential": answer}}), 400, "credential")

	// Bodies.
	wantProblem(t, e.do(request{Method: "POST", Path: begin, Token: access, Body: map[string]any{"x": 1}, Invalid: true}), 400, "x")
	if r := e.do(request{Method: "POST", Path: begin, Token: access, Body: map[string]any{}}); r.Status != 200 {
		t.Fatalf("begin with {}: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: access, Body: map[string]any{"name": "x"}, Invalid: true}), 400, "credential")
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: access, Body: map[string]any{"name": "", "credential": answer}}), 400, "name")

	// API tokens cannot register passkeys.
	wantProblem(t, e.do(request{Method: "POST", Path: begin, Token: e.A.Admin}), 403, "")
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: e.A.Admin, Body: map[string]any{"credential": answer}}), 403, "")

	// A tenant that does not allow passkeys.
	_, fresh := signIn(t, e, "policy@example.com")
	r := e.do(request{Method: "GET", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin})
	policy := r.Object(t)
	policy["allowed_methods"] = []string{"totp"}
	if r := e.do(request{Method: "PUT", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin, Body: policy}); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: begin, Token: fresh}), 409, "")
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: fresh, Body: map[string]any{"credential": answer}}), 409, "")
	wantProblem(t, passkeyLogin(t, e, e.A.ID, k, 1), 401, "")
}

func TestPasskeyUnderMFARequired(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id := newPasswordUser(t, e, "first-factor@example.com")
	setPolicy(t, e, e.A.Admin, func(p policy) { p["mfa_required"] = true })
	r := login(e, e.A.ID, "first-factor@example.com", goodPassword)
	enrolOnly := r.Object(t)
	if enrolOnly["mfa_enrollment_required"] != true {
		t.Fatalf("login: %s", r.Body)
	}
	token := enrolOnly["access_token"].(string)
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users", Token: token}), 403, "")

	// The enrolment-only token reaches the passkey routes, and the passkey
	// it registers steps the session up to a full one.
	k := newSoftKey(id)
	registerPasskey(t, e, token, k, "Phone")
	begin := e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/begin", Token: token})
	r = e.do(request{Method: "POST", Path: "/api/v1/auth/step-up/passkey/finish", Token: token, Body: map[string]any{"credential": k.assert(t, begin.Body, 1)}})
	full := wantAMR(t, r, "pwd", "hwk", "user", "mfa")
	if r.Object(t)["mfa_enrollment_required"] != nil {
		t.Fatalf("step-up under mfa_required: %s", r.Body)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: full}); r.Status != 200 {
		t.Fatalf("full token: %d %s", r.Status, r.Body)
	}

	// A passkey that does not verify the user is one factor: enrolment only.
	k.auth.Options.UserNotVerified = true
	r = passkeyLogin(t, e, e.A.ID, k, 2)
	wantAMR(t, r, "hwk", "user")
	if r.Object(t)["mfa_enrollment_required"] != true {
		t.Fatalf("non-UV sign-in under mfa_required: %s", r.Body)
	}
	// The backup state is kept current: this authenticator stopped syncing.
	k.auth.Options.UserNotVerified, k.auth.Options.BackupState = false, false
	wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 3), "hwk", "user", "mfa")
	r = e.do(request{Method: "GET", Path: "/api/v1/me/passkeys", Token: full})
	var list struct{ Items []passkeyJSON }
	r.JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].BackedUp || !list.Items[0].BackupEligible || !list.Items[0].UserVerified || list.Items[0].UseCount != 3 {
		t.Fatalf("after the backup state changed: %s", r.Body)
	}
}
