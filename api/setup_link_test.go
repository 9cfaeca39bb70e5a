package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/store"
)

// newSetupLink gives tenant A's admin a setup link, as the CLI does, and
// returns its token.
func (e *testEnv) newSetupLink(email string) string {
	e.t.Helper()
	token, link, err := flow.NewSetupLink(time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := store.NewSetupLinkService(e.DB).CreateSetupLink(context.Background(), e.A.ID, email, link.TokenHash, link.ExpiresAt); err != nil {
		e.t.Fatal(err)
	}
	return token
}

// TestSetupLink sets the first admin's password through a setup link:
// the tenant's policy applies, the link works once, a new one replaces it,
// and only its hash is stored.
func TestSetupLink(t *testing.T) {
	e := newTestEnv(t)
	admin := e.do(request{Method: "GET", Path: "/api/v1/users/" + e.A.AdminID, Token: e.A.Admin}).Object(t)
	email := admin["email"].(string)
	replaced := e.newSetupLink(email)
	token := e.newSetupLink(email)
	if strings.Contains(dumpTables(t, "setup_links"), token) {
		t.Fatal("the setup token is stored in the clear")
	}
	accept := func(token, password string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/admin-setup/accept", Body: map[string]any{"token": token, "password": password}})
	}
	wantProblem(t, accept(replaced, "a-long-passphrase-42"), http.StatusGone, "")
	wantProblem(t, accept(token, "short"), http.StatusBadRequest, "password")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/admin-setup/accept", Body: map[string]any{"password": "x"}, Invalid: true}),
		http.StatusBadRequest, "token")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/admin-setup/accept", Invalid: true,
		Body: map[string]any{"token": token, "password": "a-long-passphrase-42", "role": "admin"}}), http.StatusBadRequest, "role")
	wantProblem(t, accept("rsl_"+strings.Repeat("A", 40), "a-long-passphrase-42"), http.StatusGone, "")
	wantProblem(t, accept("riv_nonsense", "a-long-passphrase-42"), http.StatusGone, "")

	r := accept(token, "a-long-passphrase-42")
	if r.Status != http.StatusOK || r.Object(t)["id"] != e.A.AdminID {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	login := e.do(request{Method: "POST", Path: "/api/v1/auth/login",
		Body: map[string]any{"tenant": e.A.ID, "username": email, "password": "a-long-passphrase-42"}})
	if login.Status != http.StatusOK {
		t.Fatalf("sign-in with the new password: %d %s", login.Status, login.Body)
	}
	wantProblem(t, accept(token, "another-long-passphrase-7"), http.StatusGone, "")

	// An expired link is gone too.
	expired := e.newSetupLink(email)
	if _, err := openTestDB(t).Exec(`UPDATE setup_links SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`, e.A.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, accept(expired, "another-long-passphrase-7"), http.StatusGone, "")

	events := e.do(request{Method: "GET", Path: "/api/v1/audit-events?target_id=" + e.A.AdminID, Token: e.A.Admin})
	for _, want := range []string{`"user.setup_link_created"`, `"user.password_set"`, `"via":"setup_link"`} {
		if !strings.Contains(string(events.Body), want) {
			t.Errorf("the admin's audit trail lacks %s: %s", want, events.Body)
		}
	}
}

// TestSetupLinkStaysInItsTenant: a tenant and address that do not go
// together make no link.
func TestSetupLinkStaysInItsTenant(t *testing.T) {
	e := newTestEnv(t)
	adminB := e.do(request{Method: "GET", Path: "/api/v1/users/" + e.B.AdminID, Token: e.B.Admin}).Object(t)
	_, link, err := flow.NewSetupLink(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.NewSetupLinkService(e.DB).CreateSetupLink(context.Background(), e.A.ID, adminB["email"].(string), link.TokenHash, link.ExpiresAt)
	if err == nil {
		t.Fatal("tenant A made a link for tenant B's admin")
	}
}
