package api_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

// TestSSOOIDCForcedReauthentication: force_authn asks the provider for a
// new authentication and refuses an ID token whose auth_time predates the
// start, from a provider that reused an old session regardless; without
// it, that session is good enough. A connection can force every sign-in.
func TestSSOOIDCForcedReauthentication(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	stale := testkit.OIDCUser{ID: "okta-stale", Username: "stale", Password: "verysecure", Email: "stale@acme.test",
		EmailVerified: true, SessionAge: time.Hour}
	op := startOP(t, ada, stale)
	conn := e.createOIDCConnection(e.A, op, map[string]any{"jit": true})
	forced := url.Values{"tenant": {e.A.ID}, "connection": {conn}, "force_authn": {"true"}}

	b := e.newSSOBrowser()
	resp, body := b.oidcSignIn(e, op, forced, "ada")
	if code := b.ssoCode(); resp.StatusCode != 200 || code == "" {
		t.Fatalf("a forced sign-in the provider honoured: %d %s", resp.StatusCode, body)
	}
	tokens := e.exchange(b.ssoCode())
	if tokens.Status != 200 {
		t.Fatalf("exchange: %d %s", tokens.Status, tokens.Body)
	}
	asked := op.LastAuthRequest()
	if len(asked.Prompt) != 1 || asked.Prompt[0] != "login" || asked.MaxAge == nil || *asked.MaxAge != 0 {
		t.Fatalf("the provider was asked prompt %v, max_age %v; want login and 0", asked.Prompt, asked.MaxAge)
	}

	b = e.newSSOBrowser()
	resp, body = b.oidcSignIn(e, op, forced, "stale")
	if resp.StatusCode != 401 || !strings.Contains(body, "did not ask you to sign in again") || b.ssoCode() != "" {
		t.Fatalf("a forced sign-in answered from an hour-old session: %d %s", resp.StatusCode, body)
	}

	unforced := url.Values{"tenant": {e.A.ID}, "connection": {conn}}
	b = e.newSSOBrowser()
	if resp, body = b.oidcSignIn(e, op, unforced, "stale"); resp.StatusCode != 200 || b.ssoCode() == "" {
		t.Fatalf("an ordinary sign-in on the provider's session: %d %s", resp.StatusCode, body)
	}
	if asked := op.LastAuthRequest(); len(asked.Prompt) != 0 || asked.MaxAge != nil {
		t.Fatalf("an ordinary sign-in asked prompt %v, max_age %v", asked.Prompt, asked.MaxAge)
	}

	patched := e.do(request{Method: "PATCH", Path: "/api/v1/sso/connections/" + conn, Token: e.A.Admin,
		Body: map[string]any{"force_authn": true}})
	if patched.Status != 200 || patched.Object(t)["force_authn"] != true {
		t.Fatalf("force_authn on the connection: %d %s", patched.Status, patched.Body)
	}
	b = e.newSSOBrowser()
	if resp, body = b.oidcSignIn(e, op, unforced, "stale"); resp.StatusCode != 401 || !strings.Contains(body, "did not ask you to sign in again") {
		t.Fatalf("the connection forces every sign-in: %d %s", resp.StatusCode, body)
	}

	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/auth/sso/start?" + url.Values{"tenant": {e.A.ID},
		"connection": {conn}, "force_authn": {"yes"}}.Encode(), Invalid: true}), 400, "force_authn")

	// A federated user whose sign-in is too old for a step-up is told how
	// to sign in again.
	ageSignIns(e)
	wantStepUpRequired(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/totp", Token: tokens.Object(t)["access_token"].(string)}),
		"force_authn=true")
}

