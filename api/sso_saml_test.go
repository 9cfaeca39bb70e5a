package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

func TestSSOSAMLSignIn(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	idp := testkit.StartSAMLProvider(t, grace)
	conn := e.samlConnection(idp, nil)

	got := e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + conn, Token: e.A.Admin}).Object(t)
	md := string(e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + conn + "/saml/metadata", Token: e.A.Admin}).Body)
	if !strings.Contains(md, `entityID="`+got["sp_entity_id"].(string)+`"`) || !strings.Contains(md, got["acs_url"].(string)) ||
		!strings.Contains(md, "X509Certificate") || got["acs_url"] != testPublicURL+"/api/v1/auth/sso/saml/acs" {
		t.Fatalf("SP metadata %s does not match %v", md, got)
	}
	if strings.Contains(dumpTables(t, "sso_connections"), "PRIVATE KEY") {
		t.Fatal("the SP key is stored in the clear")
	}

	b := e.newSSOBrowser()
	_, form := b.samlResponse(e, conn, grace)
	if status, body := b.postACS(e, form); status != 200 || b.ssoCode() == "" {
		t.Fatalf("ACS: %d %s", status, body)
	}
	tokens := e.exchange(b.ssoCode())
	access := tokens.Object(t)["access_token"].(string)
	me := e.do(request{Method: "GET", Path: "/api/v1/me", Token: access}).Object(t)
	if me["email"] != "grace@acme.test" || me["role"] != "admin" || me["family_name"] != "Hopper" {
		t.Fatalf("me: %v", me)
	}
	if amr := claimsOf(t, access)["amr"].([]any); len(amr) != 1 || amr[0] != "fed" {
		t.Fatalf("amr %v", amr)
	}

	// The same response again is a replay, even with the RelayState of a
	// sign-in of its own.
	again := e.newSSOBrowser()
	resp, page := again.get(e.URL + "/api/v1/auth/sso/start?" + url.Values{"tenant": {e.A.ID}, "connection": {conn}}.Encode())
	_, login := parseForm(t, page)
	if resp.StatusCode != 200 || login.Get("RelayState") == form.Get("RelayState") {
		t.Fatalf("second start: %d %s", resp.StatusCode, page)
	}
	form.Set("RelayState", login.Get("RelayState"))
	status, body := again.postACS(e, form)
	if status != 401 || !strings.Contains(body, "replay") {
		t.Fatalf("replay: %d %s", status, body)
	}
}

func TestSSOSAMLRefusesForgeries(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	evil := testkit.SAMLUser{Name: "mallory", Password: "mallory-secret", Email: "grace@acme.test.evil.test", GivenName: "M"}
	idp := testkit.StartSAMLProvider(t, grace, evil)
	conn := e.samlConnection(idp, nil)
	other := e.samlConnection(idp, map[string]any{"name": "Other SAML", "domains": []string{}})

	refused := func(name string, form url.Values, want string) {
		t.Helper()
		status, body := e.newSSOBrowser().postACS(e, form)
		if status != 401 || !strings.Contains(body, want) {
			t.Fatalf("%s: %d %s", name, status, body)
		}
	}
	fresh := func(connection string, u testkit.SAMLUser) url.Values {
		_, form := e.newSSOBrowser().samlResponse(e, connection, u)
		return form
	}

	// A signed value changed: the signature no longer holds.
	refused("tampered", editResponse(t, fresh(conn, grace), func(x string) string {
		return strings.Replace(x, "Grace", "Mallory", 1)
	}), "not validly signed")
	// No signature at all.
	refused("unsigned", editResponse(t, fresh(conn, grace), func(x string) string {
		for {
			i := strings.Index(x, "<ds:Signature")
			if i < 0 {
				return x
			}
			j := strings.Index(x[i:], "</ds:Signature>")
			x = x[:i] + x[i+j+len("</ds:Signature>"):]
		}
	}), "not validly signed")
	// Signature wrapping: an unsigned assertion of the attacker's before
	// the signed one (the XSW family of CVE-2016-5697).
	refused("wrapped", editResponse(t, fresh(conn, evil), func(x string) string {
		i := strings.Index(x, "<saml:Assertion")
		j := strings.Index(x, "</saml:Assertion>") + len("</saml:Assertion>")
		signed := x[i:j]
		forged := strings.ReplaceAll(strings.ReplaceAll(signed, evil.Email, grace.Email), `ID="`, `ID="forged-`)
		if k := strings.Index(forged, "<ds:Signature"); k >= 0 {
			forged = forged[:k] + forged[k+strings.Index(forged[k:], "</ds:Signature>")+len("</ds:Signature>"):]
		}
		return x[:i] + forged + signed + x[j:]
	}), "")
	// Wrong audience: a response for another connection with this one's
	// sign-in.
	_, mine := e.newSSOBrowser().samlResponse(e, conn, grace)
	theirs := fresh(other, grace)
	theirs.Set("RelayState", mine.Get("RelayState"))
	refused("wrong audience", theirs, "audience")
	// Unsolicited responses are refused unless the connection allows them.
	unsolicited := fresh(conn, grace)
	unsolicited.Set("RelayState", e.A.ID+":"+conn)
	refused("IdP-initiated", unsolicited, "started at the identity provider")
	// Expired: five minutes later is past NotOnOrAfter and the 2 minutes
	// of skew allowed.
	late := fresh(conn, grace)
	e.app.SSO.Now = func() time.Time { return time.Now().Add(5 * time.Minute) }
	refused("expired", late, "expired")
	e.app.SSO.Now = time.Now

	// Comment injection (CVE-2017-11427 class): a comment splits the
	// signed NameID and email so that a careless reader sees only
	// grace@acme.test. Roster either refuses it or reads the whole text.
	injected := editResponse(t, fresh(conn, evil), func(x string) string {
		return strings.ReplaceAll(x, "grace@acme.test.evil.test", "grace@acme.test<!---->.evil.test")
	})
	b := e.newSSOBrowser()
	if status, _ := b.postACS(e, injected); status == 200 {
		me := e.do(request{Method: "GET", Path: "/api/v1/me", Token: e.exchange(b.ssoCode()).Object(t)["access_token"].(string)}).Object(t)
		if me["email"] != evil.Email {
			t.Fatalf("comment injection signed in as %v", me["email"])
		}
	} else if status != 401 {
		t.Fatalf("comment injection: %d", status)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/sso/saml/acs", Body: "RelayState=x",
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}), 400, "SAMLResponse")
}

