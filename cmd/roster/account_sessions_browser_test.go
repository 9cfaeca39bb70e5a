package main_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAccountSessionsInChromium: the account page lists where the account
// is signed in, this browser marked, and signs another session out, whose
// refresh token then stops working.
func TestAccountSessionsInChromium(t *testing.T) {
	site := startAccountSite(t)
	const email, password = "ada@sessions.example", "a-long-passphrase-42"
	site.newUser(email, password)
	var elsewhere struct {
		RefreshToken string `json:"refresh_token"`
	}
	if status := site.call("POST", "/auth/login", "", map[string]string{"tenant": site.slug, "username": email, "password": password}, &elsewhere); status != http.StatusOK {
		t.Fatalf("sign-in elsewhere: %d", status)
	}

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	b.signIn(site.slug, email, password)
	b.waitFor("two sessions", `document.querySelectorAll('#session-list li').length === 2`)
	if got := eval[int](b, `[...document.querySelectorAll('#session-list li')].filter((li) => li.textContent.includes('this browser')).length`); got != 1 {
		t.Fatalf("%d sessions marked as this browser, want 1", got)
	}
	b.click("#session-list .session-end")
	b.waitMessage("signed out")
	b.waitFor("one session", `document.querySelectorAll('#session-list li').length === 1`)
	if status := site.call("POST", "/auth/refresh", "", map[string]string{"refresh_token": elsewhere.RefreshToken}, nil); status != http.StatusUnauthorized {
		t.Fatalf("the signed-out session's refresh answered %d, want 401", status)
	}
}
