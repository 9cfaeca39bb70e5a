package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// bulkResult is the answer of a bulk action.
type bulkResult struct {
	Matched     int64 `json:"matched"`
	Succeeded   int64 `json:"succeeded"`
	Skipped     int64 `json:"skipped"`
	FailedCount int64 `json:"failed_count"`
	Failed      []struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	} `json:"failed"`
}

// bulk posts a bulk action that must be applied within the request.
func (e *testEnv) bulk(token string, body map[string]any) bulkResult {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: token, Body: body})
	if r.Status != http.StatusOK {
		e.t.Fatalf("bulk %v: %d %s", body, r.Status, r.Body)
	}
	var res bulkResult
	r.JSON(e.t, &res)
	if res.Matched != res.Succeeded+res.Skipped+res.FailedCount || int64(len(res.Failed)) != res.FailedCount {
		e.t.Fatalf("bulk %v: counts do not add up: %s", body, r.Body)
	}
	return res
}

// createUsers creates users in a tenant and returns their ids.
func (e *testEnv) createUsers(token, prefix string, n int, extra map[string]any) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range n {
		body := map[string]any{"email": fmt.Sprintf("%s%d@example.com", prefix, i), "given_name": prefix}
		for k, v := range extra {
			body[k] = v
		}
		r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: token, Body: body})
		if r.Status != http.StatusCreated {
			e.t.Fatalf("create user: %d %s", r.Status, r.Body)
		}
		ids[i] = r.Object(e.t)["id"].(string)
	}
	return ids
}

// user fetches one user, failing unless it exists.
func (e *testEnv) user(token, id string) map[string]any {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("get user %s: %d %s", id, r.Status, r.Body)
	}
	return r.Object(e.t)
}

// auditActions lists the actions of the tenant's events about target, or
// of every event when target is "".
func (e *testEnv) auditActions(token, query string) []string {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/audit-events?limit=200&" + query, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []struct {
			Action  string         `json:"action"`
			Details map[string]any `json:"details"`
		} `json:"items"`
	}
	r.JSON(e.t, &page)
	var actions []string
	for _, ev := range page.Items {
		actions = append(actions, ev.Action)
	}
	return actions
}

