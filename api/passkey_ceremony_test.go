package api_test

import (
	"net/http"
	"testing"
	"time"
)

// A registration ceremony is bound to the user and the tenant that began
// it, works once, and expires after 5 minutes.
func TestPasskeyRegistrationCeremonyIsBoundSingleUseAndExpires(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	begin, finish := "/api/v1/me/passkeys/register/begin", "/api/v1/me/passkeys/register/finish"
	id, own := signIn(t, e, "ceremony@example.com")
	_, peer := signIn(t, e, "peer@example.com")
	_, stranger := newUserIn(t, e, e.B.ID, e.B.Admin, "stranger@example.com")
	k := newSoftKey(id)

	b := e.do(request{Method: "POST", Path: begin, Token: own})
	if b.Status != 200 {
		t.Fatalf("begin: %d %s", b.Status, b.Body)
	}
	answer := k.attest(t, b.Body)
	// Another user of the tenant, and a user of another tenant.
	for _, token := range []string{peer, stranger} {
		wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: token, Body: map[string]any{"credential": answer}}), 400, "credential")
	}
	// Their attempts left it to its owner, for one use.
	if r := e.do(request{Method: "POST", Path: finish, Token: own, Body: map[string]any{"credential": answer}}); r.Status != http.StatusCreated {
		t.Fatalf("finish: %d %s", r.Status, r.Body)
	}
	raised := wantAMR(t, passkeyLogin(t, e, e.A.ID, k, 1), "hwk", "user", "mfa")
	second := newSoftKey(id)
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: raised, Body: map[string]any{"credential": second.attest(t, b.Body)}}), 400, "credential")

	b = e.do(request{Method: "POST", Path: begin, Token: raised})
	answer = second.attest(t, b.Body)
	e.passkeys.Now = func() time.Time { return time.Now().Add(5*time.Minute + time.Second) }
	defer func() { e.passkeys.Now = time.Now }()
	wantProblem(t, e.do(request{Method: "POST", Path: finish, Token: raised, Body: map[string]any{"credential": answer}}), 400, "credential")
}
