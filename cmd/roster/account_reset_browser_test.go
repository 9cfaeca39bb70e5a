package main_test

import (
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// TestAccountPasswordResetInChromium is a forgotten password on the account
// page: the sign-in form's link asks for a reset, the mail's link opens the
// page that sets a new one (refusing one the policy refuses), the token
// leaves the address, and the new password signs in.
func TestAccountPasswordResetInChromium(t *testing.T) {
	inbox := testkit.StartSMTP(t, testkit.SMTPOptions{})
	site := startMailingAccountSite(t, inbox)
	const email, password, newPassword = "grace@forgot.example", "a-long-passphrase-42", "a-fresh-passphrase-of-mine-7"
	site.newUser(email, password)

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	b.fill("#tenant", site.slug)
	b.click("#forgot-link")
	b.waitSection("forgot")
	b.fill("#forgot-email", email)
	b.click("#forgot-submit")
	b.waitMessage("is on its way")

	body := inbox.Wait(t, email, 1)[0].Body
	link := regexp.MustCompile(regexp.QuoteMeta(site.origin+"/account/reset?") + `\S+`).FindString(body)
	if link == "" {
		t.Fatalf("no reset link for %s in %q", site.origin, body)
	}
	b.do(chromedp.Navigate(link))
	b.waitSection("reset")
	b.fill("#reset-password", "abc")
	b.click("#reset-submit")
	b.waitFor("the password's error", `document.getElementById('reset-password').getAttribute('aria-invalid') === 'true'`)
	b.fill("#reset-password", newPassword)
	b.click("#reset-submit")
	b.waitSection("signin")
	b.waitMessage("Your password is changed")
	if got := eval[string](b, `location.pathname + location.search`); got != "/account?tenant="+site.slug {
		t.Fatalf("the address is %q after the reset: the token must be gone", got)
	}
	b.signIn(site.slug, email, newPassword)
	if got := inbox.Wait(t, email, 2)[1].Header.Get("Subject"); got != "Your password was changed" {
		t.Fatalf("the second mail is %q", got)
	}
}
