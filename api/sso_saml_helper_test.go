package api_test

import (
	"encoding/base64"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testkit"
)

// grace is the SAML provider's user most tests sign in as.
var grace = testkit.SAMLUser{Name: "grace", Password: "hopper-secret", Email: "grace@acme.test",
	GivenName: "Grace", FamilyName: "Hopper", Groups: []string{"admins", "staff"}}

// samlConnection makes a SAML connection of tenant A to idp, registers its
// SP metadata there, and returns its id.
func (e *testEnv) samlConnection(idp *testkit.SAMLProvider, fields map[string]any) string {
	e.t.Helper()
	body := map[string]any{"type": "saml", "name": "Acme SAML", "idp_metadata_xml": string(idp.Metadata),
		"domains":     []string{"acme.test"},
		"attributes":  map[string]string{"email": "mail", "given_name": "givenName", "family_name": "sn", "groups": "eduPersonAffiliation"},
		"group_roles": map[string]string{"admins": "admin"}}
	for k, v := range fields {
		body[k] = v
		if v == nil {
			delete(body, k)
		}
	}
	resp := e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: e.A.Admin, Body: body})
	if resp.Status != 201 {
		e.t.Fatalf("create SAML connection: %d %s", resp.Status, resp.Body)
	}
	id := resp.Object(e.t)["id"].(string)
	md := e.do(request{Method: "GET", Path: "/api/v1/sso/connections/" + id + "/saml/metadata", Token: e.A.Admin})
	if md.Status != 200 {
		e.t.Fatalf("SP metadata: %d %s", md.Status, md.Body)
	}
	idp.AddServiceProvider(id, md.Body)
	return id
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// parseForm reads an HTML form's action and hidden values.
func parseForm(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in %s", page)
	}
	v := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), v
}

// samlResponse starts a sign-in at connection, signs in at the IdP as u
// and returns the form the IdP has the browser post to Roster's ACS,
// without posting it.
func (b *ssoBrowser) samlResponse(e *testEnv, connection string, u testkit.SAMLUser) (string, url.Values) {
	b.t.Helper()
	resp, page := b.get(e.URL + "/api/v1/auth/sso/start?" + url.Values{"tenant": {e.A.ID}, "connection": {connection}}.Encode())
	if resp.StatusCode != 200 {
		b.t.Fatalf("start: %d %s", resp.StatusCode, page)
	}
	action, form := parseForm(b.t, page)
	form.Set("user", u.Name)
	form.Set("password", u.Password)
	resp, page = b.postForm(action, form)
	if resp.StatusCode != 200 || !strings.Contains(page, "SAMLResponse") {
		b.t.Fatalf("IdP login: %d %s", resp.StatusCode, page)
	}
	return parseForm(b.t, page)
}

// postACS posts a SAML response form to Roster, following redirects.
func (b *ssoBrowser) postACS(e *testEnv, form url.Values) (int, string) {
	b.t.Helper()
	resp, body := b.postForm(e.URL+"/api/v1/auth/sso/saml/acs", form)
	return resp.StatusCode, body
}

// editResponse decodes a SAMLResponse, applies edit to its XML and
// encodes it again.
func editResponse(t *testing.T, form url.Values, edit func(string) string) url.Values {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(raw))
	if edited == string(raw) {
		t.Fatal("the edit changed nothing")
	}
	out := url.Values{"RelayState": {form.Get("RelayState")}, "SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(edited))}}
	return out
}
