package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/store"
)

const goodPassword = "tidal-Lantern-orbit-42"

// newPasswordUser creates a user with a password in tenant A and returns
// their id.
func newPasswordUser(t *testing.T, e *testEnv, email string) string {
	t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{
		"email": email, "user_name": strings.Split(email, "@")[0], "password": goodPassword,
	}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.Object(t)["id"].(string)
}

func login(e *testEnv, tenant, username, password string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{
		"tenant": tenant, "username": username, "password": password,
	}})
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

func TestPasswordSignIn(t *testing.T) {
	e := newTestEnv(t)
	id := newPasswordUser(t, e, "Marie.Curie@example.com")
	r := login(e, e.A.ID, "MARIE.CURIE@example.com", goodPassword)
	if r.Status != http.StatusOK {
		t.Fatalf("login by email: %d %s", r.Status, r.Body)
	}
	var tok tokens
	r.JSON(t, &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || !strings.HasPrefix(tok.RefreshToken, "rrt_") {
		t.Fatalf("tokens: %s", r.Body)
	}
	parsed, err := jwt.ParseInsecure([]byte(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var tid string
	var amr []any
	_ = parsed.Get("tid", &tid)
	_ = parsed.Get("amr", &amr)
	if iss, _ := parsed.Issuer(); iss != testPublicURL || tid != e.A.ID || len(amr) != 1 || amr[0] != "pwd" {
		t.Fatalf("claims: iss %v tid %v amr %v", iss, tid, amr)
	}
	me := e.do(request{Method: "GET", Path: "/api/v1/me", Token: tok.AccessToken})
	if me.Status != 200 || me.Object(t)["id"] != id || me.Object(t)["last_login_at"] == nil {
		t.Fatalf("me: %d %s", me.Status, me.Body)
	}
	if perms := fmt.Sprint(me.Object(t)["permissions"]); perms != "[mfa:enroll users:read]" {
		t.Fatalf("a viewer's permissions: %s", perms)
	}
	// A viewer's token reads but does not write.
	if r := e.do(request{Method: "GET", Path: "/api/v1/users", Token: tok.AccessToken}); r.Status != 200 {
		t.Fatalf("list with an access token: %d", r.Status)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: tok.AccessToken, Body: map[string]any{"email": "x@example.com"}}), 403, "")

	// The tenant by slug, the user by user name.
	slug := e.do(request{Method: "GET", Path: "/.well-known/openid-configuration"})
	if slug.Status != 200 || slug.Object(t)["issuer"] != testPublicURL {
		t.Fatalf("discovery: %s", slug.Body)
	}
	jwks := e.do(request{Method: "GET", Path: "/.well-known/jwks.json"})
	kid, _ := mustKID(t, tok.AccessToken)
	if jwks.Status != 200 || !strings.Contains(string(jwks.Body), kid) || strings.Contains(string(jwks.Body), `"d"`) {
		t.Fatalf("JWKS lacks the signing key or shows a private part: %s", jwks.Body)
	}

	// The password is stored only as an argon2id hash.
	var hash string
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, goodPassword) {
		t.Fatalf("stored password: %q", hash)
	}
	var leaked int
	if err := db.QueryRow(`SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'`, goodPassword).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("the password is in %d audit events (%v)", leaked, err)
	}
}

func mustKID(t *testing.T, token string) (string, error) {
	t.Helper()
	parts := strings.Split(token, ".")
	hdr, err := jwtSegment(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := hdr["kid"].(string)
	return kid, nil
}

func TestFailedSignInsLookAlike(t *testing.T) {
	e := newTestEnv(t)
	id := newPasswordUser(t, e, "ada@example.com")
	deactivated := newPasswordUser(t, e, "gone@example.com")
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + deactivated, Token: e.A.Admin, Body: map[string]any{"active": false}}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	_ = id
	type attempt struct{ name, tenant, user, password string }
	attempts := []attempt{
		{"wrong password", e.A.ID, "ada", "not-the-password-at-all"},
		{"unknown user", e.A.ID, "nobody", goodPassword},
		{"unknown tenant", "no-such-tenant", "ada", goodPassword},
		{"another tenant", e.B.ID, "ada", goodPassword},
		{"deactivated", e.A.ID, "gone", goodPassword},
		{"user without a password", e.A.ID, "admin-" + strings.ToLower(e.A.AdminID[:0]), goodPassword},
	}
	var first response
	// The fastest of three rounds is each kind's cost; the others measure
	// how busy the machine was.
	times := make([]time.Duration, len(attempts))
	for round := range 3 {
		for i, a := range attempts {
			start := time.Now()
			r := login(e, a.tenant, a.user, a.password)
			if d := time.Since(start); round == 0 || d < times[i] {
				times[i] = d
			}
			wantProblem(t, r, http.StatusUnauthorized, "")
			var p map[string]any
			r.JSON(t, &p)
			delete(p, "request_id")
			if i == 0 && round == 0 {
				first = r
				continue
			}
			var p0 map[string]any
			first.JSON(t, &p0)
			delete(p0, "request_id")
			if p["detail"] != p0["detail"] || p["code"] != p0["code"] {
				t.Fatalf("%s answers differently from a wrong password:\n%s\n%s", a.name, r.Body, first.Body)
			}
		}
	}
	// Each failure does the work of one password verification, so none is
	// much faster than the others.
	slowest, fastest := times[0], times[0]
	for _, d := range times {
		slowest, fastest = max(slowest, d), min(fastest, d)
	}
	if slowest > 4*fastest {
		t.Fatalf("failed sign-ins differ in time: %v", times)
	}
}

