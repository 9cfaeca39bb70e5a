package main_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// TestAccountSignUpInChromium signs up on the account page, follows the
// mail's verification link (the token leaves the address), and signs in.
func TestAccountSignUpInChromium(t *testing.T) {
	inbox := testkit.StartSMTP(t, testkit.SMTPOptions{})
	site := startMailingAccountSite(t, inbox, "ROSTER_SIGNUP=open")
	const email, password = "founder@signup-page.example", "a-long-passphrase-of-mine-42"
	slug := fmt.Sprintf("page-%d", time.Now().UnixNano())

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	b.waitFor("the sign-up link", `!document.getElementById('signup-offer').hidden`)
	b.click("#signup-link")
	b.waitSection("signup")
	b.fill("#signup-org-name", "Page Org")
	b.fill("#signup-org-slug", slug)
	b.fill("#signup-email", email)
	b.fill("#signup-password", password)
	b.click("#signup-submit")
	b.waitSection("verify")
	b.waitMessage("Check your mail")

	body := inbox.Wait(t, email, 1)[0].Body
	link := regexp.MustCompile(regexp.QuoteMeta(site.origin+"/account/verify?") + `\S+`).FindString(body)
	if link == "" {
		t.Fatalf("no verification link for %s in %q", site.origin, body)
	}
	b.do(chromedp.Navigate(link))
	b.waitSection("signin")
	b.waitMessage("Your address is confirmed")
	if got := eval[string](b, `location.pathname + location.search`); got != "/account?tenant="+slug {
		t.Fatalf("the address is %q after the verification: the token must be gone", got)
	}
	b.signIn(slug, email, password)
	if got := inbox.Wait(t, email, 2)[1].Header.Get("Subject"); got != "Welcome to Roster" {
		t.Fatalf("the second mail is %q", got)
	}
}
