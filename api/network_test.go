package api_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// wantNetworkRefused fails unless r is the 403 of allowed_networks.
func wantNetworkRefused(t *testing.T, r response) {
	t.Helper()
	wantProblem(t, r, http.StatusForbidden, "")
	if code := r.Object(t)["code"]; code != "network_not_allowed" {
		t.Fatalf("code %v, want network_not_allowed: %s", code, r.Body)
	}
}

// TestAllowedNetworks: a tenant's allowed_networks hold its sign-ins and
// every kind of credential to its networks; X-Forwarded-For is believed
// only from a trusted proxy, and only its rightmost untrusted address;
// an admin cannot shut themselves out. All traffic is on loopback: the
// addresses differ only in the header.
func TestAllowedNetworks(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const email = "roamer@example.com"
	newPasswordUser(t, e, email)
	from := func(forwarded string) map[string]string { return map[string]string{"X-Forwarded-For": forwarded} }
	put := func(networks []any, header map[string]string) response {
		p := defaultPolicy()
		p["allowed_networks"] = networks
		return e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: p, Header: header})
	}
	office := []any{"203.0.113.0/24", "2001:db8:1::/48"}

	// No proxy is trusted: the header is the client's own word, and the
	// admin, at 127.0.0.1, would lock themselves out.
	wantProblem(t, put(office, from("203.0.113.7")), http.StatusConflict, "allowed_networks")
	e.app.API.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	wantProblem(t, put(office, from("198.51.100.7")), http.StatusConflict, "allowed_networks")
	if r := put(office, from("203.0.113.7")); r.Status != http.StatusOK {
		t.Fatalf("policy from the office: %d %s", r.Status, r.Body)
	}

	list := func(token string, header map[string]string) response {
		return e.do(request{Method: "GET", Path: "/api/v1/users?limit=1", Token: token, Header: header})
	}
	for _, ok := range []string{"203.0.113.9", "2001:db8:1::5", "198.51.100.9, 203.0.113.9, 127.0.0.2", "::ffff:203.0.113.9"} {
		if r := list(e.A.Admin, from(ok)); r.Status != http.StatusOK {
			t.Fatalf("from %s: %d %s", ok, r.Status, r.Body)
		}
	}
	// What a client writes left of what the proxy appends counts for
	// nothing; nor does anything that is not an address.
	for _, refused := range []string{"198.51.100.9", "203.0.113.9, 198.51.100.9", "2001:db8:2::5", "203.0.113.9, office"} {
		wantNetworkRefused(t, list(e.A.Admin, from(refused)))
	}
	wantNetworkRefused(t, list(e.jwt(e.A.ID, []string{"admin"}, nil), from("198.51.100.9")))

	// Sign-in from elsewhere is refused and recorded; from the office it
	// works, and its token too, but not from elsewhere.
	wantNetworkRefused(t, e.do(request{Method: "POST", Path: "/api/v1/auth/login", Header: from("198.51.100.9"),
		Body: map[string]any{"tenant": e.A.ID, "username": email, "password": goodPassword}}))
	r := e.do(request{Method: "POST", Path: "/api/v1/auth/login", Header: from("203.0.113.9"),
		Body: map[string]any{"tenant": e.A.ID, "username": email, "password": goodPassword}})
	access := wantTokens(t, r, "pwd")
	wantNetworkRefused(t, e.do(request{Method: "GET", Path: "/api/v1/me/sign-ins", Token: access, Header: from("198.51.100.9")}))
	r = e.do(request{Method: "GET", Path: "/api/v1/me/sign-ins", Token: access, Header: from("203.0.113.9")})
	var page signInPage
	r.JSON(t, &page)
	if r.Status != http.StatusOK || history(page.Items) != "password:failure/network_not_allowed password:success" ||
		page.Items[0].Address != "203.0.113.9" || page.Items[1].Address != "198.51.100.9" {
		t.Fatalf("history: %d %s", r.Status, r.Body)
	}

	// A SCIM token is held to it too, with a SCIM error.
	req, err := http.NewRequest("GET", e.URL+"/scim/v2/Users", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.A.SCIM)
	req.Header.Set("X-Forwarded-For", "198.51.100.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/scim+json") {
		t.Fatalf("SCIM from elsewhere: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Behind a proxy that is not trusted, the same header is a spoof: the
	// client is 127.0.0.1, outside the office. Another tenant has no
	// such policy.
	e.app.API.TrustedProxies = nil
	wantNetworkRefused(t, list(e.A.Admin, from("203.0.113.9")))
	if r := list(e.B.Admin, from("198.51.100.9")); r.Status != http.StatusOK {
		t.Fatalf("tenant B: %d %s", r.Status, r.Body)
	}
}
