package main_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// TestConsole runs the console's browser tests side by side, each in a
// tenant and `roster serve` of its own, all mailing one SMTP server.
func TestConsole(t *testing.T) {
	inbox := testkit.StartSMTP(t, testkit.SMTPOptions{})
	for name, run := range map[string]func(*testing.T, *testkit.SMTPServer){
		"Story":       consoleStory,
		"Viewer":      consoleViewer,
		"Settings":    consoleSettings,
		"Invitations": consoleInvitations,
		"Screenshots": consoleScreenshots,
		"Job":         consoleJob,
		"Required":    consoleRequired,
		"Passkey":     consolePasskey,
		"CustomRole":  consoleCustomRole,
		"RoleHolder":  consoleCustomRoleHolder,
	} {
		t.Run(name, func(t *testing.T) { t.Parallel(); run(t, inbox) })
	}
}

const consolePassword = "a-long-passphrase-for-the-console-42"

// consoleStory is the seed's story through the console: the first admin
// opens the setup link, sets a password and an authenticator app, signs
// in, sees 47 of 51 users without a second factor, follows the figure to
// the directory, reminds all 47 matching in one bulk action (exactly 47
// mails arrive), finds it in the audit log, and after 44 more officers
// enrol sees 3 in the same view.
func consoleStory(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Console Police")
	const officers, early, later = 50, 3, 44
	domain := "@officers." + site.slug + ".example"
	emails := make([]string, officers)
	for i := range officers {
		emails[i] = fmt.Sprintf("officer%02d%s", i, domain)
		if status := site.call("POST", "/users", site.tenant.AdminToken, map[string]any{
			"email": emails[i], "given_name": "Officer", "family_name": fmt.Sprintf("No. %02d", i), "role": "viewer", "password": storyPassword,
		}, nil); status != http.StatusCreated {
			t.Fatalf("create officer %d: %d", i, status)
		}
	}
	for i := range early {
		enrolOfficer(t, site.api, site.slug, emails[i], 100+i)
	}

	b := newBrowser(t)
	app := site.setupAdmin(b, consolePassword)
	b.click("#signout")
	b.waitFor("the sign-in form", `!!document.getElementById('signin-form')`)
	b.axe("sign-in")
	if b.consoleSession() != "" {
		t.Fatal("sign-out left the tokens in sessionStorage")
	}
	site.signInConsole(b, site.adminEmail, consolePassword, app)
	b.axe("dashboard")
	b.waitText("#dash-mfa-disabled", "47 of 51")

	// The figure opens the directory filtered to exactly those users.
	b.click("#dash-mfa-disabled")
	b.waitReady("/console/users")
	if got := eval[string](b, `location.search`); got != "?mfa=disabled" {
		t.Fatalf("the figure opened %q", got)
	}
	b.waitText("#count", "47 matching users")
	b.waitFor("the list", `document.body.dataset.listReady === 'true'`)
	b.axe("directory")
	b.bulkAllMatching("remind_mfa", "47 users", "All 47 matching users are selected")
	b.waitText("#bulk-result", "47 matched, 47 succeeded, 0 skipped, 0 failed")

	// Exactly 47 reminders arrive, none to the enrolled or the admin.
	eventually(t, "47 reminders", func() bool { return len(inbox.To(domain)) >= 47 })
	time.Sleep(1500 * time.Millisecond) // longer than the worker's poll interval
	if got := len(inbox.To(domain)); got != 47 {
		t.Fatalf("%d mails arrived for the officers, want 47", got)
	}
	if got := len(inbox.To(site.adminEmail)); got != 0 {
		t.Fatalf("the admin, who has a second factor, got %d reminders", got)
	}

	// The audit log shows the bulk action.
	b.click(`#nav a[data-screen="audit"]`)
	b.waitReady("/console/audit")
	b.fill("#audit-action", "users.bulk_action")
	b.click("#audit-filters button[type=submit]")
	b.waitFor("the filtered log", `location.search === '?action=users.bulk_action' && document.body.dataset.ready === 'true'`)
	b.waitText("table.events", "remind_mfa")
	b.axe("audit log")

	// Back returns to the directory's view, as a person expects.
	b.do(chromedp.NavigateBack())
	b.do(chromedp.NavigateBack())
	b.waitReady("/console/users")
	b.waitText("#count", "47 matching users")

	// Two weeks later, 44 more have enrolled: the same view shows 3.
	for i := early; i < early+later; i++ {
		enrolOfficer(t, site.api, site.slug, emails[i], 100+i)
	}
	b.do(chromedp.Reload())
	b.waitReady("/console/users")
	b.waitText("#count", "3 matching users")
}

// bulkAllMatching selects all users matching the directory's filters and
// confirms action, which must state count; selected is how the selection
// is described.
func (b *browser) bulkAllMatching(action, count, selected string) {
	b.t.Helper()
	b.click("#select-all")
	b.waitText("#selection", selected)
	b.do(chromedp.SetValue(chromedp.CSS("#bulk-action"), action))
	b.click("#bulk-apply")
	b.waitFor("the confirmation", `document.getElementById('confirm').open`)
	if got := b.text("#confirm-text"); !strings.Contains(got, count) {
		b.t.Fatalf("the confirmation says %q, not the count %q", got, count)
	}
	b.axe("bulk confirmation")
	b.click("#confirm-yes")
}

// consoleSession is the console's tokens in sessionStorage, "" when none.
func (b *browser) consoleSession() string {
	b.t.Helper()
	return eval[string](b, `sessionStorage.getItem('roster.console.session') || ''`)
}
