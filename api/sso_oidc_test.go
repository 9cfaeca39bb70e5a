package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/store"
)

// ada is the provider's user most tests sign in as.
var ada = testkit.OIDCUser{ID: "okta-ada", Username: "ada", Password: "verysecure", Email: "ada@acme.test",
	EmailVerified: true, GivenName: "Ada", FamilyName: "Lovelace", Groups: []string{"Engineers", "Okta Admins"}}

func startOP(t *testing.T, users ...testkit.OIDCUser) *testkit.OIDCProvider {
	t.Helper()
	return testkit.StartOIDCProvider(t, testOIDCClientID, testOIDCSecret, testCallbackURL, users...)
}

// signInVia runs a whole sign-in of username at connection and returns
// the token answer of its one-time code.
func (e *testEnv) signInVia(op *testkit.OIDCProvider, connection, username string) (*ssoBrowser, response) {
	e.t.Helper()
	b := e.newSSOBrowser()
	resp, body := b.oidcSignIn(e, op, url.Values{"tenant": {e.A.ID}, "connection": {connection}}, username)
	code := b.ssoCode()
	if code == "" {
		e.t.Fatalf("no one-time code; ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	if resp.Request.URL.Path != "/account" || strings.Contains(resp.Request.URL.RawQuery, code) {
		e.t.Fatalf("ended at %s", resp.Request.URL)
	}
	return b, e.exchange(code)
}

func TestSSOConnectionsCRUD(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	op := startOP(t)
	id := e.createOIDCConnection(e.A, op, nil)

	got := e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + id, Token: e.A.Admin})
	c := got.Object(t)
	if got.Status != 200 || c["client_secret_set"] != true || c["issuer"] != op.URL || c["redirect_uri"] != testCallbackURL {
		t.Fatalf("get: %d %s", got.Status, got.Body)
	}
	if strings.Contains(string(got.Body), testOIDCSecret) {
		t.Fatal("the client secret was shown")
	}
	if strings.Contains(dumpTables(t, "sso_connections"), testOIDCSecret) {
		t.Fatal("the client secret is stored in the clear")
	}
	list := e.do(request{Method: "GET", Path: "/api/v1/sso/connections", Token: e.A.Admin})
	if items := list.Object(t)["items"].([]any); list.Status != 200 || len(items) != 1 {
		t.Fatalf("list: %s", list.Body)
	}

	// Another tenant sees nothing of it.
	for _, r := range []request{
		{Method: "GET", Path: "/api/v1/sso/connections/" + id, Token: e.B.Admin},
		{Method: "PATCH", Path: "/api/v1/sso/connections/" + id, Token: e.B.Admin, Body: map[string]any{"name": "mine"}},
		{Method: "DELETE", Path: "/api/v1/sso/connections/" + id, Token: e.B.Admin},
		{Method: "GET", Path: "/api/v1/sso/connections/not-an-id", Token: e.A.Admin},
	} {
		wantProblem(t, e.do(r), 404, "")
	}
	if l := e.do(request{Method: "GET", Path: "/api/v1/sso/connections", Token: e.B.Admin}); len(l.Object(t)["items"].([]any)) != 0 {
		t.Fatalf("tenant B lists A's connection: %s", l.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/sso/connections", Token: e.A.Viewer}), 403, "")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Developer,
		Body: map[string]any{"type": "oidc", "name": "mine"}}), 403, "")
	// An OIDC connection has no SAML metadata.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + id + "/saml/metadata", Token: e.A.Admin}), 404, "")

	upd := e.do(request{Method: "PATCH", Path: "/api/v1/sso/connections/" + id, Token: e.A.Admin,
		Body: map[string]any{"name": "Acme SSO", "jit": false}})
	if o := upd.Object(t); upd.Status != 200 || o["name"] != "Acme SSO" || o["jit"] != false || o["client_secret_set"] != true {
		t.Fatalf("patch: %d %s", upd.Status, upd.Body)
	}

	// Bad input names its field.
	for field, body := range map[string]map[string]any{
		"default_role": {"default_role": "owner"},
		"group_roles":  {"group_roles": map[string]string{"x": "root"}},
		"domains":      {"domains": []string{"not a domain"}},
		"issuer":       {"issuer": "https://login.microsoftonline.com/common/v2.0"},
		"type":         {"type": "saml"},
		"claims.email": {"claims": map[string]any{"email": 3}},
	} {
		resp := e.do(request{Method: "PATCH", Path: "/api/v1/sso/connections/" + id, Token: e.A.Admin, Body: body, Invalid: field == "claims.email"})
		wantProblem(t, resp, 400, field)
	}
	for field, body := range map[string]map[string]any{
		"issuer":        {"issuer": op.URL + "/elsewhere"}, // not exact: discovery names another issuer
		"client_secret": {"client_secret": nil},
		"type":          {"type": "ldap"},
	} {
		create := map[string]any{"type": "oidc", "name": "x", "issuer": op.URL, "client_id": "c", "client_secret": "s"}
		for k, v := range body {
			if v == nil {
				delete(create, k)
			} else {
				create[k] = v
			}
		}
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Admin, Body: create, Invalid: field == "type"}), 400, field)
	}
	entra := e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Admin, Body: map[string]any{
		"type": "oidc", "name": "Entra", "issuer": "https://login.microsoftonline.com/common/v2.0", "client_id": "c", "client_secret": "s"}})
	wantProblem(t, entra, 400, "issuer")
	if !strings.Contains(string(entra.Body), "tenant-specific") {
		t.Fatalf("the Entra refusal does not say what to use: %s", entra.Body)
	}
	// Two connections cannot route one domain.
	dup := e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Admin, Body: map[string]any{
		"type": "oidc", "name": "Other", "issuer": op.URL, "client_id": "c", "client_secret": "s", "domains": []string{"acme.test"}}})
	wantProblem(t, dup, 409, "domains")

	if del := e.do(request{Method: "DELETE", Path: "/api/v1/sso/connections/" + id, Token: e.A.Admin}); del.Status != 204 {
		t.Fatalf("delete: %d %s", del.Status, del.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + id, Token: e.A.Admin}), 404, "")
}

