package api_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster/internal/testkit"
)

// wrongCode is a six-digit code that is none of the codes of secret in the
// window around at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	window := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		window[testkit.Oathtool(t, secret, at.Add(d))] = true
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", n); !window[c] {
			return c
		}
	}
}

// openTestDB opens the package's test database, to look under the API.
func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// useClock makes the MFA steps of e read a clock set in the middle of a
// TOTP step, so that offsets of whole steps are exact.
func useClock(e *testEnv) *testClock {
	c := &testClock{now: time.Now().UTC().Truncate(30 * time.Second).Add(15 * time.Second)}
	e.mfa.Now = c.Now
	return c
}

// mfaRequired is the login answer for a user with a second factor.
type mfaRequired struct {
	MFARequired   bool     `json:"mfa_required"`
	MFAToken      string   `json:"mfa_token"`
	Methods       []string `json:"methods"`
	DefaultMethod *string  `json:"default_method"`
	ExpiresIn     int      `json:"expires_in"`
}

// signIn creates a user with a password and signs them in: their id and
// access token.
func signIn(t *testing.T, e *testEnv, email string) (string, string) {
	t.Helper()
	id := newPasswordUser(t, e, email)
	r := login(e, e.A.ID, email, goodPassword)
	var tok tokens
	r.JSON(t, &tok)
	if r.Status != 200 || tok.AccessToken == "" {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return id, tok.AccessToken
}

// startTOTP starts an enrolment and returns its secret.
func startTOTP(t *testing.T, e *testEnv, token string) string {
	t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: token})
	if r.Status != 200 {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	var enrolment struct {
		Secret     string `json:"secret"`
		OTPAuthURI string `json:"otpauth_uri"`
		QRPNG      string `json:"qr_png"`
	}
	r.JSON(t, &enrolment)
	png, err := base64.StdEncoding.DecodeString(enrolment.QRPNG)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("qr_png is not a PNG in base64 (%v)", err)
	}
	if !strings.HasPrefix(enrolment.OTPAuthURI, "otpauth://totp/") || !strings.Contains(enrolment.OTPAuthURI, "secret="+enrolment.Secret) {
		t.Fatalf("otpauth_uri %q", enrolment.OTPAuthURI)
	}
	return enrolment.Secret
}

func confirmTOTP(e *testEnv, token, code string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp/verify", Token: token, Body: map[string]any{"code": code}})
}

// enrolTOTP enrols a confirmed TOTP for the signed-in user and returns
// its secret.
func enrolTOTP(t *testing.T, e *testEnv, token string) string {
	t.Helper()
	secret := startTOTP(t, e, token)
	if r := confirmTOTP(e, token, testkit.Oathtool(t, secret, e.mfa.Now())); r.Status != 204 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	return secret
}

// mfaLogin signs in with a password and expects an MFA challenge.
func mfaLogin(t *testing.T, e *testEnv, username string) mfaRequired {
	t.Helper()
	r := login(e, e.A.ID, username, goodPassword)
	var m mfaRequired
	r.JSON(t, &m)
	if r.Status != 200 || !m.MFARequired || !strings.HasPrefix(m.MFAToken, "rmt_") || strings.Contains(string(r.Body), "access_token") {
		t.Fatalf("login of a user with MFA: %d %s", r.Status, r.Body)
	}
	return m
}

func verifyMFA(e *testEnv, mfaToken, method, code string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/verify", Body: map[string]any{
		"mfa_token": mfaToken, "method": method, "code": code,
	}})
}