func TestLockoutAndUnlock(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// The tenant's policy locks after 3 failures, not the default 10.
	setPolicy(t, e, e.A.Admin, func(p policy) { p.section("lockout")["max_attempts"] = 3 })
	id := newPasswordUser(t, e, "locked@example.com")
	for range 3 {
		wantProblem(t, login(e, e.A.ID, "locked", "wrong-password-1234"), 401, "")
	}
	wantProblem(t, login(e, e.A.ID, "locked", goodPassword), 401, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/" + id + "/unlock", Token: e.A.Viewer}), 403, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/" + id + "/unlock", Token: e.B.Admin}), 404, "")
	if r := e.do(request{Method: "POST", Path: "/api/v1/users/" + id + "/unlock", Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("unlock: %d %s", r.Status, r.Body)
	}
	if r := login(e, e.A.ID, "locked", goodPassword); r.Status != 200 {
		t.Fatalf("after unlock: %d %s", r.Status, r.Body)
	}
	audit := e.do(request{Method: "GET", Path: "/api/v1/audit-events?target_id=" + id, Token: e.A.Admin})
	for _, action := range []string{"user.locked", "user.unlocked", "user.signed_in"} {
		if !strings.Contains(string(audit.Body), action) {
			t.Fatalf("no %s event: %s", action, audit.Body)
		}
	}
}

func TestSignInRateLimit(t *testing.T) {
	e := newTestEnv(t)
	newPasswordUser(t, e, "busy@example.com")
	var last response
	for range 11 {
		last = login(e, e.A.ID, "busy", "wrong-password-1234")
	}
	wantProblem(t, last, http.StatusTooManyRequests, "")
	if last.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	newPasswordUser(t, e, "rotor@example.com")
	var first tokens
	login(e, e.A.ID, "rotor", goodPassword).JSON(t, &first)
	refresh := func(token string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": token}})
	}
	r := refresh(first.RefreshToken)
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	var second tokens
	r.JSON(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatal("refresh did not rotate")
	}
	// The first token again: a replay. It fails, and so does the family.
	wantProblem(t, refresh(first.RefreshToken), 401, "")
	wantProblem(t, refresh(second.RefreshToken), 401, "")

	var third tokens
	login(e, e.A.ID, "rotor", goodPassword).JSON(t, &third)
	if r := e.do(request{Method: "POST", Path: "/api/v1/auth/logout", Body: map[string]any{"refresh_token": third.RefreshToken}}); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	wantProblem(t, refresh(third.RefreshToken), 401, "")
	wantProblem(t, refresh("rrt_forged"), 401, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{}, Invalid: true}), 400, "refresh_token")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/logout", Body: `{"refresh_token": 1}`, Invalid: true}), 400, "refresh_token")
	huge := `{"refresh_token": "` + strings.Repeat("x", 2<<20) + `"}`
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"} {
		wantProblem(t, e.do(request{Method: "POST", Path: path, Body: huge, Invalid: true}), 413, "")
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"tenant": e.A.ID}, Invalid: true}), 400, "username")
}

func TestDeactivationEndsAccessTokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id := newPasswordUser(t, e, "leaving@example.com")
	var tok tokens
	login(e, e.A.ID, "leaving", goodPassword).JSON(t, &tok)
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"active": false}}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me", Token: tok.AccessToken}), 401, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": tok.RefreshToken}}), 401, "")
}

func TestPasswordPolicyOnCreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for name, pw := range map[string]string{
		"too short":     "Sh0rt!",
		"common":        "password1234",
		"the user name": "grace.hopper-x",
		"control bytes": "abc\u0007defghijkl",
		"not a string":  "",
	} {
		t.Run(name, func(t *testing.T) {
			body := map[string]any{"email": "grace.hopper-x@example.com", "password": pw}
			if name == "not a string" {
				body["password"] = 123456789012
			}
			wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: body, Invalid: name == "not a string"}), 400, "password")
		})
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me", Token: e.A.SCIM}), 404, "")
	_ = store.NewUserService
	_ = context.Background
}

// An address has a ceiling on second-factor attempts of any outcome, far
// above an office's shift change (a wrong code is bounded by the challenge
// and the lockout, in the database).
func TestMFAVerifyRateLimit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ceiling := flow.DefaultSignInRate().AddressAttempts
	// The bucket refills as the test runs: the ceiling answers within
	// twice its size, never before it.
	for i := range 2 * ceiling {
		last := e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/verify", Body: map[string]any{
			"mfa_token": "rmt_not-a-challenge", "method": "totp", "code": "123456"}})
		if last.Status != http.StatusTooManyRequests {
			wantProblem(t, last, http.StatusUnauthorized, "")
			continue
		}
		if i < ceiling {
			t.Fatalf("429 at attempt %d, under the ceiling of %d", i+1, ceiling)
		}
		wantRetryAfter(t, last)
		return
	}
	t.Fatalf("no 429 after %d attempts", 2*ceiling)
}
