package scim_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSharedEmails: under the tenant policy unique_email false, an
// identity provider may push users who share an address (SCIM's unique
// key is userName), and emails.value eq finds all of them.
func TestSharedEmails(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	const shared = "shared.mailbox@example.com"
	user := func(userName string) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": userName,
			"emails": []any{map[string]any{"value": shared, "type": "work", "primary": true}}}
	}
	e.call("POST", "/scim/v2/Users", e.A.SCIM, user("admin.account")).must(t, http.StatusCreated)
	wantSCIMError(t, e.call("POST", "/scim/v2/Users", e.A.SCIM, user("regular.account")), http.StatusConflict, "uniqueness")

	policy := e.call("GET", "/api/v1/tenant/security-policy", e.A.Admin, nil).must(t, 200).Body
	policy["unique_email"] = false
	e.call("PUT", "/api/v1/tenant/security-policy", e.A.Admin, policy).must(t, 200)
	e.call("POST", "/scim/v2/Users", e.A.SCIM, user("regular.account")).must(t, http.StatusCreated)
	e.call("POST", "/scim/v2/Users", e.B.SCIM, user("admin.account")).must(t, http.StatusCreated)

	found := e.call("GET", "/scim/v2/Users?filter="+url.QueryEscape(`emails.value eq "`+shared+`"`), e.A.SCIM, nil).must(t, 200)
	if found.Body["totalResults"] != float64(2) {
		t.Fatalf("emails.value eq the shared address: %s", found.Raw)
	}
	found = e.call("GET", "/scim/v2/Users?filter="+url.QueryEscape(`emails[type eq "work"].value eq "`+shared+`"`), e.A.SCIM, nil).must(t, 200)
	if found.Body["totalResults"] != float64(2) {
		t.Fatalf("emails[type eq work].value eq the shared address: %s", found.Raw)
	}
}
