package scim_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEmailAsTheProviderSentIt: an identity provider's emails[].value is a
// string (RFC 7643 §4.1.2), and Entra sends values such as "emailName357";
// SCIM stores it as given, where REST keeps judging the addresses it is
// sent. A REST change that leaves such an address alone goes through.
func TestEmailAsTheProviderSentIt(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	body := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "UserName111",
		"emails": []any{
			map[string]any{"Primary": true, "type": "work", "value": "emailName357"},
			map[string]any{"Primary": false, "type": "home", "value": "testinghome@bob.com"},
		},
	}
	created := e.call("POST", "/scim/v2/Users", tok, body).must(t, http.StatusCreated)
	id := str(created.Body, "id")
	if !strings.Contains(string(created.Raw), `"emailName357"`) {
		t.Fatalf("the address was not kept as sent: %s", created.Raw)
	}
	found := e.call("GET", `/scim/v2/Users?filter=emails.value+eq+%22emailName357%22`, tok, nil).must(t, 200)
	if found.Body["totalResults"] != float64(1) {
		t.Fatalf("filter by the address: %s", found.Raw)
	}
	patch := map[string]any{"schemas": []string{patchOp}, "Operations": []any{
		map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "otherName"}}}
	e.call("PATCH", "/scim/v2/Users/"+id, tok, patch).must(t, 200)

	// REST judges an address it is sent, but not one it leaves alone.
	rest := e.call("PATCH", "/api/v1/users/"+id, e.A.Admin, map[string]any{"given_name": "Ryan"})
	if rest.Status != http.StatusOK || rest.Body["email"] != "otherName" {
		t.Fatalf("REST change of another field: %d %s", rest.Status, rest.Raw)
	}
	if r := e.call("PATCH", "/api/v1/users/"+id, e.A.Admin, map[string]any{"email": "stillNotAnAddress"}); r.Status != http.StatusBadRequest {
		t.Fatalf("REST set an address that is not one: %d %s", r.Status, r.Raw)
	}
	if r := e.call("POST", "/api/v1/users", e.A.Admin, map[string]any{"email": "emailName358"}); r.Status != http.StatusBadRequest {
		t.Fatalf("REST created a user with an address that is not one: %d %s", r.Status, r.Raw)
	}
	// Storable text is still the rule: no control characters, not too long.
	body["userName"], body["emails"] = "UserName112", []any{map[string]any{"value": "bad\u0001name", "primary": true}}
	wantSCIMError(t, e.call("POST", "/scim/v2/Users", tok, body), http.StatusBadRequest, "invalidValue")
}
