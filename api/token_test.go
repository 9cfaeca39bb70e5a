package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestSCIMTokenEndpoints(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	created := e.do(request{Method: "POST", Path: "/api/v1/scim-tokens", Token: e.A.Admin, Body: map[string]any{"name": "Entra"}})
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	tok := created.Object(t)
	if !strings.HasPrefix(tok["token"].(string), "rst_") || tok["expires_at"] != nil {
		t.Fatalf("created: %s", created.Body)
	}
	list := e.do(request{Method: "GET", Path: "/api/v1/scim-tokens", Token: e.A.Admin})
	if list.Status != 200 || strings.Contains(string(list.Body), tok["token"].(string)) {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	for _, op := range []request{
		{Method: "GET", Path: "/api/v1/scim-tokens"},
		{Method: "POST", Path: "/api/v1/scim-tokens", Body: map[string]any{"name": "mine"}},
		{Method: "DELETE", Path: "/api/v1/scim-tokens/" + tok["id"].(string)},
	} {
		op.Token = e.A.Developer
		wantProblem(t, e.do(op), 403, "")
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/scim-tokens", Token: e.A.Admin,
		Body: map[string]any{"name": "x", "expires_in_days": 99999}, Invalid: true}), 400, "expires_in_days")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/scim-tokens?all=1", Token: e.A.Admin, Invalid: true}), 400, "all")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/scim-tokens/" + tok["id"].(string), Token: e.B.Admin}), 404, "")
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/scim-tokens/" + tok["id"].(string), Token: e.A.Admin}); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/scim-tokens", Token: e.A.Admin,
		Body: `{"name": "` + strings.Repeat("x", 2<<20) + `"}`, Invalid: true}), 413, "")
}
