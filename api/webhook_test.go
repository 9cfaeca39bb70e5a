package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/worker"
)

// TestWebhooks follows events from changes made over the API to a real
// receiver that checks signatures with the Standard Webhooks verifier: a
// receiver that is down for a while gets every event once it is back, and
// one that stays down is disabled and the admins mailed. Its steps run one
// after another: each worker claims every tenant's deliveries.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	rc := newReceiver(t)
	subscribed := []string{"user.created", "user.role_changed", "user.deactivated"}
	hook := e.createWebhook(e.A.Admin, rc.URL(), subscribed...)
	if !strings.HasPrefix(hook.Secret, "whsec_") || !hook.Enabled {
		t.Fatalf("created webhook %+v", hook)
	}
	rc.trust(hook.Secret)
	if got := e.getWebhook(e.A.Admin, hook.ID); got.Secret != "" {
		t.Fatal("the secret is shown again after creation")
	}
	w := e.newHookWorker(true, worker.Config{WebhookRetryFor: time.Hour, WebhookDisableAfter: time.Hour})

	t.Run("a receiver down for a while gets every event once it is back", func(t *testing.T) {
		// Start after the admin's user.created: once listed, it is final.
		e.waitFeed(t, e.A.Admin, "", "&types=user.created", 1)
		_, cursor := e.feed(e.A.Admin, "", "&types=user.created")
		rc.setDown(true)
		defer rc.setDown(false)
		ids := e.createUsers(e.A.Admin, "hooked", 2, nil)
		for _, change := range []struct {
			id   string
			body map[string]any
		}{
			{ids[0], map[string]any{"role": "developer"}},
			{ids[1], map[string]any{"active": false}},
			{ids[0], map[string]any{"given_name": "Renamed"}}, // user.updated: not subscribed
		} {
			if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + change.id, Token: e.A.Admin, Body: change.body}); r.Status != 200 {
				t.Fatalf("PATCH: %d %s", r.Status, r.Body)
			}
		}
		// The feed has all five changes; the webhook wants four of them.
		all := e.waitFeed(t, e.A.Admin, cursor, "", 5)
		want := e.waitFeed(t, e.A.Admin, cursor, "&types="+strings.Join(subscribed, ","), 4)
		if len(all) != 5 || len(want) != 4 {
			t.Fatalf("feed after the changes: %v, of the subscribed types %v", all, want)
		}
		// Down: every delivery fails at least twice.
		runHooks(t, w, "failed attempts", func() bool {
			ds := e.deliveries(e.A.Admin, hook.ID)
			failing := 0
			for _, d := range ds {
				if want[d.EventID] != "" && d.Attempts >= 2 && d.Status == "pending" {
					failing++
				}
			}
			return failing == len(want)
		})
		rc.setDown(false)
		runHooks(t, w, "every event once the receiver is back", func() bool {
			got := rc.received()
			for id := range want {
				if got[id] == 0 {
					return false
				}
			}
			return true
		})
		got := rc.received()
		for id, typ := range want {
			if got[id] != 1 || rc.typeOf(id) != typ {
				t.Errorf("event %s (%s): received %d times as %q", id, typ, got[id], rc.typeOf(id))
			}
		}
		for id := range got {
			if typ, ok := all[id]; ok && want[id] == "" {
				t.Errorf("event %s of type %s was delivered, which the webhook did not ask for", id, typ)
			}
		}
		if bad := rc.badDeliveries(); len(bad) > 0 {
			t.Fatalf("deliveries that failed verification: %v", bad)
		}
		for _, d := range e.deliveries(e.A.Admin, hook.ID) {
			if want[d.EventID] == "" {
				continue
			}
			if d.Status != "succeeded" || d.Attempts < 3 || d.ResponseCode == nil || *d.ResponseCode != 204 || d.LatencyMS == nil {
				t.Errorf("delivery %+v: want succeeded after failures, with the 204 and a latency", d)
			}
		}
		if h := e.getWebhook(e.A.Admin, hook.ID); !h.Enabled {
			t.Fatal("the webhook was disabled within its hour")
		}
	})

	t.Run("test events and retries are delivered, signed", func(t *testing.T) {
		r := e.do(request{Method: "POST", Path: "/api/v1/webhooks/" + hook.ID + "/test", Token: e.A.Admin})
		if r.Status != http.StatusAccepted {
			t.Fatalf("test: %d %s", r.Status, r.Body)
		}
		var d delivery
		r.JSON(t, &d)
		if d.EventType != "webhook.test" || d.Status != "pending" {
			t.Fatalf("test delivery %+v", d)
		}
		runHooks(t, w, "the test event", func() bool { return rc.received()[d.EventID] == 1 })
		r = e.do(request{Method: "POST", Path: "/api/v1/webhooks/" + hook.ID + "/deliveries/" + d.ID + "/retry", Token: e.A.Admin})
		if r.Status != http.StatusAccepted {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		runHooks(t, w, "the retried event", func() bool { return rc.received()[d.EventID] == 2 })
	})

	t.Run("internal addresses are refused", func(t *testing.T) {
		closed := e.newHookWorker(false, worker.Config{WebhookRetryFor: time.Hour, WebhookDisableAfter: time.Hour})
		for _, target := range []struct {
			url    string
			worker *worker.Worker
		}{
			{rc.URL(), closed}, // 127.0.0.1 without the override
			{"http://metadata.test/latest/meta-data/", w},
			{"http://169.254.169.254/latest/meta-data/", w},
			{"http://internal.test:8080/hook", w}, // a name resolving to 10.0.0.1
		} {
			h := e.createWebhook(e.A.Admin, target.url, "user.created")
			before := len(rc.received())
			r := e.do(request{Method: "POST", Path: "/api/v1/webhooks/" + h.ID + "/test", Token: e.A.Admin})
			var d delivery
			r.JSON(t, &d)
			runHooks(t, target.worker, "a refused attempt", func() bool {
				for _, got := range e.deliveries(e.A.Admin, h.ID) {
					if got.ID == d.ID && got.Attempts > 0 && got.LastError != nil {
						d = got
						return true
					}
				}
				return false
			})
			if !strings.Contains(*d.LastError, "refused") || d.ResponseCode != nil || len(rc.received()) != before {
				t.Errorf("%s: delivery %+v, error %q: want refused before connecting", target.url, d, *d.LastError)
			}
			if r := e.do(request{Method: "DELETE", Path: "/api/v1/webhooks/" + h.ID, Token: e.A.Admin}); r.Status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
		}
	})

	t.Run("an endpoint failing for too long is disabled and the admins mailed", func(t *testing.T) {
		rc.setDown(true)
		quick := e.newHookWorker(true, worker.Config{WebhookRetryFor: time.Hour, WebhookDisableAfter: 300 * time.Millisecond})
		e.createUsers(e.A.Admin, "unheard", 1, nil)
		runHooks(t, quick, "the webhook disabled", func() bool { return !e.getWebhook(e.A.Admin, hook.ID).Enabled })
		h := e.getWebhook(e.A.Admin, hook.ID)
		if h.DisabledReason == nil || !strings.Contains(*h.DisabledReason, "failed since") {
			t.Fatalf("disabled webhook %+v: want the reason", h)
		}
		for _, d := range e.deliveries(e.A.Admin, hook.ID) {
			if d.Status == "pending" {
				t.Errorf("delivery %+v is still pending on a disabled webhook", d)
			}
		}
		var mails int
		if err := openTestDB(t).QueryRow(`
			SELECT count(*) FROM email_outbox o JOIN users u ON u.tenant_id = o.tenant_id AND u.email = o.recipient
			WHERE o.tenant_id = $1 AND u.id = $2 AND o.subject LIKE 'A webhook was disabled%' AND o.body LIKE '%' || $3 || '%'`,
			e.A.ID, e.A.AdminID, hook.ID).Scan(&mails); err != nil || mails != 1 {
			t.Fatalf("%d mails to the admin about the disabled webhook (%v), want 1", mails, err)
		}
		for _, path := range []string{"/test", "/deliveries/" + e.deliveries(e.A.Admin, hook.ID)[0].ID + "/retry"} {
			wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/webhooks/" + hook.ID + path, Token: e.A.Admin}), http.StatusConflict, "")
		}
		r := e.do(request{Method: "PATCH", Path: "/api/v1/webhooks/" + hook.ID, Token: e.A.Admin, Body: map[string]any{"enabled": true}})
		var again webhook
		r.JSON(t, &again)
		if r.Status != 200 || !again.Enabled || again.DisabledReason != nil {
			t.Fatalf("enable again: %d %s", r.Status, r.Body)
		}
	})

	if strings.Contains(e.logs.String(), strings.TrimPrefix(hook.Secret, "whsec_")) {
		t.Fatal("the signing secret is in the logs")
	}
}
