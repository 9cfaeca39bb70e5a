package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/internal/testkit"
)

// signInItem is one entry of a sign-in history.
type signInItem struct {
	ID        string   `json:"id"`
	At        string   `json:"at"`
	Address   string   `json:"address"`
	UserAgent string   `json:"user_agent"`
	Method    string   `json:"method"`
	Result    string   `json:"result"`
	Reason    *string  `json:"reason"`
	AMR       []string `json:"amr"`
}

// String is the entry as the tests compare it: method, result, reason.
func (s signInItem) String() string {
	reason := ""
	if s.Reason != nil {
		reason = "/" + *s.Reason
	}
	return s.Method + ":" + s.Result + reason
}

// signInPage is one page of a history.
type signInPage struct {
	Items      []signInItem `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// signIns reads the whole history at path, page by page of limit.
func signIns(t *testing.T, e *testEnv, token, path string, limit int) []signInItem {
	t.Helper()
	var all []signInItem
	cursor := ""
	for {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := e.do(request{Method: "GET", Path: path + "?" + q.Encode(), Token: token})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var p signInPage
		r.JSON(t, &p)
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
	}
}

// history is the entries of a history, oldest first, as strings.
func history(items []signInItem) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it.String()
	}
	return strings.Join(out, " ")
}

// TestSignInHistory: every attempt at a password or a second factor is in
// the user's history, newest first and paged without gaps; an unknown
// account's failures are in no one's but counted in the dashboard; the
// history of another tenant's user is not found.
func TestSignInHistory(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := useClock(e)
	const email = "historian@example.com"
	id := newPasswordUser(t, e, email)
	path := "/api/v1/users/" + id + "/sign-ins"
	before := e.stats(e.A.Admin, "").FailedSignIns24h

	ua := map[string]string{"User-Agent": "History/1.0"}
	e.do(request{Method: "POST", Path: "/api/v1/auth/login", Header: ua,
		Body: map[string]any{"tenant": e.A.ID, "username": email, "password": "wrong-password-123"}})
	token := wantTokens(t, login(e, e.A.ID, email, goodPassword), "pwd")
	wantProblem(t, login(e, e.A.ID, "nobody-at-all@example.com", goodPassword), 401, "")

	// Deactivated, then locked: the right password still fails.
	patch := func(active bool) {
		if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"active": active}}); r.Status != 200 {
			t.Fatalf("active %v: %d %s", active, r.Status, r.Body)
		}
	}
	patch(false)
	wantProblem(t, login(e, e.A.ID, email, goodPassword), 401, "")
	patch(true)
	if _, err := openTestDB(t).Exec(`UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, login(e, e.A.ID, email, goodPassword), 401, "")
	if r := e.do(request{Method: "POST", Path: "/api/v1/users/" + id + "/unlock", Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("unlock: %d %s", r.Status, r.Body)
	}

	// A second factor: the password asks for it, a wrong code fails, a
	// right one signs in.
	secret := enrolTOTP(t, e, token)
	m := mfaLogin(t, e, email)
	wantProblem(t, verifyMFA(e, m.MFAToken, "totp", "000000"), 401, "")
	clock.Add(30 * time.Second)
	wantTokens(t, verifyMFA(e, m.MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), "pwd", "otp", "mfa")

	const want = "password:failure/wrong_password password:success password:failure/deactivated password:failure/locked " +
		"password:mfa_required mfa:failure/wrong_code mfa:success"
	for _, limit := range []int{1, 2, 50} {
		if got := history(signIns(t, e, e.A.Admin, path, limit)); got != want {
			t.Fatalf("history in pages of %d:\n got %s\nwant %s", limit, got, want)
		}
	}
	items := signIns(t, e, e.A.Admin, path, 50)
	first := items[len(items)-1]
	if first.UserAgent != "History/1.0" || first.Address != "127.0.0.1" || len(first.AMR) != 0 {
		t.Fatalf("the first attempt: %+v", first)
	}
	if strings.Join(items[0].AMR, ",") != "pwd,otp,mfa" || items[0].Reason != nil {
		t.Fatalf("the last attempt: %+v", items[0])
	}
	for i := 1; i < len(items); i++ {
		if items[i].At > items[i-1].At {
			t.Fatalf("not newest first: %s after %s", items[i].At, items[i-1].At)
		}
	}

	// The user sees their own; a user without a password fails as such.
	clock.Add(30 * time.Second)
	mine := wantTokens(t, verifyMFA(e, mfaLogin(t, e, email).MFAToken, "totp", testkit.Oathtool(t, secret, clock.Now())), "pwd", "otp", "mfa")
	if got := signIns(t, e, mine, "/api/v1/me/sign-ins", 3); len(got) != len(items)+2 || got[0].Method != "mfa" {
		t.Fatalf("my sign-ins: %v", got)
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": "nopass@example.com"}})
	nopass := r.Object(t)["id"].(string)
	wantProblem(t, login(e, e.A.ID, "nopass@example.com", goodPassword), 401, "")
	if got := history(signIns(t, e, e.A.Admin, "/api/v1/users/"+nopass+"/sign-ins", 10)); got != "password:failure/no_password" {
		t.Fatalf("no password: %s", got)
	}

	// Rate limited after ten failures of the account.
	limited := newPasswordUser(t, e, "hammered@example.com")
	for range 10 {
		wantProblem(t, login(e, e.A.ID, "hammered@example.com", "not-the-password-1"), 401, "")
	}
	wantProblem(t, login(e, e.A.ID, "hammered@example.com", goodPassword), 429, "")
	got := signIns(t, e, e.A.Admin, "/api/v1/users/"+limited+"/sign-ins", 1)
	if len(got) != 11 || got[0].String() != "password:failure/rate_limited" || got[1].String() != "password:failure/wrong_password" {
		t.Fatalf("rate limited: %s", history(got))
	}

	// Failures: wrong password 1, unknown 1, deactivated 1, locked 1,
	// wrong code 1, no password 1, hammered 11.
	if after := e.stats(e.A.Admin, "").FailedSignIns24h; after-before != 17 {
		t.Fatalf("failed_sign_ins_24h went from %d to %d, want 17 more", before, after)
	}

	// Another tenant's user is not found; a viewer may not read it; a bad
	// cursor is named; an API token has no history of its own.
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.B.Admin}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.A.Viewer}), 403, "")
	wantProblem(t, e.do(request{Method: "GET", Path: path + "?cursor=nonsense", Token: e.A.Admin}), 400, "cursor")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/sign-ins?limit=0", Token: mine, Invalid: true}), 400, "limit")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/sign-ins", Token: e.A.SCIM}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/sign-ins"}), 401, "")
}

