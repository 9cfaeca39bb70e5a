package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestWebhookInputIsRefusedByField(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	hook := e.createWebhook(e.A.Admin, "https://hooks.example.com/roster", "user.created")
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		field  string
	}{
		{"no url", "POST", "/api/v1/webhooks", map[string]any{"events": []string{"user.created"}}, "url"},
		{"no events", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com"}, "events"},
		{"empty events", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com", "events": []string{}}, "events"},
		{"unknown event", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com", "events": []string{"user.exploded"}}, "events"},
		{"events not strings", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com", "events": []int{1}}, "events"},
		{"ftp url", "POST", "/api/v1/webhooks", map[string]any{"url": "ftp://h.example.com/x", "events": []string{"user.created"}}, "url"},
		{"relative url", "POST", "/api/v1/webhooks", map[string]any{"url": "/hooks", "events": []string{"user.created"}}, "url"},
		{"url with a password", "POST", "/api/v1/webhooks", map[string]any{"url": "https://u:p@h.example.com/", "events": []string{"user.created"}}, "url"},
		{"url not a string", "POST", "/api/v1/webhooks", map[string]any{"url": 7, "events": []string{"user.created"}}, "url"},
		{"url too long", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com/" + strings.Repeat("a", 2000), "events": []string{"user.created"}}, "url"},
		{"description too long", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com", "events": []string{"user.created"}, "description": strings.Repeat("d", 501)}, "description"},
		{"NUL in description", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com", "events": []string{"user.created"}, "description": "a\x00b"}, "description"},
		{"a field of the server", "POST", "/api/v1/webhooks", map[string]any{"url": "https://h.example.com", "events": []string{"user.created"}, "secret": "whsec_x"}, "secret"},
		{"patch unknown event", "PATCH", "/api/v1/webhooks/" + hook.ID, map[string]any{"events": []string{"nope"}}, "events"},
		{"patch empty url", "PATCH", "/api/v1/webhooks/" + hook.ID, map[string]any{"url": ""}, "url"},
		{"patch enabled not a boolean", "PATCH", "/api/v1/webhooks/" + hook.ID, map[string]any{"enabled": "yes"}, "enabled"},
		{"patch unknown field", "PATCH", "/api/v1/webhooks/" + hook.ID, map[string]any{"id": fakeID}, "id"},
		{"not an object", "POST", "/api/v1/webhooks", "[]", "body"},
		{"deliveries by an unknown status", "GET", "/api/v1/webhooks/" + hook.ID + "/deliveries?status=lost", nil, "status"},
		{"deliveries from a bad cursor", "GET", "/api/v1/webhooks/" + hook.ID + "/deliveries?cursor=%7B", nil, "cursor"},
		{"deliveries limit out of range", "GET", "/api/v1/webhooks/" + hook.ID + "/deliveries?limit=0", nil, "limit"},
		{"feed after a bad cursor", "GET", "/api/v1/events?after=bm9wZQ", nil, "after"},
		{"feed after another list's cursor", "GET", "/api/v1/events?after=eyJzIjoiYXVkaXQiLCJrIjpbIngiXX0", nil, "after"},
		{"feed of an unknown type", "GET", "/api/v1/events?types=user.created,user.exploded", nil, "types"},
		{"feed limit out of range", "GET", "/api/v1/events?limit=201", nil, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(request{Method: tc.method, Path: tc.path, Token: e.A.Admin, Body: tc.body, Invalid: true})
			wantProblem(t, r, http.StatusBadRequest, tc.field)
		})
	}
	if got := e.getWebhook(e.A.Admin, hook.ID); got.URL != "https://hooks.example.com/roster" || len(got.Events) != 1 {
		t.Fatalf("refused changes changed the webhook: %+v", got)
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/webhooks", Token: e.A.Admin, Invalid: true,
		Body: map[string]any{"url": "https://h.example.com/" + strings.Repeat("a", 1<<20), "events": []string{"user.created"}}})
	wantProblem(t, r, http.StatusRequestEntityTooLarge, "")
}

// TestWebhooksAreTheirTenantsAlone tries tenant A's webhook and delivery
// ids through every endpoint as tenant B: each is 404, as an id that does
// not exist is, and nothing of A's changes.
func TestWebhooksAreTheirTenantsAlone(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	hookA := e.createWebhook(e.A.Admin, "https://hooks.example.com/a", "user.created")
	hookB := e.createWebhook(e.B.Admin, "https://hooks.example.com/b", "user.created")
	r := e.do(request{Method: "POST", Path: "/api/v1/webhooks/" + hookA.ID + "/test", Token: e.A.Admin})
	if r.Status != http.StatusAccepted {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	var d delivery
	r.JSON(t, &d)

	a := "/api/v1/webhooks/" + hookA.ID
	for _, req := range []request{
		{Method: "GET", Path: a},
		{Method: "PATCH", Path: a, Body: map[string]any{"url": "https://evil.example.com/"}},
		{Method: "DELETE", Path: a},
		{Method: "POST", Path: a + "/test"},
		{Method: "GET", Path: a + "/deliveries"},
		{Method: "POST", Path: a + "/deliveries/" + d.ID + "/retry"},
		// A's delivery under B's own webhook.
		{Method: "POST", Path: "/api/v1/webhooks/" + hookB.ID + "/deliveries/" + d.ID + "/retry"},
		{Method: "GET", Path: "/api/v1/webhooks/not-an-id"},
		{Method: "GET", Path: "/api/v1/webhooks/" + fakeID + "/deliveries"},
	} {
		req.Token = e.B.Admin
		wantProblem(t, e.do(req), http.StatusNotFound, "")
	}
	r = e.do(request{Method: "GET", Path: "/api/v1/webhooks", Token: e.B.Admin})
	if r.Status != 200 || strings.Contains(string(r.Body), hookA.ID) || !strings.Contains(string(r.Body), hookB.ID) {
		t.Fatalf("B's list: %d %s", r.Status, r.Body)
	}
	if got := e.getWebhook(e.A.Admin, hookA.ID); got.URL != "https://hooks.example.com/a" {
		t.Fatalf("B changed A's webhook: %+v", got)
	}
	if ds := e.deliveries(e.A.Admin, hookA.ID); len(ds) != 1 || ds[0].ID != d.ID {
		t.Fatalf("A's deliveries: %+v", ds)
	}
	// B's feed has none of A's events, and A's cursor reads B's feed only.
	e.createUsers(e.A.Admin, "only-a", 1, nil)
	aFeed := e.waitFeed(t, e.A.Admin, "", "&types=user.created", 1)
	bFeed, _ := e.feed(e.B.Admin, "", "")
	for id := range aFeed {
		if _, ok := bFeed[id]; ok {
			t.Fatalf("B's feed lists A's event %s", id)
		}
	}
}

func TestWebhooksNeedAnAdmin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, token := range []string{e.A.Viewer, e.A.Developer, e.A.SCIM} {
		for _, op := range webhookOperations() {
			op.Token = token
			wantProblem(t, e.do(op), http.StatusForbidden, "")
		}
	}
}

func TestWebhooksPerTenantAreBounded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for range 20 {
		e.createWebhook(e.B.Admin, "https://hooks.example.com/many", "user.deleted")
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/webhooks", Token: e.B.Admin,
		Body: map[string]any{"url": "https://hooks.example.com/one-more", "events": []string{"user.deleted"}}})
	wantProblem(t, r, http.StatusConflict, "")
	if r := e.do(request{Method: "GET", Path: "/api/v1/webhooks", Token: e.B.Admin}); strings.Count(string(r.Body), `"id"`) != 20 {
		t.Fatalf("B has other than 20 webhooks: %s", r.Body)
	}
}