// wantTokens fails unless r is a token answer whose access token's amr is
// amr, and returns the access token.
func wantTokens(t *testing.T, r response, amr ...string) string {
	t.Helper()
	var tok tokens
	r.JSON(t, &tok)
	if r.Status != 200 || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("want tokens: %d %s", r.Status, r.Body)
	}
	parsed, err := jwt.ParseInsecure([]byte(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	if err := parsed.Get("amr", &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", amr) {
		t.Fatalf("amr %v, want %v", got, amr)
	}
	return tok.AccessToken
}

// auditActions returns the actions of the events about a target, newest first.
func auditActions(t *testing.T, e *testEnv, targetID string) []string {
	t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/audit-events?limit=200&target_id=" + targetID, Token: e.A.Admin})
	var page struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	r.JSON(t, &page)
	var actions []string
	for _, ev := range page.Items {
		actions = append(actions, ev.Action)
	}
	return actions
}

func wantActions(t *testing.T, e *testEnv, targetID string, want ...string) {
	t.Helper()
	got := strings.Join(auditActions(t, e, targetID), " ")
	for _, a := range want {
		if !strings.Contains(" "+got+" ", " "+a+" ") {
			t.Fatalf("no %s event among %s", a, got)
		}
	}
}

func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, token := signIn(t, e, "ada@example.com")
	secret := startTOTP(t, e, token)

	// Awaiting its code, the method is listed but not enabled, and the
	// password alone still signs in.
	status := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/mfa", Token: e.A.Admin})
	if status.Status != 200 || status.Object(t)["enabled"] != false || !strings.Contains(string(status.Body), `"verified":false`) {
		t.Fatalf("status while enrolling: %d %s", status.Status, status.Body)
	}
	wantTokens(t, login(e, e.A.ID, "ada@example.com", goodPassword), "pwd")

	wantProblem(t, confirmTOTP(e, token, "12345a"), 400, "code")
	wantProblem(t, confirmTOTP(e, token, testkit.Oathtool(t, secret, time.Now().Add(10*time.Minute))), 400, "code")
	enrolCode := testkit.Oathtool(t, secret, time.Time{})
	if r := confirmTOTP(e, token, enrolCode); r.Status != 204 {
		t.Fatalf("confirm with oathtool's code: %d %s", r.Status, r.Body)
	}
	m := mfaLogin(t, e, "ada@example.com")
	if strings.Join(m.Methods, ",") != "totp" || m.DefaultMethod == nil || *m.DefaultMethod != "totp" || m.ExpiresIn != 600 {
		t.Fatalf("challenge: %+v", m)
	}
	// The code that confirmed the enrolment is spent.
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", enrolCode), 401, "")
	next := testkit.Oathtool(t, secret, time.Now().Add(30*time.Second))
	access := wantTokens(t, verifyMFA(e, m.MFAToken, "totp", next[:3]+" "+next[3:]), "pwd", "otp", "mfa")
	if r := e.do(request{Method: "GET", Path: "/api/v1/me", Token: access}); r.Status != 200 || r.Object(t)["id"] != id {
		t.Fatalf("me after MFA: %d %s", r.Status, r.Body)
	}
	wantProblem(t, confirmTOTP(e, access, enrolCode), 409, "")
	// The mfa_token is spent, and so is the code, on a new challenge too.
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", next), 401, "")
	wantProblem(t, verifyMFA(e, mfaLogin(t, e, "ada").MFAToken, "totp", next), 401, "")

	status = e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/mfa", Token: e.A.Viewer})
	var st struct {
		Enabled       bool    `json:"enabled"`
		DefaultMethod *string `json:"default_method"`
		Methods       []struct {
			Type       string  `json:"type"`
			Verified   bool    `json:"verified"`
			LastUsedAt *string `json:"last_used_at"`
			Target     *string `json:"target"`
		} `json:"methods"`
	}
	status.JSON(t, &st)
	if !st.Enabled || len(st.Methods) != 1 || st.Methods[0].Type != "totp" || !st.Methods[0].Verified ||
		st.Methods[0].LastUsedAt == nil || st.Methods[0].Target != nil {
		t.Fatalf("status after sign-in: %s", status.Body)
	}
	wantActions(t, e, id, "mfa.enrolling", "mfa.enabled", "mfa.challenge_started", "user.signed_in")
}

