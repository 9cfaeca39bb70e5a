package main_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// TestAccountAcceptInvitationInChromium follows the link of a real
// invitation mail: the page takes a password and names, accepts, and signs
// the new user in; the same link opened again says it no longer works.
func TestAccountAcceptInvitationInChromium(t *testing.T) {
	inbox := testkit.StartSMTP(t, testkit.SMTPOptions{})
	site := startMailingAccountSite(t, inbox)
	const email, password = "ada@invited.example", "a-long-passphrase-42"
	var inv map[string]any
	if status := site.call("POST", "/invitations", site.tenant.AdminToken, map[string]string{"email": email, "role": "viewer"}, &inv); status != http.StatusCreated {
		t.Fatalf("invite: %d %v", status, inv)
	}
	body := inbox.Wait(t, email, 1)[0].Body
	link := regexp.MustCompile(regexp.QuoteMeta(site.origin+"/account/accept?") + `\S+`).FindString(body)
	if link == "" {
		t.Fatalf("no accept link for %s in %q", site.origin, body)
	}

	b := newBrowser(t)
	b.do(chromedp.Navigate(link))
	b.waitSection("accept")

	// A password the policy refuses is shown on its field.
	b.fill("#accept-password", "abc")
	b.click("#accept-submit")
	b.waitFor("the password error", `document.getElementById('message').className === 'error' && document.getElementById('accept-password').getAttribute('aria-invalid') === 'true'`)
	if msg := b.message(); !strings.Contains(msg, "password") {
		t.Fatalf("the error %q does not name the password", msg)
	}
	if b.session() != nil {
		t.Fatal("a refused acceptance left a session")
	}

	b.fill("#accept-password", password)
	b.fill("#accept-user-name", "ada")
	b.fill("#accept-given-name", "Ada")
	b.fill("#accept-family-name", "Lovelace")
	b.click("#accept-submit")
	b.waitSection("account")
	b.waitMessage("You are signed in")
	if got := eval[string](b, `document.getElementById('me-email').textContent`); got != email {
		t.Fatalf("signed in as %q, want %q", got, email)
	}
	if got := eval[string](b, `location.pathname + location.search`); got != "/account?tenant="+site.slug {
		t.Fatalf("the address is %q after accepting: the token must be gone", got)
	}
	var me map[string]any
	if status := site.call("GET", "/me", b.session().AccessToken, nil, &me); status != http.StatusOK {
		t.Fatalf("GET /me with the page's token: %d %v", status, me)
	}
	if me["email"] != email || me["user_name"] != "ada" || me["given_name"] != "Ada" || me["family_name"] != "Lovelace" {
		t.Fatalf("the new user is %v", me)
	}

	// The same link, once more, after signing out: it no longer works, and
	// the page says so and offers the sign-in.
	b.click("#signout")
	b.waitSection("signin")
	b.do(chromedp.Navigate(link))
	b.waitSection("accept")
	b.fill("#accept-password", password)
	b.click("#accept-submit")
	b.waitMessage("no longer valid")
	b.waitSection("signin")
	if got := eval[string](b, `document.getElementById('tenant').value`); got != site.slug {
		t.Fatalf("the tenant field holds %q, want %q", got, site.slug)
	}
	if b.session() != nil {
		t.Fatal("a used link signed someone in")
	}
}