// TestNewDeviceMail: a sign-in from a device (user agent and network) the
// user has not signed in from for 90 days is mailed to them, once; their
// first sign-in and sign-ins from known devices are not.
func TestNewDeviceMail(t *testing.T) {
	t.Parallel()
	// A database of its own: the clock moves 91 days on, and the test's
	// mail worker would deliver every other test's mail due by then.
	e := newTestEnvWithDSN(t, pgtest.NewDatabase(t))
	mb := startInvitationMailbox(t, e)
	const email = "traveller@example.com"
	newPasswordUser(t, e, email)
	signInFrom := func(agent string) {
		t.Helper()
		r := e.do(request{Method: "POST", Path: "/api/v1/auth/login", Header: map[string]string{"User-Agent": agent},
			Body: map[string]any{"tenant": e.A.ID, "username": email, "password": goodPassword}})
		if r.Status != http.StatusOK {
			t.Fatalf("login from %s: %d %s", agent, r.Status, r.Body)
		}
		mb.deliver(t)
	}
	signInFrom("Laptop/1.0") // the first: nothing to compare with
	signInFrom("Laptop/1.0")
	if n := len(mb.Received()); n != 0 {
		t.Fatalf("%d mails after the first sign-in and a known device", n)
	}
	signInFrom("Phone/2.0")
	m := mb.lastMail(t, email, 1)
	if m.Header.Get("Subject") != "A new sign-in to your account" || !strings.Contains(m.Body, "Phone/2.0") ||
		!strings.Contains(m.Body, "127.0.0.1") {
		t.Fatalf("new device mail: %s\n%s", m.Header.Get("Subject"), m.Body)
	}
	signInFrom("Phone/2.0")
	signInFrom("Laptop/1.0")
	if n := len(mb.Received()); n != 1 {
		t.Fatalf("%d mails, want the phone's one", n)
	}

	// 91 days on, the laptop is a stranger again.
	base := e.DB.Now
	e.DB.Now = func() time.Time { return base().Add(91 * 24 * time.Hour) }
	signInFrom("Laptop/1.0")
	if m := mb.lastMail(t, email, 2); !strings.Contains(m.Body, "Laptop/1.0") {
		t.Fatalf("after 91 days: %s", m.Body)
	}
}