func TestBulkActionsApplyEachUserWithItsGuards(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.A.Admin
	ids := e.createUsers(admin, "bulkdev", 3, map[string]any{"role": "developer"})
	other := e.createUsers(e.B.Admin, "bulkother", 1, nil)[0]

	// Deactivate: duplicates collapse, another tenant's user and a missing
	// one are "not found" alike, and oneself is refused.
	missing := uuid.NewString()
	res := e.bulk(admin, map[string]any{"action": "deactivate",
		"ids": []string{ids[0], ids[1], strings.ToUpper(ids[0]), other, missing, e.A.AdminID}})
	if res.Matched != 5 || res.Succeeded != 2 || res.FailedCount != 3 {
		t.Fatalf("deactivate: %+v", res)
	}
	failures := map[string]string{}
	for _, f := range res.Failed {
		failures[f.ID] = f.Error
	}
	if failures[other] != "not found" || failures[missing] != "not found" || !strings.Contains(failures[e.A.AdminID], "yourself") {
		t.Fatalf("failures: %v", failures)
	}
	if e.user(admin, ids[0])["active"] != false || e.user(admin, ids[2])["active"] != true {
		t.Fatal("deactivate changed the wrong users")
	}
	if e.user(e.B.Admin, other)["active"] != true {
		t.Fatal("tenant B's user was deactivated by tenant A")
	}
	if got := e.auditActions(admin, "target_id="+ids[0]); !slices.Contains(got, "user.deactivated") {
		t.Fatalf("audit of a deactivated user: %v", got)
	}
	if got := e.auditActions(admin, "action=users.bulk_action"); len(got) != 1 {
		t.Fatalf("bulk audit events: %v", got)
	}
	if got := e.auditActions(e.B.Admin, "target_id="+other); slices.Contains(got, "user.deactivated") {
		t.Fatalf("tenant B's audit shows a change: %v", got)
	}

	// Activate, then set_role to admin, and back.
	if res := e.bulk(admin, map[string]any{"action": "activate", "ids": ids[:2]}); res.Succeeded != 2 {
		t.Fatalf("activate: %+v", res)
	}
	if res := e.bulk(admin, map[string]any{"action": "set_role", "role": "admin", "ids": ids}); res.Succeeded != 3 {
		t.Fatalf("set_role: %+v", res)
	}
	if e.user(admin, ids[1])["role"] != "admin" {
		t.Fatal("set_role did not change the role")
	}
	res = e.bulk(admin, map[string]any{"action": "set_role", "role": "viewer", "ids": append([]string{e.A.AdminID}, ids...)})
	if res.Succeeded != 3 || res.FailedCount != 1 || res.Failed[0].ID != e.A.AdminID {
		t.Fatalf("demoting everyone but oneself: %+v", res)
	}

	// The last active admin stays, whoever asks: here an IdP admin who is
	// no user of the tenant.
	idpAdmin := e.jwt(e.A.ID, []string{"admin"}, nil)
	res = e.bulk(idpAdmin, map[string]any{"action": "delete", "ids": []string{e.A.AdminID, ids[2]}})
	if res.Succeeded != 1 || res.FailedCount != 1 || !strings.Contains(res.Failed[0].Error, "last active admin") {
		t.Fatalf("deleting the last admin: %+v", res)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + ids[2], Token: admin}), http.StatusNotFound, "")
	if got := e.auditActions(admin, "target_id="+ids[2]); !slices.Contains(got, "user.deleted") {
		t.Fatalf("audit of a deleted user: %v", got)
	}

	// reset_mfa clears the factors, as DELETE /users/{id}/mfa does.
	db := openTestDB(t)
	if _, err := db.Exec(`UPDATE users SET mfa_methods = '{totp}' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if res := e.bulk(admin, map[string]any{"action": "reset_mfa", "ids": []string{ids[0], other}}); res.Succeeded != 1 || res.FailedCount != 1 {
		t.Fatalf("reset_mfa: %+v", res)
	}
	var methods string
	if err := db.QueryRow(`SELECT mfa_methods::text FROM users WHERE id = $1`, ids[0]).Scan(&methods); err != nil || methods != "{}" {
		t.Fatalf("methods after reset: %q %v", methods, err)
	}
	if got := e.auditActions(admin, "target_id="+ids[0]); !slices.Contains(got, "mfa.reset") {
		t.Fatalf("audit of a reset: %v", got)
	}

	// Only admins.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: e.A.Developer,
		Body: map[string]any{"action": "deactivate", "ids": ids}}), http.StatusForbidden, "")
}

func TestBulkRequestsAreValidated(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id := e.A.AdminID
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = uuid.NewString()
	}
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"action": "explode", "ids": []string{id}}, "action"},
		{map[string]any{"ids": []string{id}}, "action"},
		{map[string]any{"action": "deactivate"}, "ids"},
		{map[string]any{"action": "deactivate", "ids": []string{}}, "ids"},
		{map[string]any{"action": "deactivate", "ids": []string{id}, "filter": map[string]any{}}, "filter"},
		{map[string]any{"action": "deactivate", "ids": []string{"not-a-uuid"}}, "ids[0]"},
		{map[string]any{"action": "deactivate", "ids": tooMany}, "ids"},
		{map[string]any{"action": "deactivate", "ids": "all"}, "ids"},
		{map[string]any{"action": "set_role", "ids": []string{id}}, "role"},
		{map[string]any{"action": "set_role", "role": "overlord", "ids": []string{id}}, "role"},
		{map[string]any{"action": "deactivate", "role": "viewer", "ids": []string{id}}, "role"},
		{map[string]any{"action": "deactivate", "ids": []string{id}, "force": true}, "force"},
		{map[string]any{"action": "deactivate", "filter": map[string]any{"sort": "email"}}, "filter.sort"},
		{map[string]any{"action": "deactivate", "filter": map[string]any{"mfa": "maybe"}}, "filter.mfa"},
		{map[string]any{"action": "deactivate", "filter": map[string]any{"role": "overlord"}}, "filter.role"},
		{map[string]any{"action": "deactivate", "filter": map[string]any{"active": "yes"}}, "filter.active"},
		{map[string]any{"action": "deactivate", "filter": "everyone"}, "filter"},
	} {
		r := e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: e.A.Admin, Body: tc.body, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	if e.user(e.A.Admin, id)["active"] != true {
		t.Fatal("a refused request changed a user")
	}
}

func TestBulkFilterSelectsWhatTheListShows(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.A.Admin
	e.createUsers(admin, "filt", 7, nil)
	inactive := e.createUsers(admin, "filtoff", 2, map[string]any{"active": false})
	e.createUsers(e.B.Admin, "filt", 3, nil)

	// The list, walked page by page.
	var listed []string
	path := "/api/v1/users?q=filt&active=true&limit=2"
	for path != "" {
		r := e.do(request{Method: "GET", Path: path, Token: admin})
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		for _, u := range page.Items {
			listed = append(listed, u.ID)
		}
		path = ""
		if page.NextCursor != nil {
			path = "/api/v1/users?q=filt&active=true&limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
		}
	}
	if len(listed) != 7 {
		t.Fatalf("listed %d users, want 7", len(listed))
	}
	res := e.bulk(admin, map[string]any{"action": "set_role", "role": "developer",
		"filter": map[string]any{"q": "filt", "active": true}})
	if res.Matched != 7 || res.Succeeded != 7 {
		t.Fatalf("filter bulk: %+v", res)
	}
	var changed []string
	r := e.do(request{Method: "GET", Path: "/api/v1/users?role=developer&limit=200", Token: admin})
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	r.JSON(t, &page)
	for _, u := range page.Items {
		changed = append(changed, u.ID)
	}
	sort.Strings(listed)
	sort.Strings(changed)
	if !slices.Equal(listed, changed) {
		t.Fatalf("bulk changed %v, the list showed %v", changed, listed)
	}
	for _, id := range inactive {
		if e.user(admin, id)["role"] != "viewer" {
			t.Fatal("the filter reached an inactive user")
		}
	}
	// Tenant B's users of the same name are untouched.
	rb := e.do(request{Method: "GET", Path: "/api/v1/users?role=developer", Token: e.B.Admin})
	if strings.Contains(string(rb.Body), "filt") {
		t.Fatalf("tenant B's users changed: %s", rb.Body)
	}
}
