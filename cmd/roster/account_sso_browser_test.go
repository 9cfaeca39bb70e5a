package main_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// TestAccountPageSSOInChromium signs in from the account page's "Sign in
// with <connection>" button, through zitadel/oidc's example OpenID
// Provider's login form, back to the page signed in; then by discovery
// from the email typed; then from the console's button.
func TestAccountPageSSOInChromium(t *testing.T) {
	site := startAccountSite(t)
	const secret = "chromium-op-secret"
	ada := testkit.OIDCUser{ID: "op-ada", Username: "ada", Password: "verysecure", Email: "ada@sso-browser.test",
		EmailVerified: true, GivenName: "Ada", FamilyName: "Lovelace", Groups: []string{"Engineers"}}
	op := testkit.StartOIDCProvider(t, "roster-browser", secret, site.origin+"/api/v1/auth/sso/oidc/callback", ada)
	var conn map[string]any
	if status := site.call("POST", "/sso/connections", site.tenant.AdminToken, map[string]any{
		"type": "oidc", "name": "Acme Okta", "issuer": op.URL, "client_id": "roster-browser", "client_secret": secret,
		"domains": []string{"sso-browser.test"}, "group_roles": map[string]string{"Engineers": "developer"},
	}, &conn); status != http.StatusCreated {
		t.Fatalf("create connection: %d %v", status, conn)
	}

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/account?tenant=" + site.slug))
	b.waitSection("signin")
	b.waitFor("the SSO button", `document.querySelector('.sso-button') !== null`)
	if got := eval[string](b, `document.querySelector('.sso-button').textContent`); got != "Sign in with Acme Okta" {
		t.Fatalf("button %q", got)
	}
	b.click(".sso-button")
	atOP := func() {
		t.Helper()
		b.waitAcross("the provider's login form", fmt.Sprintf(`location.href.startsWith(%s) && document.getElementById('username') !== null`, jsString(op.URL)))
		b.fill("#username", "ada")
		b.fill("#password", "verysecure")
		b.click("button[type=submit]")
	}
	signInAtOP := func() {
		t.Helper()
		atOP()
		b.waitAcross("the account page, signed in", fmt.Sprintf(`location.origin === %s && document.body.dataset.ready === 'true' && document.getElementById('account') !== null && !document.getElementById('account').hidden`, jsString(site.origin)))
	}
	signInAtOP()
	if got := eval[string](b, `document.getElementById('me-email').textContent`); got != ada.Email {
		t.Fatalf("signed in as %q", got)
	}
	if hash := eval[string](b, `location.hash`); hash != "" {
		t.Fatalf("the one-time code stayed in the address: %q", hash)
	}
	var me map[string]any
	if status := site.call("GET", "/me", b.session().AccessToken, nil, &me); status != http.StatusOK || me["role"] != "developer" {
		t.Fatalf("GET /me with the page's token: %d %v", status, me)
	}

	// Signed out, the email's domain finds the connection; a domain
	// without one is told so on the page.
	b.click("#signout")
	b.waitSection("signin")
	b.fill("#tenant", site.slug)
	b.fill("#username", "bob@elsewhere.test")
	b.click("#sso-discover")
	b.waitAcross("the refusal of an unknown domain", fmt.Sprintf(`location.origin === %s && document.body.dataset.ready === 'true' && location.hash === '' && document.getElementById('message').textContent.includes('no single sign-on is set up for elsewhere.test')`, jsString(site.origin)))
	b.fill("#tenant", site.slug)
	b.fill("#username", strings.ToUpper(ada.Email[:1])+ada.Email[1:])
	b.click("#sso-discover")
	signInAtOP()
	if got := eval[string](b, `document.getElementById('me-email').textContent`); got != ada.Email {
		t.Fatalf("signed in by discovery as %q", got)
	}

	// The console offers the same button and ends on its dashboard.
	b.do(chromedp.Navigate(site.origin + "/console?tenant=" + site.slug))
	b.waitAcross("the console's SSO button", `document.body.dataset.ready === 'true' && document.querySelector('.sso-button') !== null`)
	b.click(".sso-button")
	atOP()
	b.waitAcross("the console, signed in", fmt.Sprintf(`location.origin === %s && location.pathname === '/console' && location.hash === '' && document.body.dataset.ready === 'true' && !document.getElementById('nav').hidden && document.getElementById('who').textContent.includes(%s)`, jsString(site.origin), jsString(ada.Email)))

	// Deactivated, she is told so on the page she started from.
	if status := site.call("PATCH", "/users/"+me["id"].(string), site.tenant.AdminToken, map[string]any{"active": false}, nil); status != http.StatusOK {
		t.Fatalf("deactivate: %d", status)
	}
	b.do(chromedp.Navigate(site.origin + "/account?tenant=" + site.slug))
	b.waitSection("signin")
	b.waitFor("the SSO button", `document.querySelector('.sso-button') !== null`)
	b.click(".sso-button")
	atOP()
	b.waitAcross("the refusal on the account page", fmt.Sprintf(`location.origin === %s && location.hash === '' && document.getElementById('message') !== null && document.getElementById('message').className === 'error' && document.getElementById('message').textContent.includes('deactivated')`, jsString(site.origin)))
	if b.session() != nil {
		t.Fatal("a refused sign-in left a session")
	}
}

// waitAcross waits until the JavaScript condition holds in whatever page
// the tab shows: across navigations, which end the contexts that
// waitFor's polling runs in.
func (b *browser) waitAcross(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("waiting for %s; page says %q", what, b.message())
}