func TestSSOOIDCJustInTimeWithGroupRoles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	op := startOP(t, ada)
	conn := e.createOIDCConnection(e.A, op, nil)

	b, tokens := e.signInVia(op, conn, "ada")
	if tokens.Status != 200 {
		t.Fatalf("exchange: %d %s", tokens.Status, tokens.Body)
	}
	claims := claimsOf(t, tokens.Object(t)["access_token"].(string))
	if amr := claims["amr"].([]any); len(amr) != 1 || amr[0] != "fed" {
		t.Fatalf("amr %v, want [fed]", claims["amr"])
	}
	me := e.do(request{Method: "GET", Path: "/api/v1/me", Token: tokens.Object(t)["access_token"].(string)})
	u := me.Object(t)
	if me.Status != 200 || u["email"] != "ada@acme.test" || u["role"] != "admin" || u["given_name"] != "Ada" {
		t.Fatalf("me: %s", me.Body)
	}
	// The code works once.
	wantProblem(t, e.exchange(b.ssoCode()), 401, "")
	// A federated sign-in is a first factor: its user may enrol a second.
	if r := e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: tokens.Object(t)["access_token"].(string)}); r.Status != 200 {
		t.Fatalf("enrol TOTP after SSO: %d %s", r.Status, r.Body)
	}

	// A second sign-in finds the linked user, and the role follows the
	// provider's groups.
	op.AddUser(func() testkit.OIDCUser { u := ada; u.Groups = []string{"Engineers"}; return u }())
	_, again := e.signInVia(op, conn, "ada")
	me2 := e.do(request{Method: "GET", Path: "/api/v1/me", Token: again.Object(t)["access_token"].(string)})
	if u2 := me2.Object(t); u2["id"] != u["id"] || u2["role"] != "developer" {
		t.Fatalf("second sign-in: %s (first %s)", me2.Body, me.Body)
	}
	audit := e.do(request{Method: "GET", Path: "/api/v1/audit-events?target_id=" + u["id"].(string), Token: e.A.Admin})
	if !strings.Contains(string(audit.Body), `"role"`) || !strings.Contains(string(audit.Body), "user.created") {
		t.Fatalf("the role change is not audited: %s", audit.Body)
	}
}

func TestSSOOIDCStateIsSingleUse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	op := startOP(t, ada)
	conn := e.createOIDCConnection(e.A, op, nil)
	b := e.newSSOBrowser()
	// Stop at Roster's callback to replay it.
	var callback string
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/api/v1/auth/sso/oidc/callback" && callback == "" {
			callback = req.URL.String()
		}
		b.fragments = append(b.fragments, req.URL.Fragment)
		return nil
	}
	b.oidcSignIn(e, op, url.Values{"tenant": {e.A.ID}, "connection": {conn}}, "ada")
	if callback == "" || b.ssoCode() == "" {
		t.Fatal("the sign-in did not finish")
	}
	resp, body := b.get(strings.Replace(callback, testPublicURL, e.URL, 1))
	if resp.StatusCode != 401 || !strings.Contains(body, "already used") {
		t.Fatalf("replayed callback: %d %s", resp.StatusCode, body)
	}
	// A made-up state, and none.
	for _, q := range []string{"state=rss_made-up&code=x", "code=x", "state=" + strings.Repeat("a", 40)} {
		resp, _ := b.get(e.URL + "/api/v1/auth/sso/oidc/callback?" + q)
		if resp.StatusCode != 401 {
			t.Fatalf("%s: %d", q, resp.StatusCode)
		}
	}
}

