package scim_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEndpointNamesIgnoreCaseAndTrailingSlash: clients (Microsoft's own
// reference test collection among them) write /users, /Users/ or
// /serviceproviderconfig; each is its canonical endpoint.
func TestEndpointNamesIgnoreCaseAndTrailingSlash(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	created := e.call("POST", "/scim/v2/users", tok, oktaUser("path@example.com")).must(t, 201)
	id := str(created.Body, "id")
	if loc := created.Header.Get("Location"); !strings.HasSuffix(loc, "/scim/v2/Users/"+id) {
		t.Fatalf("Location %q is not the canonical one", loc)
	}
	for _, path := range []string{
		"/scim/v2/users", "/scim/v2/Users/", "/scim/v2/USERS/", "/scim/v2/groups", "/scim/v2/Groups/",
		"/scim/v2/serviceproviderconfig", "/scim/v2/ServiceProviderConfig/", "/scim/v2/resourcetypes",
		"/scim/v2/resourceTypes/User", "/scim/v2/schemas", "/scim/v2/Schemas/",
		"/scim/v2/schemas/urn:ietf:params:scim:schemas:core:2.0:User",
		"/scim/v2/users/" + id, "/scim/v2/Users/" + id + "/",
	} {
		e.call("GET", path, tok, nil).must(t, http.StatusOK)
	}
	patch := map[string]any{"schemas": []string{patchOp},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Slashed"}}}
	if r := e.call("PATCH", "/scim/v2/users/"+id+"/", tok, patch).must(t, 200); r.Body["displayName"] != "Slashed" {
		t.Fatalf("PATCH /users/{id}/: %s", r.Raw)
	}
	bulk := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{map[string]any{"method": "DELETE", "path": "/users/" + id}}}
	if r := e.call("POST", "/scim/v2/bulk/", tok, bulk).must(t, 200); !strings.Contains(string(r.Raw), `"204"`) {
		t.Fatalf("bulk at /bulk/ deleting /users/{id}: %s", r.Raw)
	}
	e.call("DELETE", "/scim/v2/users/"+id, tok, nil).must(t, http.StatusNotFound)
	// The names are endpoints, not a way around the tenant or the credential.
	e.call("GET", "/scim/v2/users", "", nil).must(t, http.StatusUnauthorized)
	e.call("GET", "/scim/v2/nosuch/", tok, nil).must(t, http.StatusNotFound)
}
