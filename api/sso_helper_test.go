package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/store"
)

const (
	testOIDCClientID = "roster-sso"
	testOIDCSecret   = "op-client-secret-never-shown"
	testCallbackURL  = testPublicURL + "/api/v1/auth/sso/oidc/callback"
)

// ssoBrowser follows redirects as a browser does, between Roster (its
// public URL stands for the test server) and providers, keeping cookies.
// Requests to Roster go through the contract transport.
type ssoBrowser struct {
	t      *testing.T
	client *http.Client
	// fragments holds the fragment of each redirect's target, which a
	// browser keeps and never sends.
	fragments []string
}

func (e *testEnv) newSSOBrowser() *ssoBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	roster, _ := url.Parse(e.URL)
	contract := newContractTransport(e.t, http.DefaultTransport)
	b := &ssoBrowser{t: e.t}
	b.client = &http.Client{Jar: jar,
		Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.URL.Fragment = ""
			if r.URL.Host == "roster.test" {
				r.URL.Host, r.Host = roster.Host, roster.Host
			}
			if r.URL.Host == roster.Host {
				// Cookies ignore ports: the providers' would reach Roster,
				// which sets none and reads none.
				r.Header.Del("Cookie")
				return contract.RoundTrip(r)
			}
			return http.DefaultTransport.RoundTrip(r)
		}),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.fragments = append(b.fragments, req.URL.Fragment)
			return nil
		},
	}
	return b
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// get fetches u, following redirects, and returns the last response.
func (b *ssoBrowser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, readBody(b.t, resp)
}

// postForm posts a form, following redirects.
func (b *ssoBrowser) postForm(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, readBody(b.t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// ssoCode is the one-time code of the last redirect, "" for none.
func (b *ssoBrowser) ssoCode() string {
	for i := len(b.fragments) - 1; i >= 0; i-- {
		if v, err := url.ParseQuery(b.fragments[i]); err == nil && v.Get("sso_code") != "" {
			return v.Get("sso_code")
		}
	}
	return ""
}

var opAuthRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// oidcSignIn starts a sign-in at Roster with query, signs in at the
// provider's login form as username, and returns Roster's last answer.
func (b *ssoBrowser) oidcSignIn(e *testEnv, op *testkit.OIDCProvider, query url.Values, username string) (*http.Response, string) {
	b.t.Helper()
	resp, page := b.get(e.URL + "/api/v1/auth/sso/start?" + query.Encode())
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), op.URL+"/login/username") {
		b.t.Fatalf("start ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, page)
	}
	m := opAuthRequestID.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no auth request id in the login form: %s", page)
	}
	return b.postForm(op.URL+"/login/username", url.Values{"username": {username}, "password": {"verysecure"}, "id": {m[1]}})
}

// createOIDCConnection makes a connection of tenant c to op, with fields
// over the defaults, and returns its id.
func (e *testEnv) createOIDCConnection(c tenantCreds, op *testkit.OIDCProvider, fields map[string]any) string {
	e.t.Helper()
	body := map[string]any{"type": "oidc", "name": "Acme Okta", "issuer": op.URL, "client_id": testOIDCClientID,
		"client_secret": testOIDCSecret, "scopes": []string{"openid", "email", "profile"}, "domains": []string{"acme.test"},
		"group_roles": map[string]string{"Okta Admins": "admin", "Engineers": "developer"}}
	for k, v := range fields {
		body[k] = v
	}
	resp := e.do(request{Method: "POST", Path: "/api/v1/sso/connections", Token: c.Admin, Body: body})
	if resp.Status != 201 {
		e.t.Fatalf("create connection: %d %s", resp.Status, resp.Body)
	}
	return resp.Object(e.t)["id"].(string)
}

// exchange spends a one-time code and returns the token answer.
func (e *testEnv) exchange(code string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/auth/sso/exchange", Body: map[string]string{"code": code}})
}

// startSSO starts a sign-in and returns Roster's answer, not following
// its redirect.
func (e *testEnv) startSSO(query url.Values) *http.Response {
	e.t.Helper()
	client := &http.Client{Transport: newContractTransport(e.t, http.DefaultTransport),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.URL + "/api/v1/auth/sso/start?" + query.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// uniqueDomain is a domain no other test uses.
func uniqueDomain() string {
	return "d" + strings.ToLower(rand.Text()[:12]) + ".test"
}

// scimUser creates a user over SCIM as tenant A's identity provider does,
// and returns it as the store reads it.
func (e *testEnv) scimUser(body map[string]any) *roster.User {
	e.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", e.URL+"/scim/v2/Users", bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+e.A.SCIM)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	created := readBody(e.t, resp)
	var u struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(created), &u) != nil {
		e.t.Fatalf("SCIM create: %d %s", resp.StatusCode, created)
	}
	found, err := store.NewUserService(e.DB).FindUserByID(context.Background(), e.A.ID, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return found
}
