package api_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testkit"
)

func TestDomainsVerifiedInDNS(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	dns := testkit.StartDNSServer(t)
	e.app.Domains.Resolver = dns.Resolver

	// Verified domains are unique across tenants, and the package's tests
	// share a database: each test claims a domain of its own.
	domain := uniqueDomain()
	claim := e.do(request{Method: "POST", Path: "/api/v1/domains", Token: e.A.Admin, Body: map[string]string{"domain": strings.ToUpper(domain) + "."}})
	d := claim.Object(t)
	if claim.Status != 201 || d["domain"] != domain || d["txt_name"] != "_roster-challenge."+domain ||
		!strings.HasPrefix(d["txt_value"].(string), "roster-domain-verification=") || d["verified_at"] != nil {
		t.Fatalf("claim: %d %s", claim.Status, claim.Body)
	}
	id := d["id"].(string)
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/domains", Token: e.A.Admin, Body: map[string]string{"domain": domain}}), 409, "domain")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/domains", Token: e.A.Admin, Body: map[string]string{"domain": "not a domain"}}), 400, "domain")

	// Not published yet, then published with another value: not verified.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/domains/" + id + "/verify", Token: e.A.Admin}), 409, "")
	dns.SetTXT("_roster-challenge."+domain, "roster-domain-verification=someone-else")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/domains/" + id + "/verify", Token: e.A.Admin}), 409, "")
	// Another tenant cannot verify, see or drop it.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/domains/" + id + "/verify", Token: e.B.Admin}), 404, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/domains/" + id, Token: e.B.Admin}), 404, "")

	dns.SetTXT("_roster-challenge."+domain, "v=spf1 -all", d["txt_value"].(string))
	ok := e.do(request{Method: "POST", Path: "/api/v1/domains/" + id + "/verify", Token: e.A.Admin})
	if ok.Status != 200 || ok.Object(t)["verified_at"] == nil {
		t.Fatalf("verify: %d %s", ok.Status, ok.Body)
	}
	// Tenant B may claim the domain, but not verify it once A has.
	bClaim := e.do(request{Method: "POST", Path: "/api/v1/domains", Token: e.B.Admin, Body: map[string]string{"domain": domain}}).Object(t)
	dns.SetTXT("_roster-challenge."+domain, bClaim["txt_value"].(string))
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/domains/" + bClaim["id"].(string) + "/verify", Token: e.B.Admin}), 409, "")

	list := e.do(request{Method: "GET", Path: "/api/v1/domains", Token: e.A.Admin})
	if items := list.Object(t)["items"].([]any); list.Status != 200 || len(items) != 1 {
		t.Fatalf("list: %s", list.Body)
	}
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/domains/" + id, Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/domains/" + id, Token: e.A.Admin}), 404, "")
}
