package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

var verifyLinkPattern = regexp.MustCompile(regexp.QuoteMeta(testPublicURL+"/account/verify?tenant=") + `([a-z0-9-]+)&token=(rsl_[A-Za-z0-9]+)`)

// signUpBody is a sign-up of email creating the organisation slug.
func signUpBody(email, slug string) map[string]any {
	return map[string]any{"email": email, "password": goodPassword, "given_name": "Ada", "family_name": "Founder",
		"organisation": map[string]any{"name": "Org " + slug, "slug": slug}}
}

// uniqueSlug is a slug no other test run has taken.
func uniqueSlug(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// TestSignUpClosed: by default nobody signs up, whatever they send.
func TestSignUpClosed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if r := e.do(request{Method: "GET", Path: "/api/v1/signup"}); r.Object(t)["open"] != false {
		t.Fatalf("GET /signup: %s", r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/signup", Body: signUpBody("closed@example.com", uniqueSlug("closed"))}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/signup", Body: map[string]any{"nonsense": 1}, Invalid: true}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/verify-email/resend", Body: map[string]any{"tenant": e.A.ID, "email": "closed@example.com"}}), http.StatusForbidden, "")
}

// TestSignUp is a sign-up from the form to the first sign-in: the answer
// says nothing of the address, the account waits for its link, the link
// works once and can be replaced, and a welcome follows.
func TestSignUp(t *testing.T) {
	e := newTestEnvWithDSN(t, testDSN, withSignUp)
	mb := startInvitationMailbox(t, e)
	if r := e.do(request{Method: "GET", Path: "/api/v1/signup"}); r.Object(t)["open"] != true {
		t.Fatalf("GET /signup: %s", r.Body)
	}
	signUp := func(body map[string]any) (response, time.Duration) {
		start := time.Now()
		r := e.do(request{Method: "POST", Path: "/api/v1/signup", Body: body})
		return r, time.Since(start)
	}
	const email = "founder@signup.example"
	slug := uniqueSlug("acme")
	fresh, freshTook := signUp(signUpBody(email, slug))
	if fresh.Status != http.StatusAccepted {
		t.Fatalf("sign-up: %d %s", fresh.Status, fresh.Body)
	}
	// An address with an account elsewhere answers alike.
	existing, existingTook := signUp(signUpBody(e.adminEmail(e.A), uniqueSlug("other")))
	if existing.Status != fresh.Status || string(existing.Body) != string(fresh.Body) {
		t.Fatalf("an existing address answered %d %s, a new one %d %s", existing.Status, existing.Body, fresh.Status, fresh.Body)
	}
	if freshTook < 500*time.Millisecond || existingTook < 500*time.Millisecond {
		t.Fatalf("answers took %s and %s: both must take the floor", freshTook, existingTook)
	}
	taken, _ := signUp(signUpBody("second@signup.example", slug))
	wantProblem(t, taken, http.StatusConflict, "organisation.slug")
	for _, bad := range []struct {
		field   string
		body    map[string]any
		invalid bool // against the contract's schema
	}{
		{"organisation", map[string]any{"email": "x@signup.example", "password": goodPassword}, true},
		{"organisation.slug", signUpBody("x@signup.example", "Not A Slug"), false},
		{"password", map[string]any{"email": "x@signup.example", "password": "short", "organisation": map[string]any{"name": "X"}}, false},
		{"email", signUpBody("not-an-address", uniqueSlug("x")), false},
	} {
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/signup", Body: bad.body, Invalid: bad.invalid}), http.StatusBadRequest, bad.field)
	}

	// No sign-in before the address is confirmed, and the answer says why.
	if r := login(e, slug, email, goodPassword); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "confirm your email") {
		t.Fatalf("sign-in before verification: %d %s", r.Status, r.Body)
	}
	mb.deliver(t)
	mailTo(t, mb, e.adminEmail(e.A), 1)
	m := verifyLinkPattern.FindStringSubmatch(mailTo(t, mb, email, 1)[0].Body)
	if m == nil || m[1] != slug {
		t.Fatalf("no verification link in %q", mailTo(t, mb, email, 1)[0].Body)
	}
	first := m[2]
	if strings.Contains(dumpTables(t, "setup_links", "email_outbox"), first) {
		t.Fatal("the verification token is stored in the clear")
	}

	// A new link replaces the old; nobody's address answers alike.
	resend := func(tenant, address string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/verify-email/resend", Body: map[string]any{"tenant": tenant, "email": address}})
	}
	again, nobody := resend(slug, "Founder@Signup.example"), resend(slug, "nobody@signup.example")
	if again.Status != http.StatusAccepted || nobody.Status != again.Status || string(nobody.Body) != string(again.Body) {
		t.Fatalf("resend: %d %s; for nobody: %d %s", again.Status, again.Body, nobody.Status, nobody.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/verify-email/resend", Body: map[string]any{"tenant": slug}, Invalid: true}), http.StatusBadRequest, "email")
	mb.deliver(t)
	second := verifyLinkPattern.FindStringSubmatch(mailTo(t, mb, email, 2)[1].Body)[2]
	verify := func(token string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/verify-email", Body: map[string]any{"token": token}})
	}
	wantProblem(t, verify(first), http.StatusGone, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/verify-email", Body: map[string]any{}, Invalid: true}), http.StatusBadRequest, "token")
	if r := verify(second); r.Status != http.StatusNoContent {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	wantProblem(t, verify(second), http.StatusGone, "")
	// A verification token is no password link.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/password-reset/confirm", Body: map[string]any{"token": second, "new_password": "another-long-passphrase-1"}}), http.StatusGone, "")
	mb.deliver(t)
	if welcome := mailTo(t, mb, email, 3)[2]; welcome.Header.Get("Subject") != "Welcome to Roster" || !strings.Contains(welcome.Body, "/account?tenant="+slug) {
		t.Fatalf("the fourth mail is %q: %s", welcome.Header.Get("Subject"), welcome.Body)
	}
	r := login(e, slug, email, goodPassword)
	if r.Status != http.StatusOK {
		t.Fatalf("sign-in after verification: %d %s", r.Status, r.Body)
	}
	admin := r.Object(t)["access_token"].(string)
	events := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=user.email_verified", Token: admin})
	if !strings.Contains(string(events.Body), `"user.email_verified"`) {
		t.Fatalf("no user.email_verified event: %s", events.Body)
	}
	// The new organisation sees only itself.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + e.A.AdminID, Token: admin}), http.StatusNotFound, "")
}

// TestSignUpLinkExpires: a verification link works for 24 hours, and an
// email signs up a few times an hour at most.
func TestSignUpLinkExpires(t *testing.T) {
	e := newTestEnvWithDSN(t, testDSN, withSignUp)
	mb := startInvitationMailbox(t, e)
	const email = "late@signup.example"
	slug := uniqueSlug("late")
	if r := e.do(request{Method: "POST", Path: "/api/v1/signup", Body: signUpBody(email, slug)}); r.Status != http.StatusAccepted {
		t.Fatalf("sign-up: %d %s", r.Status, r.Body)
	}
	mb.deliver(t)
	token := verifyLinkPattern.FindStringSubmatch(mailTo(t, mb, email, 1)[0].Body)[2]
	e.DB.Now = func() time.Time { return time.Now().Add(24*time.Hour + time.Minute) }
	r := e.do(request{Method: "POST", Path: "/api/v1/auth/verify-email", Body: map[string]any{"token": token}})
	e.DB.Now = time.Now
	wantProblem(t, r, http.StatusGone, "")
	wantProblem(t, login(e, slug, email, goodPassword), http.StatusForbidden, "")

	for i := 0; i < 2; i++ {
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/signup", Body: signUpBody(email, slug)}), http.StatusConflict, "organisation.slug")
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/signup", Body: signUpBody(email, uniqueSlug("late"))}), http.StatusTooManyRequests, "")

	// An account gets five new links an hour.
	resend := request{Method: "POST", Path: "/api/v1/auth/verify-email/resend", Body: map[string]any{"tenant": slug, "email": email}}
	for i := 0; i < 5; i++ {
		if r := e.do(resend); r.Status != http.StatusAccepted {
			t.Fatalf("resend %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	wantProblem(t, e.do(resend), http.StatusTooManyRequests, "")
	mb.deliver(t)
	mailTo(t, mb, email, 6)
}

// mailTo returns the mail received for to, which must be count.
func mailTo(t *testing.T, mb *inbox, to string, count int) []testkit.Mail {
	t.Helper()
	var out []testkit.Mail
	for _, m := range mb.Received() {
		if strings.Contains(m.Header.Get("To"), to) {
			out = append(out, m)
		}
	}
	if len(out) != count {
		t.Fatalf("%d mails to %s, want %d", len(out), to, count)
	}
	return out
}
