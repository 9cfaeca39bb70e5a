package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.A.Admin

	created := e.do(request{Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{
		"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace", "role": "developer",
		"external_id": "okta-123",
	}})
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	u := created.Object(t)
	id := u["id"].(string)
	if loc := created.Header.Get("Location"); loc != "/api/v1/users/"+id {
		t.Errorf("Location %q", loc)
	}
	if u["user_name"] != "ada@example.com" || u["role"] != "developer" || u["active"] != true || u["last_login_at"] != nil {
		t.Errorf("created user %v", u)
	}
	for _, secret := range []string{"password", "password_hash", "tenant_id", "version"} {
		if _, ok := u[secret]; ok {
			t.Errorf("response exposes %q", secret)
		}
	}

	got := e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: e.A.Viewer})
	if got.Status != http.StatusOK || got.Object(t)["email"] != "ada@example.com" {
		t.Fatalf("get: %d %s", got.Status, got.Body)
	}
	etag := got.Header.Get("ETag")

	// PATCH changes only what it names; active:false deactivates, not deletes.
	patched := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: admin,
		Header: map[string]string{"If-Match": etag},
		Body:   map[string]any{"active": false, "display_name": "Countess", "external_id": nil}})
	if patched.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", patched.Status, patched.Body)
	}
	p := patched.Object(t)
	if p["active"] != false || p["display_name"] != "Countess" || p["external_id"] != nil || p["given_name"] != "Ada" {
		t.Errorf("patched user %v", p)
	}
	stale := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: admin,
		Header: map[string]string{"If-Match": etag}, Body: map[string]any{"given_name": "Late"}})
	wantProblem(t, stale, http.StatusPreconditionFailed, "")
	// Any well-formed entity tag that is not the current one is stale too
	// (RFC 9110 §13.1.1); only a header that is no entity tag is 400.
	for _, tag := range []string{`W/"stale"`, `"abc"`, `"0"`, `"stale", "999"`} {
		r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: admin,
			Header: map[string]string{"If-Match": tag}, Body: map[string]any{"given_name": "Late"}})
		wantProblem(t, r, http.StatusPreconditionFailed, "")
	}
	// A DELETE based on a stale version is refused as well.
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/users/" + id, Token: admin,
		Header: map[string]string{"If-Match": etag}}), http.StatusPreconditionFailed, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/users/" + id, Token: admin,
		Header: map[string]string{"If-Match": "abc"}, Invalid: true}), http.StatusBadRequest, "If-Match")

	inactive := e.do(request{Method: "GET", Path: "/api/v1/users?active=false", Token: admin})
	var list struct {
		Items []map[string]any
	}
	inactive.JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0]["id"] != id {
		t.Fatalf("inactive list: %s", inactive.Body)
	}

	if del := e.do(request{Method: "DELETE", Path: "/api/v1/users/" + id, Token: admin}); del.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.Status, del.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/users/" + id, Token: admin}), http.StatusNotFound, "")
}

func TestUserConflicts(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	body := map[string]any{"email": "dup@example.com"}
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: body}); r.Status != http.StatusCreated {
		t.Fatalf("first create: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin,
		Body: map[string]any{"email": "DUP@example.com"}}), http.StatusConflict, "email")
	// Another tenant may hold the same address.
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.B.Admin, Body: body}); r.Status != http.StatusCreated {
		t.Fatalf("create in tenant B: %d %s", r.Status, r.Body)
	}
	// Internationalised addresses are addresses (RFC 6531).
	if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{"email": "josé@exämple.com"}}); r.Status != http.StatusCreated {
		t.Fatalf("create with an internationalised email: %d %s", r.Status, r.Body)
	}
	// The last active admin stays.
	wantProblem(t, e.do(request{Method: "PATCH", Path: "/api/v1/users/" + e.A.AdminID, Token: e.A.Admin,
		Body: map[string]any{"role": "viewer"}}), http.StatusConflict, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/users/" + e.A.AdminID, Token: e.A.Admin}), http.StatusConflict, "")
}

