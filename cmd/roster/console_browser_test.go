package main_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// consoleSite is a Roster serving the console, with a tenant of its own
// whose first admin has a setup link.
type consoleSite struct {
	*accountSite
	setupPath  string // path and query of the admin's setup link
	adminEmail string
}

// startConsoleSite starts `roster serve` with inbox as its mail server:
// the servers of the console's tests share the package's outbox, so any
// of them may deliver another's mail, and all of it must land there.
func startConsoleSite(t *testing.T, inbox *testkit.SMTPServer, name string, env ...string) *consoleSite {
	t.Helper()
	return startConsoleSiteOnPlan(t, inbox, name, "free", env...)
}

// startConsoleSiteOnPlan is startConsoleSite with a tenant on plan.
func startConsoleSiteOnPlan(t *testing.T, inbox *testkit.SMTPServer, name, plan string, env ...string) *consoleSite {
	t.Helper()
	site := startMailingAccountSite(t, inbox, env...)
	domain := strings.ToLower(strings.ReplaceAll(name, " ", "")) + ".example"
	email := "admin@" + domain
	var b struct {
		bootstrap
		SetupURL string `json:"admin_setup_url"`
	}
	out := roster(t, "tenant", "create", "--name", name+" "+fmt.Sprint(time.Now().UnixNano()), "--admin-email", email, "--plan", plan, "--json")
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("tenant create printed %s (%v)", out, err)
	}
	u, err := url.Parse(b.SetupURL)
	if err != nil {
		t.Fatal(err)
	}
	site.tenant, site.slug = b.bootstrap, b.TenantSlug
	return &consoleSite{accountSite: site, setupPath: u.Path + "?" + u.RawQuery, adminEmail: email}
}

// waitReady waits until the console has drawn the screen at path.
func (b *browser) waitReady(path string) {
	b.t.Helper()
	b.waitFor("the screen "+path, fmt.Sprintf(`document.body.dataset.ready === 'true' && location.pathname === %s`, jsString(path)))
}

// text is the text of the element the CSS selector finds.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ''`, jsString(sel)))
}

// waitText waits until the element the CSS selector finds contains text.
func (b *browser) waitText(sel, text string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%q in %s", text, sel),
		fmt.Sprintf(`((document.querySelector(%s) || {}).textContent || '').includes(%s)`, jsString(sel), jsString(text)))
}

// exists reports whether the CSS selector finds a visible element.
func (b *browser) exists(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.getClientRects().length > 0; })()`, jsString(sel)))
}

// setupAdmin follows the admin's setup link: a password, then an
// authenticator app, as a new admin would. It returns the app.
func (s *consoleSite) setupAdmin(b *browser, password string) *authenticatorApp {
	s.t.Helper()
	b.do(chromedp.Navigate(s.origin + s.setupPath))
	b.waitReady("/console/setup")
	b.axe("setup")
	b.fill("#setup-password", "abc")
	b.click("#setup-submit")
	b.waitFor("the password's error", `document.getElementById('setup-password').getAttribute('aria-invalid') === 'true' &&
		document.getElementById('setup-password-error').textContent.length > 0`)
	b.fill("#setup-password", password)
	b.click("#setup-submit")
	b.waitFor("the second factor step", `!!document.getElementById('totp-start')`)
	if got := eval[string](b, `location.search`); strings.Contains(got, "token=") {
		t := s.t
		t.Fatalf("the setup token stays in the address: %s", got)
	}
	b.click("#totp-start")
	b.waitFor("the QR code", `!!document.getElementById('totp-qr') && document.getElementById('totp-qr').naturalWidth > 0`)
	b.axe("second factor")
	app := &authenticatorApp{secret: b.text("#totp-secret")}
	b.fill("#totp-code", app.code(s.t))
	b.click("#totp-confirm")
	// A tenant that requires a second factor asks for the new one at once.
	b.waitFor("the dashboard or a step-up", `document.getElementById('stepup').open ||
		(document.body.dataset.ready === 'true' && location.pathname === '/console')`)
	if eval[bool](b, `document.getElementById('stepup').open`) {
		b.fill("#stepup-code", app.code(s.t))
		b.click("#stepup-verify")
	}
	b.waitReady("/console")
	b.waitMessage("authenticator app is turned on")
	return app
}

// signInConsole signs in on the console's form with a password and, when
// app is not nil, its code.
func (s *consoleSite) signInConsole(b *browser, email, password string, app *authenticatorApp) {
	s.t.Helper()
	b.fill("#signin-form [name=tenant]", s.slug)
	b.fill("#signin-form [name=username]", email)
	b.fill("#signin-form [name=password]", password)
	b.click("#signin-submit")
	if app != nil {
		b.waitFor("the second factor form", `!!document.getElementById('mfa-code')`)
		b.axe("second factor sign-in")
		b.fill("#mfa-code", app.code(s.t))
		b.click("#mfa-verify")
	}
	b.waitFor("the console", `!document.getElementById('signin-form') && !document.getElementById('mfa-form') && document.body.dataset.ready === 'true'`)
}

//go:embed testdata/axe/axe.min.js
var axeSource string

// axe runs axe-core on the page as it stands and fails the test on any
// serious or critical violation of WCAG 2.1 A or AA.
func (b *browser) axe(screen string) {
	b.t.Helper()
	if !eval[bool](b, `typeof window.axe === 'object'`) {
		// Injected through the DevTools protocol, which the page's
		// Content-Security-Policy does not govern.
		eval[chromedp.Void](b, axeSource)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
			.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on the %s screen: %v", screen, err)
	}
	if found != "[]" {
		b.t.Errorf("axe-core on the %s screen: serious or critical violations:\n%s", screen, found)
	}
}