func TestSSOOIDCRefusals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	grace := testkit.OIDCUser{ID: "okta-grace", Username: "grace", Password: "verysecure", Email: "grace@acme.test", EmailVerified: true}
	op := startOP(t, ada, grace)
	conn := e.createOIDCConnection(e.A, op, map[string]any{"jit": false})

	b := e.newSSOBrowser()
	resp, body := b.oidcSignIn(e, op, url.Values{"tenant": {e.A.ID}, "connection": {conn}}, "grace")
	if resp.StatusCode != 403 || !strings.Contains(body, "no account") || b.ssoCode() != "" {
		t.Fatalf("JIT off: %d %s", resp.StatusCode, body)
	}

	// A user the provider pushed over SCIM, deactivated, is found by its
	// externalId (the provider's subject) and refused.
	u := e.scimUser(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "ada.scim", "externalId": "okta-ada", "active": false,
		"emails": []map[string]any{{"value": "ada.l@corp.test", "primary": true}}})
	users := store.NewUserService(e.DB)
	resp, body = e.newSSOBrowser().oidcSignIn(e, op, url.Values{"tenant": {e.A.ID}, "connection": {conn}}, "ada")
	if resp.StatusCode != 403 || !strings.Contains(body, "deactivated") {
		t.Fatalf("deactivated: %d %s", resp.StatusCode, body)
	}
	// Activated, the SCIM user is the one signed in, not a new one.
	active := true
	if _, err := users.UpdateUser(context.Background(), e.A.ID, roster.Actor{Type: "system", ID: "test"}, u.ID, 0,
		func(v *roster.User) error { roster.UserUpdate{Active: &active}.Apply(v); return nil }); err != nil {
		t.Fatal(err)
	}
	_, tokens := e.signInVia(op, conn, "ada")
	if sub := claimsOf(t, tokens.Object(t)["access_token"].(string))["sub"]; sub != u.ID {
		t.Fatalf("signed in as %v, want the SCIM user %s", sub, u.ID)
	}
	if linked, err := users.FindUserByID(context.Background(), e.A.ID, u.ID); err != nil || linked.UserName != "ada.scim" {
		t.Fatalf("the SCIM user changed: %+v %v", linked, err)
	}

	// return_to stays on Roster's origin.
	for _, to := range []string{"https://evil.test/x", "//evil.test/x", "javascript:alert(1)", `/\evil.test`} {
		r := e.do(request{Method: "GET", Path: "/api/v1/auth/sso/start?" + url.Values{"tenant": {e.A.ID}, "connection": {conn}, "return_to": {to}}.Encode()})
		wantProblem(t, r, 400, "return_to")
	}
	// Another tenant's connection is not found from this tenant.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/auth/sso/start?" + url.Values{"tenant": {e.B.ID}, "connection": {conn}}.Encode()}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/auth/sso/start?tenant=" + e.A.ID}), 400, "connection")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/auth/sso/start?connection=" + conn, Invalid: true}), 400, "tenant")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/sso/exchange", Body: map[string]any{}, Invalid: true}), 400, "code")
}