func TestTOTPClockDrift(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	_, token := signIn(t, e, "drift@example.com")
	now := clock.Now()

	// One step either side is accepted; further out is not.
	for _, offset := range []time.Duration{-90 * time.Second, 60 * time.Second, 90 * time.Second, -time.Hour} {
		secret := startTOTP(t, e, token)
		wantProblem(t, confirmTOTP(e, token, testkit.Oathtool(t, secret, now.Add(offset))), 400, "code")
	}
	old := startTOTP(t, e, token)
	if r := confirmTOTP(e, token, testkit.Oathtool(t, old, now.Add(-30*time.Second))); r.Status != 204 {
		t.Fatalf("a code one step behind: %d %s", r.Status, r.Body)
	}

	// Re-enrolling needs a sign-in with the factor in use, and keeps the
	// old authenticator until the new one is confirmed.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: token}), 401, "")
	m := mfaLogin(t, e, "drift")
	token = wantTokens(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, old, now)), "pwd", "otp", "mfa")
	replacement := startTOTP(t, e, token)
	m = mfaLogin(t, e, "drift")
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, replacement, now)), 401, "")
	wantTokens(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, old, now.Add(30*time.Second))), "pwd", "otp", "mfa")
	if r := confirmTOTP(e, token, testkit.Oathtool(t, replacement, now.Add(30*time.Second))); r.Status != 204 {
		t.Fatalf("a code one step ahead: %d %s", r.Status, r.Body)
	}
	clock.Add(time.Minute)
	m = mfaLogin(t, e, "drift")
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, old, clock.Now())), 401, "")
	wantTokens(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, replacement, clock.Now())), "pwd", "otp", "mfa")

	// A challenge lives ten minutes.
	m = mfaLogin(t, e, "drift")
	clock.Add(10*time.Minute + time.Second)
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, replacement, clock.Now())), 401, "")
}

func TestWrongCodesBurnTheChallenge(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, token := signIn(t, e, "guess@example.com")
	secret := enrolTOTP(t, e, token)
	clock.Add(time.Minute)

	m := mfaLogin(t, e, "guess")
	bad := wrongCode(t, secret, clock.Now())
	for range 5 {
		wantProblem(t, verifyMFA(e, m.MFAToken, "totp", bad), 401, "")
	}
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), 401, "")
	wantActions(t, e, id, "mfa.challenge_failed")

	// A new sign-in gets a new challenge, which the right code passes.
	m = mfaLogin(t, e, "guess")
	wantTokens(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), "pwd", "otp", "mfa")

	// Wrong codes count towards the account's lockout.
	setPolicy(t, e, e.A.Admin, func(p policy) { p.section("lockout")["max_attempts"] = 3 })
	for range 3 {
		wantProblem(t, verifyMFA(e, mfaLogin(t, e, "guess").MFAToken, "totp", bad), 401, "")
	}
	wantProblem(t, login(e, e.A.ID, "guess", goodPassword), 401, "")
	wantActions(t, e, id, "user.locked")
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, token := signIn(t, e, "lost-phone@example.com")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes", Token: token}), 409, "")
	token = stepUp(t, e, clock, token, enrolTOTP(t, e, token))

	newCodes := func() []string {
		t.Helper()
		r := e.do(request{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes", Token: token})
		var body struct{ Codes []string }
		r.JSON(t, &body)
		seen := map[string]bool{}
		for _, c := range body.Codes {
			seen[c] = true
		}
		if r.Status != 200 || len(body.Codes) != 10 || len(seen) != 10 || len(body.Codes[0]) != 14 {
			t.Fatalf("recovery codes: %d %s", r.Status, r.Body)
		}
		return body.Codes
	}
	codes := newCodes()
	m := mfaLogin(t, e, "lost-phone")
	if strings.Join(m.Methods, ",") != "totp,recovery_code" {
		t.Fatalf("methods %v", m.Methods)
	}
	typed := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
	wantTokens(t, verifyMFA(e, m.MFAToken, "recovery_code", typed), "pwd", "recovery_code", "mfa")
	wantProblem(t, verifyMFA(e, mfaLogin(t, e, "lost-phone").MFAToken, "recovery_code", codes[0]), 401, "")
	wantProblem(t, verifyMFA(e, mfaLogin(t, e, "lost-phone").MFAToken, "recovery_code", "   "), 401, "")

	status := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/mfa", Token: e.A.Admin})
	if n := status.Object(t)["recovery_codes_remaining"]; n != float64(9) {
		t.Fatalf("recovery codes remaining: %v", n)
	}
	// A new set replaces the old.
	fresh := newCodes()
	wantProblem(t, verifyMFA(e, mfaLogin(t, e, "lost-phone").MFAToken, "recovery_code", codes[1]), 401, "")
	wantTokens(t, verifyMFA(e, mfaLogin(t, e, "lost-phone").MFAToken, "recovery_code", fresh[9]), "pwd", "recovery_code", "mfa")
	wantActions(t, e, id, "mfa.recovery_codes_created", "mfa.recovery_code_used")
}

func TestMFAVerifyInput(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, token := signIn(t, e, "picky@example.com")
	enrolTOTP(t, e, token)
	m := mfaLogin(t, e, "picky")
	// No code was sent for sms or email: any is wrong, and counts.
	for _, method := range []string{"sms", "email"} {
		wantProblem(t, verifyMFA(e, m.MFAToken, method, "123456"), 401, "")
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/verify", Invalid: true,
		Body: map[string]any{"mfa_token": m.MFAToken, "method": "pigeon", "code": "1"}}), 400, "method")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/verify", Invalid: true,
		Body: map[string]any{"mfa_token": m.MFAToken, "method": "totp"}}), 400, "code")
	wantProblem(t, verifyMFA(e, "rmt_"+strings.Repeat("x", 40), "totp", "123456"), 401, "")
	wantProblem(t, verifyMFA(e, "not-a-token", "totp", "123456"), 401, "")
	huge := `{"code": "` + strings.Repeat("1", 2<<20) + `"}`
	for _, path := range []string{"/api/v1/auth/mfa/verify", "/api/v1/me/mfa/totp/verify", "/api/v1/auth/mfa/challenge",
		"/api/v1/me/mfa/sms", "/api/v1/me/mfa/sms/verify", "/api/v1/me/mfa/email/verify"} {
		wantProblem(t, e.do(request{Method: "POST", Path: path, Token: token, Body: huge, Invalid: true}), 413, "")
	}
	wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/me/mfa/default", Token: token, Body: huge, Invalid: true}), 413, "")
}