func TestSSOSAMLWithoutJIT(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	idp := testkit.StartSAMLProvider(t, grace)
	conn := e.samlConnection(idp, map[string]any{"jit": false})
	b := e.newSSOBrowser()
	_, form := b.samlResponse(e, conn, grace)
	status, body := b.postACS(e, form)
	if status != 403 || !strings.Contains(body, "no account") || b.ssoCode() != "" {
		t.Fatalf("JIT off: %d %s", status, body)
	}
}

func TestSSOSAMLIdPInitiated(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	idp := testkit.StartSAMLProvider(t, grace)
	closed := e.samlConnection(idp, nil)
	// This one reads the IdP's metadata from its URL.
	open := e.samlConnection(idp, map[string]any{"name": "Open SAML", "domains": []string{}, "allow_idp_initiated": true,
		"idp_metadata_xml": nil, "idp_metadata_url": idp.URL + "/metadata"})
	entity := func(id string) string {
		return e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + id, Token: e.A.Admin}).Object(t)["sp_entity_id"].(string)
	}
	unsolicited := func(shortcut, connection string) (*ssoBrowser, int, string) {
		idp.AddShortcut(shortcut, entity(connection), e.A.ID+":"+connection)
		b := e.newSSOBrowser()
		_, page := b.get(idp.URL + "/login/" + shortcut)
		action, form := parseForm(t, page)
		form.Set("user", grace.Name)
		form.Set("password", grace.Password)
		_, page = b.postForm(strings.Replace(action, "http://roster.test", e.URL, 1), form)
		if !strings.Contains(page, "SAMLResponse") {
			_, page = b.get(idp.URL + "/login/" + shortcut) // signed in at the IdP now
		}
		_, response := parseForm(t, page)
		status, body := b.postACS(e, response)
		return b, status, body
	}
	if _, status, body := unsolicited("closed", closed); status != 401 || !strings.Contains(body, "started at the identity provider") {
		t.Fatalf("IdP-initiated to a connection that does not allow it: %d %s", status, body)
	}
	b, status, body := unsolicited("open", open)
	if status != 200 || b.ssoCode() == "" {
		t.Fatalf("IdP-initiated: %d %s", status, body)
	}
	if tokens := e.exchange(b.ssoCode()); tokens.Status != 200 {
		t.Fatalf("exchange: %d %s", tokens.Status, tokens.Body)
	}
	// Bad metadata names its field.
	for field, body := range map[string]map[string]any{
		"idp_metadata_url": {"idp_metadata_url": idp.URL + "/nothing-here"},
		"idp_metadata_xml": {"idp_metadata_xml": "<EntityDescriptor/>"},
	} {
		body["type"], body["name"] = "saml", "Broken"
		wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Admin, Body: body}), 400, field)
	}
	// Garbage is refused, never a 500.
	for _, garbage := range []string{"not base64!", "PHhtbD48L3htbD4=", strings.Repeat("A", 4000)} {
		status, _ := e.newSSOBrowser().postACS(e, url.Values{"SAMLResponse": {garbage}, "RelayState": {e.A.ID + ":" + open}})
		if status != 401 {
			t.Fatalf("garbage %.20q: %d", garbage, status)
		}
	}
}
