package scim_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNULIsRefused: a NUL in any string of a SCIM body (an attribute, a
// sub-attribute, a bulk operation's data) or of a query parameter is 400
// naming it, never a 500 from the database; an email's type answered 500.
func TestNULIsRefused(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	const user = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"nul@example.com",`
	for _, tc := range []struct {
		method, path, body, field string
	}{
		{"POST", "/scim/v2/Users", user + `"emails":[{"value":"nul@example.com","type":"w\u0000rk"}]}`, "emails[0].type"},
		{"POST", "/scim/v2/Users", user + `"title":"\u0000"}`, "title"},
		{"POST", "/scim/v2/Users", user + `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"a\u0000"}}`, "department"},
		{"POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","externalId":"\u0000"}`, "externalId"},
		{"PATCH", "/scim/v2/Users/00000000-0000-0000-0000-000000000000", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"nickName","value":"\u0000"}]}`, "Operations[0].value"},
		{"POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"1","data":` + user + `"title":"\u0000"}}]}`, "Operations[0].data.title"},
		{"GET", "/scim/v2/Users?filter=title%20eq%20%22%00%22", "", "filter"},
		{"GET", "/scim/v2/Users?attributes=%00", "", "attributes"},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := e.call(tc.method, tc.path, e.A.SCIM, body)
		wantSCIMError(t, r, http.StatusBadRequest, "")
		if detail, _ := r.Body["detail"].(string); !strings.Contains(detail, tc.field) {
			t.Fatalf("%s %s: detail %q does not name %s", tc.method, tc.path, detail, tc.field)
		}
	}
}

// TestUndecodableQueryIsRefused: a query Go cannot decode lost the
// parameter silently (?startIndex=%zz read from the first); now it is 400
// naming it.
func TestUndecodableQueryIsRefused(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	for _, tc := range []struct{ path, field, scimType string }{
		{"/scim/v2/Users?startIndex=%zz", "startIndex", "invalidValue"},
		{"/scim/v2/Groups?count=%%%", "count", "invalidValue"},
		{"/scim/v2/Users?filter=userName%20eq%20%22a%", "filter", "invalidFilter"},
		{"/scim/v2/Users?filter=userName%20eq%20%22%ff%22", "filter", "invalidFilter"},
		{"/scim/v2/ServiceProviderConfig?%zz", "%zz", "invalidValue"},
	} {
		r := e.call("GET", tc.path, e.A.SCIM, nil)
		wantSCIMError(t, r, http.StatusBadRequest, tc.scimType)
		if detail, _ := r.Body["detail"].(string); !strings.Contains(detail, tc.field) {
			t.Fatalf("GET %s: detail %q does not name %s", tc.path, detail, tc.field)
		}
	}
}