func TestMFADefaultAndRemoval(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, token := signIn(t, e, "tidy@example.com")
	setDefault := func(method string, invalid bool) response {
		return e.do(request{Method: "PUT", Path: "/api/v1/me/mfa/default", Token: token, Body: map[string]any{"method": method}, Invalid: invalid})
	}
	wantProblem(t, setDefault("totp", false), 409, "")
	wantProblem(t, setDefault("pigeon", true), 400, "method")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/totp", Token: token}), 404, "")
	secret := enrolTOTP(t, e, token)
	if r := setDefault("totp", false); r.Status != 204 {
		t.Fatalf("default: %d %s", r.Status, r.Body)
	}
	wantProblem(t, setDefault("sms", false), 409, "")
	// With a factor enrolled, changing factors needs it.
	for _, req := range []request{
		{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/totp"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/sms"},
	} {
		req.Token = token
		wantProblem(t, e.do(req), 401, "")
	}
	token = stepUp(t, e, clock, token, secret)
	if r := e.do(request{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes", Token: token}); r.Status != 200 {
		t.Fatalf("codes: %d", r.Status)
	}

	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/sms", Token: token}), 404, "")
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/totp", Token: token}); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	status := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/mfa", Token: e.A.Admin})
	if string(bytes.TrimSpace(status.Body)) != `{"enabled":false,"default_method":null,"methods":[],"recovery_codes_remaining":0}` {
		t.Fatalf("status after removal: %s", status.Body)
	}
	wantTokens(t, login(e, e.A.ID, "tidy", goodPassword), "pwd")
	wantActions(t, e, id, "mfa.removed")
}

func TestSelfServiceMFANeedsAUserSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// A JWT of the identity provider whose sign-in passed a second factor
	// just now, for a subject that is no Roster user.
	idp := e.jwt(e.A.ID, []string{"viewer"}, func(b *jwt.Builder) {
		b.Claim("amr", []string{"pwd", "mfa"}).Claim("auth_time", time.Now().Unix())
	})
	for _, req := range []request{
		{Method: "POST", Path: "/api/v1/me/mfa/totp"},
		{Method: "POST", Path: "/api/v1/me/mfa/totp/verify", Body: map[string]any{"code": "123456"}},
		{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/totp"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/email"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/sms"},
		{Method: "DELETE", Path: "/api/v1/me/mfa/passkey"},
		{Method: "POST", Path: "/api/v1/me/mfa/email"},
		{Method: "POST", Path: "/api/v1/me/mfa/email/verify", Body: map[string]any{"code": "123456"}},
		{Method: "POST", Path: "/api/v1/me/mfa/sms", Body: map[string]any{"phone": "+14155550123"}},
		{Method: "POST", Path: "/api/v1/me/mfa/sms/verify", Body: map[string]any{"code": "123456"}},
		{Method: "PUT", Path: "/api/v1/me/password", Body: map[string]any{"current_password": "a", "new_password": "b"}},
	} {
		// A script's token is no sign-in, even one acting for a user.
		req.Token = e.A.Developer
		wantProblem(t, e.do(req), http.StatusForbidden, "")
		req.Token = e.A.Admin
		wantProblem(t, e.do(req), http.StatusForbidden, "")
		req.Token = idp
		wantProblem(t, e.do(req), http.StatusNotFound, "")
	}
	wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/me/mfa/default", Token: e.A.Developer, Body: map[string]any{"method": "totp"}}), 404, "")
}

