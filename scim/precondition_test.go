package scim_test

import (
	"net/http"
	"testing"
)

// TestIfMatch: RFC 7644 §3.14 and RFC 9110 §13.1.1. A well-formed entity
// tag that is not the resource's current one, whatever it looks like, is
// 412 Precondition Failed; only a header that is not a list of entity tags
// is 400. The current one, "*", or a list holding it, lets the change
// through.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	user := e.call("POST", "/scim/v2/Users", tok, oktaUser("etag@example.com")).must(t, 201)
	group := e.call("POST", "/scim/v2/Groups", tok, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "ETags"}).must(t, 201)
	patchOp := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Changed"}}}
	userPath, groupPath := "/scim/v2/Users/"+str(user.Body, "id"), "/scim/v2/Groups/"+str(group.Body, "id")

	for _, path := range []string{userPath, groupPath} {
		current := e.call("GET", path, tok, nil).must(t, 200).Header.Get("Etag")
		for _, stale := range []string{`W/"stale"`, `"abc"`, `W/"999"`, `"0"`, `W/"01"`, `W/""`, `"stale", W/"other"`} {
			wantSCIMError(t, e.call("PATCH", path, tok, patchOp, "If-Match", stale), http.StatusPreconditionFailed, "")
		}
		for _, broken := range []string{`abc`, `W/abc`, `"a"b"`, `W/ "1"`, `"1`, `"1" "2"`} {
			wantSCIMError(t, e.call("PATCH", path, tok, patchOp, "If-Match", broken), http.StatusBadRequest, "")
		}
		if got := e.call("GET", path, tok, nil).must(t, 200).Header.Get("Etag"); got != current {
			t.Fatalf("%s changed under refused preconditions: %s, was %s", path, got, current)
		}
		// DELETE too (RFC 7644 §3.14).
		wantSCIMError(t, e.call("DELETE", path, tok, nil, "If-Match", `W/"stale"`), http.StatusPreconditionFailed, "")
		wantSCIMError(t, e.call("DELETE", path, tok, nil, "If-Match", `stale`), http.StatusBadRequest, "")
		for _, tag := range []string{`"stale", ` + current, "*"} {
			if r := e.call("PATCH", path, tok, patchOp, "If-Match", tag); r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Fatalf("PATCH %s If-Match %s: %d %s", path, tag, r.Status, r.Raw)
			}
		}
		current = e.call("GET", path, tok, nil).must(t, 200).Header.Get("Etag")
		e.call("DELETE", path, tok, nil, "If-Match", current).must(t, http.StatusNoContent)
	}
}

// TestIfNoneMatch: a GET of a resource whose current ETag the client
// holds is 304 Not Modified with no body (RFC 7644 §3.14, RFC 9110
// §13.1.2, weak comparison); anything else is the resource.
func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	e := newSCIMEnv(t)
	tok := e.A.SCIM
	user := e.call("POST", "/scim/v2/Users", tok, oktaUser("cache@example.com")).must(t, 201)
	path := "/scim/v2/Users/" + str(user.Body, "id")
	current := user.Header.Get("Etag")
	for _, tag := range []string{current, "*", `"other", ` + current, current[2:]} {
		r := e.call("GET", path, tok, nil, "If-None-Match", tag)
		if r.Status != http.StatusNotModified || len(r.Raw) != 0 || r.Header.Get("Etag") != current {
			t.Fatalf("If-None-Match %s: %d %q, ETag %q; want 304, no body, ETag %s", tag, r.Status, r.Raw, r.Header.Get("Etag"), current)
		}
	}
	for _, tag := range []string{`W/"999"`, `"abc"`} {
		if r := e.call("GET", path, tok, nil, "If-None-Match", tag).must(t, 200); str(r.Body, "id") == "" {
			t.Fatalf("If-None-Match %s: %s", tag, r.Raw)
		}
	}
	// Another tenant's resource is still not found.
	wantSCIMError(t, e.call("GET", path, e.B.SCIM, nil, "If-None-Match", "*"), http.StatusNotFound, "")
}
