package main_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// consolePasskey: the first admin adds a passkey on the account page, signs
// in to the console with it alone, and confirms a change that needs a
// step-up with it.
func consolePasskey(t *testing.T, inbox *testkit.SMTPServer) {
	const maxAge = 8 * time.Second // room for the sign-in on a loaded machine
	site := startConsoleSite(t, inbox, "Passkey Police", "ROSTER_STEP_UP_MAX_AGE="+maxAge.String())
	b := newBrowser(t)
	b.addAuthenticator()
	app := site.setupAdmin(b, consolePassword)

	// The account page in the same tab, with the console's session.
	eval[bool](b, `sessionStorage.setItem('roster.account.session', sessionStorage.getItem('roster.console.session')) === undefined`)
	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("account")
	b.fill("#passkey-name", "Laptop")
	b.click("#passkey-add")
	// On a loaded machine the setup may already be older than a step-up allows.
	b.waitFor("the passkey or a step-up", `!document.getElementById('stepup').hidden || document.getElementById('message').textContent.includes('is added')`)
	if eval[bool](b, `!document.getElementById('stepup').hidden`) {
		b.fill("#stepup-code", app.code(t))
		b.click("#stepup-verify")
	}
	b.waitMessage("is added")

	b.do(chromedp.Navigate(site.origin + "/console"))
	b.waitReady("/console")
	b.click("#signout")
	b.waitFor("the sign-in form", `!!document.getElementById('signin-passkey') && !document.getElementById('signin-passkey').hidden`)
	b.fill("#signin-form [name=tenant]", site.slug)
	b.click("#signin-passkey")
	b.waitFor("the dashboard", `!document.getElementById('signin-form') && document.body.dataset.ready === 'true' && location.pathname === '/console'`)
	if who := b.text("#who"); who != site.adminEmail+" (admin)" {
		t.Fatalf("signed in with the passkey as %q", who)
	}

	// Making a SCIM token needs a recent second factor: the step-up offers
	// the passkey, which confirms it.
	time.Sleep(maxAge + time.Second)
	b.click(`#nav a[href="/console/settings"]`)
	b.waitReady("/console/settings")
	b.fill("#scim-token-name", "okta")
	b.click("#scim-token-create")
	b.waitFor("the step-up with a passkey", `document.getElementById('stepup').open && !document.getElementById('stepup-passkey').hidden`)
	b.axe("step-up")
	b.click("#stepup-passkey")
	b.waitText("#scim-token-new", "not shown again")
}