// TestSSOSAMLForcedReauthentication: force_authn sets the AuthnRequest's
// ForceAuthn, which the identity provider honours by asking again where it
// would have answered from its session. An unsolicited response to a
// connection that forces authentication is refused when its AuthnInstant
// is older than a sign-in may take.
func TestSSOSAMLForcedReauthentication(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	idp := testkit.StartSAMLProvider(t, grace)
	conn := e.samlConnection(idp, nil)
	start := func(force bool) string {
		q := url.Values{"tenant": {e.A.ID}, "connection": {conn}}
		if force {
			q.Set("force_authn", "true")
		}
		return e.URL + "/api/v1/auth/sso/start?" + q.Encode()
	}
	if request := authnRequest(t, e.startSSO(url.Values{"tenant": {e.A.ID}, "connection": {conn}, "force_authn": {"true"}}).Header.Get("Location")); !strings.Contains(request, `ForceAuthn="true"`) {
		t.Fatalf("the AuthnRequest does not force authentication: %s", request)
	}

	// Signed in at the IdP an hour ago: an ordinary sign-in is answered
	// from that session, a forced one asks again.
	b := e.newSSOBrowser()
	_, form := b.samlResponse(e, conn, grace)
	if status, body := b.postACS(e, form); status != 200 || b.ssoCode() == "" {
		t.Fatalf("first sign-in: %d %s", status, body)
	}
	idp.AgeSessions(time.Hour)
	b.fragments = nil
	resp, page := b.get(start(false))
	if resp.StatusCode != 200 || !strings.Contains(page, "SAMLResponse") || strings.Contains(page, `name="password"`) {
		t.Fatalf("an ordinary sign-in was not answered from the IdP's session: %d %s", resp.StatusCode, page)
	}
	_, response := parseForm(t, page)
	if status, body := b.postACS(e, response); status != 200 || b.ssoCode() == "" {
		t.Fatalf("an ordinary sign-in on the IdP's session: %d %s", status, body)
	}
	b.fragments = nil
	resp, page = b.get(start(true))
	if resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
		t.Fatalf("a forced sign-in was answered without asking: %d %s", resp.StatusCode, page)
	}
	action, login := parseForm(t, page)
	login.Set("user", grace.Name)
	login.Set("password", grace.Password)
	_, page = b.postForm(action, login)
	_, response = parseForm(t, page)
	if status, body := b.postACS(e, response); status != 200 || b.ssoCode() == "" {
		t.Fatalf("a forced sign-in after a new authentication: %d %s", status, body)
	}

	// Unsolicited, nobody asked the IdP to authenticate anew: a response
	// on a session of the last minutes is good, an hour-old one is not.
	hedy := testkit.SAMLUser{Name: "hedy", Password: "lamarr-secret", Email: "hedy@acme.test", GivenName: "Hedy", FamilyName: "Lamarr"}
	idp.AddUser(hedy)
	forced := e.samlConnection(idp, map[string]any{"name": "Forced SAML", "domains": []string{}, "allow_idp_initiated": true,
		"force_authn": true, "jit": true})
	entity := e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + forced, Token: e.A.Admin}).Object(t)["sp_entity_id"].(string)
	idp.AddShortcut("forced", entity, e.A.ID+":"+forced)
	b = e.newSSOBrowser()
	_, page = b.get(idp.URL + "/login/forced")
	action, login = parseForm(t, page)
	login.Set("user", hedy.Name)
	login.Set("password", hedy.Password)
	_, page = b.postForm(strings.Replace(action, "http://roster.test", e.URL, 1), login)
	if !strings.Contains(page, "SAMLResponse") {
		_, page = b.get(idp.URL + "/login/forced")
	}
	_, response = parseForm(t, page)
	if status, body := b.postACS(e, response); status != 200 || b.ssoCode() == "" {
		t.Fatalf("an unsolicited response on a new session: %d %s", status, body)
	}
	idp.AgeSessions(time.Hour)
	b.fragments = nil
	_, page = b.get(idp.URL + "/login/forced")
	_, response = parseForm(t, page)
	if status, body := b.postACS(e, response); status != 401 || !strings.Contains(body, "did not ask you to sign in again") || b.ssoCode() != "" {
		t.Fatalf("an unsolicited response from an hour-old session: %d %s", status, body)
	}
}

// authnRequest is the XML of the AuthnRequest an HTTP-Redirect binding
// URL carries (deflated, base64).
func authnRequest(t *testing.T, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatalf("SAMLRequest of %s: %v", location, err)
	}
	xml, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return string(xml)
}
