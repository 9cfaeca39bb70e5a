package main_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// consoleViewer: a viewer reads the dashboard, the directory, a user and
// the invitations, and is shown no control that changes anything.
func consoleViewer(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Console Viewer")
	const email = "vera@viewer.example"
	var created struct{ ID string }
	if status := site.call("POST", "/users", site.tenant.AdminToken, map[string]any{
		"email": email, "role": "viewer", "password": consolePassword,
	}, &created); status != http.StatusCreated {
		t.Fatalf("create viewer: %d", status)
	}
	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/console/users?role=viewer"))
	b.waitFor("the sign-in form", `!!document.getElementById('signin-form')`)
	site.signInConsole(b, email, consolePassword, nil)
	b.waitReady("/console/users")
	b.waitText("#count", "1 matching user")
	b.waitFor("the list", `document.body.dataset.listReady === 'true'`)
	for _, sel := range []string{"#bulk", "#select-all", "#bulk-apply", ".select-user", `#nav a[data-screen="audit"]`, `#nav a[data-screen="settings"]`} {
		if b.exists(sel) {
			t.Errorf("a viewer sees %s", sel)
		}
	}
	b.axe("directory as a viewer")

	// Search as you type: the address follows (replaced, not stacked), and
	// the count answers for the last word typed.
	b.fill("#filter-q", "nobody-by-this-name")
	b.waitFor("the search in the address", `location.search.includes('q=nobody-by-this-name')`)
	b.waitText("#count", "0 matching users")
	b.fill("#filter-q", "vera")
	b.waitFor("the new search", `location.search.includes('q=vera') && document.body.dataset.listReady === 'true'`)
	b.waitText("#count", "1 matching user")

	b.click("table.users a")
	b.waitReady("/console/users/" + created.ID)
	for _, sel := range []string{"#profile-save", "#toggle-active", "#reset-mfa", "#profile-form select[name=role]"} {
		if b.exists(sel) {
			t.Errorf("a viewer sees %s on a user", sel)
		}
	}
	b.axe("user as a viewer")

	b.click(`#nav a[data-screen="invitations"]`)
	b.waitReady("/console/invitations")
	if b.exists("#invite-form") || b.exists("#csv-form") {
		t.Error("a viewer sees the invitation forms")
	}
	b.axe("invitations as a viewer")

	// An address of an admin's screen says it is not for this role.
	b.do(chromedp.Navigate(site.origin + "/console/settings"))
	b.waitReady("/console/settings")
	b.waitText("#screen h1", "Not available")

	// The API refuses anyway: the viewer's own token cannot remind.
	var tokens struct{ AccessToken string }
	if status := site.call("POST", "/users/bulk", consoleToken(b), map[string]any{"action": "remind_mfa", "filter": map[string]any{}}, &tokens); status != http.StatusForbidden {
		t.Fatalf("the viewer's bulk request: %d, want 403", status)
	}
}

// consoleToken is the access token the console keeps.
func consoleToken(b *browser) string {
	b.t.Helper()
	return eval[string](b, `JSON.parse(sessionStorage.getItem('roster.console.session')).access_token`)
}

// consoleSettings: the policy form shows the API's field error beside the
// field, and a SCIM token, which needs a step-up, is made after one and
// shown once.
func consoleSettings(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Console Settings")
	b := newBrowser(t)
	app := site.setupAdmin(b, consolePassword)
	b.click(`#nav a[data-screen="settings"]`)
	b.waitReady("/console/settings")
	b.axe("settings")
	b.fill("#policy-password-min_length", "4")
	b.click("#policy-save")
	b.waitFor("the field error", `document.getElementById('policy-password-min_length').getAttribute('aria-invalid') === 'true' &&
		document.getElementById('policy-password-min_length-error').textContent.includes('from 8 to 128')`)
	b.waitFor("the error message", `document.getElementById('message').className === 'error'`)
	b.axe("settings with a field error")
	b.fill("#policy-password-min_length", "14")
	b.click("#policy-save")
	b.waitMessage("security policy is saved")
	var policy struct {
		Password struct {
			MinLength int `json:"min_length"`
		}
	}
	site.call("GET", "/tenant/security-policy", site.tenant.AdminToken, nil, &policy)
	if policy.Password.MinLength != 14 {
		t.Fatalf("the policy's min_length is %d after saving 14", policy.Password.MinLength)
	}

	b.fill("#scim-token-name", "okta")
	b.click("#scim-token-create")
	b.waitFor("the step-up", `document.getElementById('stepup').open`)
	b.axe("step-up")
	b.fill("#stepup-code", app.code(t))
	b.click("#stepup-verify")
	b.waitFor("the new token", `(document.getElementById('scim-token-secret') || {}).textContent?.startsWith('rst_')`)
}