func TestSSOOIDCLinksByVerifiedDomain(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// Verified domains are unique across tenants, and the package's tests
	// share a database.
	domain := uniqueDomain()
	user := ada
	user.Email = "ada@" + domain
	op := startOP(t, user)
	conn := e.createOIDCConnection(e.A, op, map[string]any{"group_roles": map[string]string{}, "domains": []string{domain}})
	ctx := context.Background()
	sys := roster.Actor{Type: "system", ID: "test"}
	existing, err := store.NewUserService(e.DB).CreateUser(ctx, e.A.ID, sys,
		&roster.User{Email: user.Email, Role: roster.RoleDeveloper, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	// The domain is not verified: the address is not enough to link.
	resp, body := e.newSSOBrowser().oidcSignIn(e, op, url.Values{"tenant": {e.A.ID}, "connection": {conn}}, "ada")
	if resp.StatusCode != 403 || !strings.Contains(body, "not verified") {
		t.Fatalf("unverified domain: %d %s", resp.StatusCode, body)
	}
	domains := store.NewDomainService(e.DB)
	d := &roster.Domain{Domain: domain, TXTValue: "v"}
	if err := domains.CreateDomain(ctx, e.A.ID, sys, d); err != nil {
		t.Fatal(err)
	}
	if _, err := domains.MarkDomainVerified(ctx, e.A.ID, sys, d.ID); err != nil {
		t.Fatal(err)
	}
	_, tokens := e.signInVia(op, conn, "ada")
	if sub := claimsOf(t, tokens.Object(t)["access_token"].(string))["sub"]; sub != existing.ID {
		t.Fatalf("signed in as %v, want the existing user %s", sub, existing.ID)
	}
}

func TestSSOOIDCTrustsProviderMFAWhenTold(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	withMFA := ada
	withMFA.MFA = true
	op := startOP(t, withMFA)
	untrusted := e.createOIDCConnection(e.A, op, nil)
	_, tokens := e.signInVia(op, untrusted, "ada")
	if amr := claimsOf(t, tokens.Object(t)["access_token"].(string))["amr"].([]any); len(amr) != 1 {
		t.Fatalf("untrusted provider MFA counted: %v", amr)
	}
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/sso/connections/" + untrusted, Token: e.A.Admin,
		Body: map[string]any{"trust_idp_mfa": true}}); r.Status != 200 {
		t.Fatalf("patch: %s", r.Body)
	}
	_, tokens = e.signInVia(op, untrusted, "ada")
	if amr := claimsOf(t, tokens.Object(t)["access_token"].(string))["amr"].([]any); len(amr) != 2 || amr[0] != "fed" || amr[1] != "mfa" {
		t.Fatalf("amr %v, want [fed mfa]", amr)
	}
	// Each is in the history, with how it signed in; the code's exchange
	// is no sign-in of its own.
	me := e.do(request{Method: "GET", Path: "/api/v1/me", Token: tokens.Object(t)["access_token"].(string)})
	items := signIns(t, e, e.A.Admin, "/api/v1/users/"+me.Object(t)["id"].(string)+"/sign-ins", 50)
	if history(items) != "sso:success sso:success" || strings.Join(items[0].AMR, ",") != "fed,mfa" {
		t.Fatalf("history: %+v", items)
	}
}

func TestSSOOIDCNeverDemotesTheLastAdmin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	users := store.NewUserService(e.DB)
	// The tenant's only admin user is the provider's ada, by externalId;
	// the API tokens act for it.
	ext := "okta-ada"
	if _, err := users.UpdateUser(ctx, e.A.ID, roster.Actor{Type: "system", ID: "test"}, e.A.AdminID, 0,
		func(v *roster.User) error { v.ExternalID = &ext; return nil }); err != nil {
		t.Fatal(err)
	}
	viewer := ada
	viewer.Groups = []string{"Readers"}
	op := startOP(t, viewer)
	conn := e.createOIDCConnection(e.A, op, map[string]any{"group_roles": map[string]string{"Readers": "viewer"}})
	_, tokens := e.signInVia(op, conn, "ada")
	claims := claimsOf(t, tokens.Object(t)["access_token"].(string))
	if claims["sub"] != e.A.AdminID {
		t.Fatalf("signed in as %v", claims["sub"])
	}
	u, err := users.FindUserByID(ctx, e.A.ID, e.A.AdminID)
	if err != nil || u.Role != roster.RoleAdmin {
		t.Fatalf("the last admin was demoted: %+v %v", u, err)
	}
	if u.GivenName != "Ada" || u.FamilyName != "Lovelace" {
		t.Fatalf("the names were not brought up to date: %+v", u)
	}
}

func TestSSODiscoveryByEmail(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	op := startOP(t, ada)
	conn := e.createOIDCConnection(e.A, op, nil)
	resp := e.startSSO(url.Values{"tenant": {e.A.ID}, "email": {"ada@ACME.test"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != 302 || !strings.HasPrefix(loc.String(), op.URL) || q.Get("login_hint") != "ada@ACME.test" ||
		q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || !strings.HasPrefix(q.Get("state"), "rss_") {
		t.Fatalf("start: %d %s", resp.StatusCode, loc)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/auth/sso/start?" + url.Values{"tenant": {e.A.ID}, "email": {"bob@else.test"}}.Encode()}), 404, "")
	buttons := e.do(request{Method: "GET", Path: "/api/v1/auth/sso/connections?tenant=" + e.A.ID})
	if items := buttons.Object(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != conn || items[0].(map[string]any)["name"] != "Acme Okta" {
		t.Fatalf("buttons: %s", buttons.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/auth/sso/connections", Invalid: true}), 400, "tenant")
	if strings.Contains(string(buttons.Body), "client_id") {
		t.Fatalf("the buttons show settings: %s", buttons.Body)
	}
}