func TestUserListPagesAndFilters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for i := range 7 {
		role := "viewer"
		if i%2 == 0 {
			role = "developer"
		}
		r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin, Body: map[string]any{
			"email": fmt.Sprintf("page%d@example.com", i), "family_name": fmt.Sprintf("Family%d", 6-i), "role": role,
		}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	var seen []string
	q := url.Values{"sort": {"-name"}, "limit": {"3"}, "q": {"PAGE"}}
	for {
		r := e.do(request{Method: "GET", Path: "/api/v1/users?" + q.Encode(), Token: e.A.Viewer})
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var page struct {
			Items      []map[string]any
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		for _, u := range page.Items {
			seen = append(seen, u["family_name"].(string))
		}
		if page.NextCursor == nil {
			break
		}
		q.Set("cursor", *page.NextCursor)
	}
	if got := strings.Join(seen, ","); got != "Family6,Family5,Family4,Family3,Family2,Family1,Family0" {
		t.Fatalf("walked %s", got)
	}

	r := e.do(request{Method: "GET", Path: "/api/v1/users?role=developer&active=true&sort=email", Token: e.A.Admin})
	var page struct{ Items []map[string]any }
	r.JSON(t, &page)
	if len(page.Items) != 4 {
		t.Fatalf("role filter: %d users: %s", len(page.Items), r.Body)
	}
}

func TestBadInputIsAClear4xx(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.A.Admin
	users := "/api/v1/users"
	user := "/api/v1/users/" + e.A.AdminID
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		body        any
		contentType string
		status      int
		field       string
	}{
		{"malformed JSON", "POST", users, `{"email": "a@example.com",`, "", 400, "body"},
		{"not JSON at all", "POST", users, `email=a@example.com`, "", 400, "body"},
		{"empty body", "POST", users, ``, "", 400, "body"},
		{"array body", "POST", users, `[{"email": "a@example.com"}]`, "", 400, "body"},
		{"trailing data", "POST", users, `{"email": "a@example.com"} {}`, "", 400, "body"},
		{"wrong type", "POST", users, `{"email": 42}`, "", 400, "email"},
		{"boolean as string", "POST", users, `{"email": "a@example.com", "active": "yes"}`, "", 400, "active"},
		{"null email", "POST", users, `{"email": null}`, "", 400, "email"},
		{"unknown role", "POST", users, `{"email": "a@example.com", "role": "superuser"}`, "", 400, "role"},
		{"invalid email", "POST", users, `{"email": "a@@example.com"}`, "", 400, "email"},
		{"NUL byte", "POST", users, `{"email": "a@example.com", "given_name": "A\u0000"}`, "", 400, "given_name"},
		{"unknown field", "POST", users, `{"email": "a@example.com", "id": "x"}`, "", 400, "id"},
		{"client sets tenant", "POST", users, `{"email": "a@example.com", "tenant_id": "x"}`, "", 400, "tenant_id"},
		{"form content type", "POST", users, `{"email": "a@example.com"}`, "application/x-www-form-urlencoded", 400, "Content-Type"},
		{"body over the limit", "POST", users, `{"email": "a@example.com", "given_name": "` + strings.Repeat("x", 2<<20) + `"}`, "", 413, ""},
		{"patch wrong type", "PATCH", user, `{"active": 1}`, "", 400, "active"},
		{"patch over the limit", "PATCH", user, `{"given_name": "` + strings.Repeat("x", 2<<20) + `"}`, "", 413, ""},
		{"patch bad If-Match", "PATCH", user, `{}`, "", 400, "If-Match"},
		{"limit not a number", "GET", users + "?limit=ten", nil, "", 400, "limit"},
		{"limit zero", "GET", users + "?limit=0", nil, "", 400, "limit"},
		{"limit too big", "GET", users + "?limit=201", nil, "", 400, "limit"},
		{"unknown sort", "GET", users + "?sort=password_hash", nil, "", 400, "sort"},
		{"garbage cursor", "GET", users + "?cursor=%00%01", nil, "", 400, "cursor"},
		{"active maybe", "GET", users + "?active=maybe", nil, "", 400, "active"},
		{"active one", "GET", users + "?active=1", nil, "", 400, "active"},
		{"role unknown", "GET", users + "?role=root", nil, "", 400, "role"},
		{"mfa maybe", "GET", users + "?mfa=maybe", nil, "", 400, "mfa"},
		{"mfa method unknown", "GET", users + "?mfa_method=pigeon", nil, "", 400, "mfa_method"},
		{"unknown filter", "GET", users + "?password_hash=x", nil, "", 400, "password_hash"},
		{"unknown audit filter", "GET", "/api/v1/audit-events?user=x", nil, "", 400, "user"},
		{"audit limit", "GET", "/api/v1/audit-events?limit=-5", nil, "", 400, "limit"},
		{"audit cursor", "GET", "/api/v1/audit-events?cursor=abc", nil, "", 400, "cursor"},
		{"user id not a uuid", "GET", users + "/not-a-uuid", nil, "", 404, ""},
		{"no such endpoint", "GET", "/api/v1/nothing", nil, "", 404, ""},
		{"method not allowed", "PUT", users, `{}`, "", 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request{Method: tc.method, Path: tc.path, Token: admin, Body: tc.body, Invalid: true}
			if tc.contentType != "" {
				req.Header = map[string]string{"Content-Type": tc.contentType}
			}
			if tc.name == "patch bad If-Match" {
				req.Header = map[string]string{"If-Match": `abc`}
			}
			wantProblem(t, e.do(req), tc.status, tc.field)
		})
	}
}