// consoleInvitations: a CSV upload reports its bad row by number, and the
// good one is invited; a user's page is accessible.
func consoleInvitations(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Console Invitations")
	b := newBrowser(t)
	site.setupAdmin(b, consolePassword)
	b.click(`#nav a[data-screen="invitations"]`)
	b.waitReady("/console/invitations")
	b.axe("invitations")
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,role\nada@"+site.slug+".example,developer\nnot-an-address,viewer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#csv-file"), []string{csv}))
	b.click("#csv-submit")
	b.waitText("#csv-results", "1 invitation sent; 1 row refused")
	b.waitText("#csv-failures", "not-an-address")
	if got := b.text("#csv-failures tbody td"); got != "2" {
		t.Fatalf("the refused row is numbered %q, want 2", got)
	}
	b.axe("invitations with a CSV result")

	b.click(`#nav a[data-screen="users"]`)
	b.waitReady("/console/users")
	b.waitFor("the list", `document.body.dataset.listReady === 'true'`)
	b.click("table.users a")
	b.waitFor("the user", `location.pathname.startsWith('/console/users/') && document.body.dataset.ready === 'true'`)
	b.waitFor("the user's trail", `!!document.querySelector('table.events')`)
	b.axe("user")
}

// consoleJob: a bulk action on more than 1,000 users runs as a job whose
// progress the directory follows to its result.
func consoleJob(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Console Job")
	roster(t, "seed", "--tenant", site.tenant.TenantID, "--users", "1100")
	b := newBrowser(t)
	site.setupAdmin(b, consolePassword)
	b.do(chromedp.Navigate(site.origin + "/console/users"))
	b.waitReady("/console/users")
	b.waitText("#count", "1,101 matching users")
	b.bulkAllMatching("activate", "1,101 users", "All 1,101 matching users are selected")
	b.waitFor("the job", `!!document.body.dataset.job`)
	b.waitText("#bulk-progress", "of 1,101 users")
	// A busy machine runs the job's 1,101 transactions slowly: wait long.
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`!!document.getElementById('bulk-result')`, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(0))); err != nil {
		t.Fatalf("the job's result: %v; progress says %q", err, b.text("#bulk-progress"))
	}
	if got := b.text("#bulk-result"); !strings.Contains(got, "1,101 matched, 1,101 succeeded") {
		t.Fatalf("the job's result: %q", got)
	}
}

// consoleRequired: in a tenant that requires a second factor, the first
// admin's setup ends with one, used at once, and then the whole console.
func consoleRequired(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Console Required")
	var policy map[string]any
	site.call("GET", "/tenant/security-policy", site.tenant.AdminToken, nil, &policy)
	policy["mfa_required"] = true
	if status := site.call("PUT", "/tenant/security-policy", site.tenant.AdminToken, policy, nil); status != http.StatusOK {
		t.Fatalf("require MFA: %d", status)
	}
	b := newBrowser(t)
	site.setupAdmin(b, consolePassword)
	b.waitText("#dash-total", "1")
	if status := site.call("GET", "/users", consoleToken(b), nil, nil); status != http.StatusOK {
		t.Fatalf("the console's token after the setup: %d, want a full session", status)
	}
}
