package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestMutationsAreAudited(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	created := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin,
		Header: map[string]string{"X-Request-Id": "req-create-1"}, Body: map[string]any{"email": "audited@example.com"}})
	id := created.Object(t)["id"].(string)
	e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"active": false}})
	e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"active": true}})
	e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"given_name": "Ann"}})
	e.do(request{Method: "DELETE", Path: "/api/v1/users/" + id, Token: e.A.Admin})

	var actions []string
	path := "/api/v1/audit-events?limit=2&target_id=" + id
	var first map[string]any
	for path != "" {
		r := e.do(request{Method: "GET", Path: path, Token: e.A.Admin})
		if r.Status != http.StatusOK {
			t.Fatalf("audit: %d %s", r.Status, r.Body)
		}
		var page struct {
			Items      []map[string]any
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		for _, ev := range page.Items {
			actions = append(actions, ev["action"].(string))
			first = ev
		}
		path = ""
		if page.NextCursor != nil {
			path = "/api/v1/audit-events?limit=2&target_id=" + id + "&cursor=" + *page.NextCursor
		}
	}
	if got := strings.Join(actions, ","); got != "user.deleted,user.updated,user.activated,user.deactivated,user.created" {
		t.Fatalf("actions newest first: %s", got)
	}
	if first["request_id"] != "req-create-1" || first["actor_type"] != "api_token" || first["target_type"] != "user" {
		t.Fatalf("creation event: %v", first)
	}

	byAction := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=user.deleted", Token: e.A.Admin})
	var page struct{ Items []map[string]any }
	byAction.JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0]["target_id"] != id {
		t.Fatalf("filter by action: %s", byAction.Body)
	}
	actor := first["actor_id"].(string)
	byActor := e.do(request{Method: "GET", Path: "/api/v1/audit-events?actor_id=" + actor, Token: e.A.Admin})
	byActor.JSON(t, &page)
	if len(page.Items) != 5 {
		t.Fatalf("filter by actor: %d events", len(page.Items))
	}
}
