package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store"
)

// TestInactivityDeactivation: with deactivate_after_days, the daily job
// warns users by mail 7 days ahead, once, deactivates them on the day
// (audited), spares a user who signed in meanwhile and the last admin, and
// is queued once a day however often it is asked for. The database's
// clock moves; the mail goes through a real SMTP server.
func TestInactivityDeactivation(t *testing.T) {
	t.Parallel()
	// A database of its own: the clock moves days on, and the test's mail
	// worker would deliver every other test's mail due by then.
	e := newTestEnvWithDSN(t, pgtest.NewDatabase(t))
	mb := startInvitationMailbox(t, e)
	start := time.Now()
	clock := start
	e.DB.Now = func() time.Time { return clock }
	runner := store.NewJobRunner(e.DB, testPublicURL)
	day := func(d int, hours time.Duration) {
		t.Helper()
		clock = start.Add(time.Duration(d)*24*time.Hour + hours)
		if _, err := runner.QueueInactivityJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, err := runner.QueueInactivityJobs(context.Background()); err != nil || n != 0 {
			t.Fatalf("queued again the same day: %d %v", n, err)
		}
		for {
			ran, err := mb.w.RunJob(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !ran {
				break
			}
		}
		mb.deliver(t)
	}

	const sleeper, returner = "sleeper@example.com", "returner@example.com"
	sleeperID := newPasswordUser(t, e, sleeper)
	returnerID := newPasswordUser(t, e, returner)
	adminEmail := e.adminEmail(e.A)
	p := defaultPolicy()
	p["deactivate_after_days"] = 30
	if r := e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: p}); r.Status != http.StatusOK {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}

	day(22, 0) // nobody is 23 days quiet yet
	if n := mb.count(); n != 0 {
		t.Fatalf("%d mails on day 22", n)
	}
	day(23, time.Hour) // 7 days to go: everyone is warned
	warned := map[string]bool{}
	for _, m := range mb.Received() {
		if m.Header.Get("Subject") != "Your account will be deactivated for inactivity" {
			t.Fatalf("mail %q", m.Header.Get("Subject"))
		}
		warned[strings.Trim(m.Header.Get("To"), "<>")] = true
	}
	if len(warned) != 3 || !warned[sleeper] || !warned[returner] || !warned[adminEmail] {
		t.Fatalf("warned %v", warned)
	}
	day(24, time.Hour) // once
	if n := mb.count(); n != 3 {
		t.Fatalf("%d mails after the next day's job, want the 3 warnings", n)
	}

	// One comes back; the rest stay away until the day.
	clock = start.Add(25 * 24 * time.Hour)
	wantTokens(t, login(e, e.A.ID, returner, goodPassword), "pwd")
	day(30, 2*time.Hour)
	active := func(id string) bool {
		r := e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: e.A.Admin})
		if r.Status != http.StatusOK {
			t.Fatalf("user %s: %d %s", id, r.Status, r.Body)
		}
		return r.Object(t)["active"] == true
	}
	if active(sleeperID) || !active(returnerID) || !active(e.A.AdminID) {
		t.Fatalf("after day 30: sleeper %v, returner %v, admin %v", active(sleeperID), active(returnerID), active(e.A.AdminID))
	}
	r := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=user.deactivated&target_id=" + sleeperID, Token: e.A.Admin})
	var audit struct {
		Items []struct {
			ActorID string `json:"actor_id"`
		} `json:"items"`
	}
	r.JSON(t, &audit)
	if len(audit.Items) != 1 || audit.Items[0].ActorID != "inactivity" {
		t.Fatalf("audit of the deactivation: %s", r.Body)
	}
	r = e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=user.inactivity_warned", Token: e.A.Admin})
	r.JSON(t, &audit)
	if len(audit.Items) != 3 {
		t.Fatalf("warnings audited: %s", r.Body)
	}
	// The returner is warned again only once quiet for 23 more days.
	if n := mb.count(); n != 3 {
		t.Fatalf("%d mails after day 30", n)
	}
	day(48, 2*time.Hour)
	if m := mb.lastMail(t, returner, 4); !strings.Contains(m.Body, "deactivate yours on") {
		t.Fatalf("second warning: %s", m.Body)
	}
}
