package api_test

import "testing"

// The passkey and security reads take no query parameters: an unknown one
// is a 400 naming it, as on every other endpoint.
func TestPasskeyReadsRefuseUnknownQueryParameters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, token := signIn(t, e, "query@example.com")
	registerPasskey(t, e, token, newSoftKey(id), nil)
	for _, req := range []request{
		{Method: "GET", Path: "/api/v1/me/passkeys?limit=10", Token: token},
		{Method: "GET", Path: "/api/v1/users/" + id + "/passkeys?limit=10", Token: e.A.Admin},
		{Method: "GET", Path: "/api/v1/users/" + id + "/security?limit=10", Token: e.A.Admin},
	} {
		req.Invalid = true
		wantProblem(t, e.do(req), 400, "limit")
	}
	// Another tenant's admin still learns nothing about the user.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/security", Token: e.B.Admin}), 404, "")
}