func TestAdminMFA(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	id, token := signIn(t, e, "helpdesk@example.com")
	token = stepUp(t, e, clock, token, enrolTOTP(t, e, token))
	path := "/api/v1/users/" + id + "/mfa"

	// An SMS method as a later enrolment will store it: the admin sees
	// its number masked, and sign-in does not offer it yet.
	db := openTestDB(t)
	if _, err := db.Exec(`INSERT INTO mfa_methods (tenant_id, user_id, type, target, verified, created_at)
		VALUES ($1, $2, 'sms', '+44 20 7946 0958', true, now())`, e.A.ID, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE users SET mfa_methods = mfa_methods || '{sms}' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	r := e.do(request{Method: "GET", Path: path, Token: e.A.Viewer})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"target":"+44******0958"`) || strings.Contains(string(r.Body), "7946") {
		t.Fatalf("status with an SMS method: %d %s", r.Status, r.Body)
	}
	m := mfaLogin(t, e, "helpdesk")
	if strings.Join(m.Methods, ",") != "totp,sms" {
		t.Fatalf("methods %v", m.Methods)
	}
	wantProblem(t, verifyMFA(e, m.MFAToken, "sms", "123456"), 401, "") // no code was sent
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/sms", Token: token}); r.Status != 204 {
		t.Fatalf("remove sms: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/pigeon", Token: token, Invalid: true}), 404, "")
	r = e.do(request{Method: "GET", Path: path, Token: e.A.Viewer})
	if r.Object(t)["enabled"] != true || strings.Contains(string(r.Body), "sms") {
		t.Fatalf("status after removing sms: %s", r.Body)
	}

	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.A.SCIM}), 403, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: path, Token: e.A.Viewer}), 403, "")
	for _, method := range []string{"GET", "DELETE"} {
		wantProblem(t, e.do(request{Method: method, Path: path, Token: e.B.Admin}), 404, "")
		wantProblem(t, e.do(request{Method: method, Path: "/api/v1/users/00000000-0000-7000-8000-000000000000/mfa", Token: e.A.Admin}), 404, "")
	}
	if r := e.do(request{Method: "DELETE", Path: path, Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	r = e.do(request{Method: "GET", Path: path, Token: e.A.Admin})
	if string(bytes.TrimSpace(r.Body)) != `{"enabled":false,"default_method":null,"methods":[],"recovery_codes_remaining":0}` {
		t.Fatalf("status after reset: %s", r.Body)
	}
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", "123456"), 401, "") // the reset ended sign-ins in progress
	wantTokens(t, login(e, e.A.ID, "helpdesk", goodPassword), "pwd")
	wantActions(t, e, id, "mfa.reset")
}

func TestUsersListMFAFilters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	useClock(e)
	withMFA, token := signIn(t, e, "with-mfa@example.com")
	enrolTOTP(t, e, token)
	without := newPasswordUser(t, e, "without-mfa@example.com")
	enrolling, token2 := signIn(t, e, "enrolling@example.com")
	startTOTP(t, e, token2)

	ids := func(query string) string {
		t.Helper()
		r := e.do(request{Method: "GET", Path: "/api/v1/users?" + query, Token: e.A.Viewer})
		var page struct {
			Items []struct{ ID string }
		}
		r.JSON(t, &page)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		var out []string
		for _, u := range page.Items {
			out = append(out, u.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids("mfa=enabled"); got != withMFA {
		t.Fatalf("mfa=enabled: %s", got)
	}
	if got := ids("mfa=disabled&sort=created_at"); got != e.A.AdminID+","+without+","+enrolling {
		t.Fatalf("mfa=disabled: %s", got)
	}
	if got := ids("mfa_method=totp&mfa=enabled&sort=-email"); got != withMFA {
		t.Fatalf("mfa_method=totp: %s", got)
	}
	if got := ids("mfa_method=sms"); got != "" {
		t.Fatalf("mfa_method=sms: %s", got)
	}
	// Paged, the filter holds on every page.
	first := e.do(request{Method: "GET", Path: "/api/v1/users?mfa=disabled&limit=2", Token: e.A.Viewer}).Object(t)
	cursor, _ := first["next_cursor"].(string)
	if got := ids("mfa=disabled&limit=2&cursor=" + cursor); cursor == "" || got != enrolling {
		t.Fatalf("second page of mfa=disabled: %q %s", cursor, got)
	}
}

// TestMFASecretsAtRest looks for every secret of the MFA flows in the
// database as text (bytea shows as hex, so the hex of each is looked for
// too) and in the service's logs.
func TestMFASecretsAtRest(t *testing.T) {
	e := newTestEnv(t)
	clock := useClock(e)
	_, token := signIn(t, e, "vault@example.com")
	secret := enrolTOTP(t, e, token)
	token = stepUp(t, e, clock, token, secret)
	pending := startTOTP(t, e, token)
	r := e.do(request{Method: "POST", Path: "/api/v1/me/mfa/recovery-codes", Token: token})
	var body struct{ Codes []string }
	r.JSON(t, &body)
	clock.Add(time.Minute)
	spent := mfaLogin(t, e, "vault")
	wantTokens(t, verifyMFA(e, spent.MFAToken, "recovery_code", body.Codes[0]), "pwd", "recovery_code", "mfa")
	open := mfaLogin(t, e, "vault")
	wantProblem(t, verifyMFA(e, open.MFAToken, "totp", wrongCode(t, secret, clock.Now())), 401, "")

	secrets := []string{secret, pending, spent.MFAToken, open.MFAToken}
	for _, c := range body.Codes {
		secrets = append(secrets, c, strings.ReplaceAll(c, "-", ""))
	}
	dump := dumpTables(t, "mfa_methods", "recovery_codes", "mfa_challenges", "audit_events", "users")
	for _, where := range []struct{ name, text string }{{"the database", dump}, {"the logs", e.logs.String()}} {
		text := strings.ToLower(where.text)
		for _, s := range secrets {
			for _, form := range []string{strings.ToLower(s), fmt.Sprintf("%x", s)} {
				if strings.Contains(text, form) {
					t.Fatalf("a secret (%.6s...) is in %s", s, where.name)
				}
			}
		}
	}
	if !strings.Contains(dump, "mfa.enabled") {
		t.Fatal("the dump misses the audit trail")
	}
}
