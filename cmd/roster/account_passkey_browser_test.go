package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// passkeyInfo is the part of a passkey the test looks at.
type passkeyInfo struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	UseCount     int     `json:"use_count"`
	LastUsedAt   *string `json:"last_used_at"`
	UserVerified bool    `json:"user_verified"`
}

// passkeys lists the user's passkeys through the API, with token.
func (s *accountSite) passkeys(token string) []passkeyInfo {
	s.t.Helper()
	var raw json.RawMessage
	if status := s.call("GET", "/me/passkeys", token, nil, &raw); status != http.StatusOK {
		s.t.Fatalf("GET /me/passkeys: %d %s", status, raw)
	}
	var page struct{ Items []passkeyInfo }
	if err := json.Unmarshal(raw, &page); err == nil && page.Items != nil {
		return page.Items
	}
	var list []passkeyInfo
	if err := json.Unmarshal(raw, &list); err != nil {
		s.t.Fatalf("GET /me/passkeys answered %s", raw)
	}
	return list
}

// listedPasskeys are the names the page lists.
func (b *browser) listedPasskeys() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('#passkey-list .passkey-name')].map((e) => e.value)`)
}

// TestAccountPagePasskeysInChromium registers a passkey on the account
// page with Chromium's virtual authenticator, signs out and in with it,
// renames it and removes it, checking each step against the API.
func TestAccountPagePasskeysInChromium(t *testing.T) {
	site := startAccountSite(t)
	_, otherSlug := createTenantWithSlug(t, "Other Org "+fmt.Sprint(time.Now().UnixNano()))
	const email, password = "ada@passkeys.example", "a-long-passphrase-42"
	site.newUser(email, password)
	b := newBrowser(t)
	authenticator := b.addAuthenticator()

	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	b.signIn(site.slug, email, password)
	b.waitFor("the passkeys", `!document.getElementById('passkeys').hidden && !document.getElementById('passkeys-empty').hidden`)

	// Register.
	b.fill("#passkey-name", "Work laptop")
	b.click("#passkey-add")
	b.waitMessage("is added")
	// The page says so before its list is read again.
	b.waitFor("the new passkey in the list", `document.querySelectorAll('#passkey-list .passkey').length === 1`)
	if got := b.listedPasskeys(); len(got) != 1 || got[0] != "Work laptop" {
		t.Fatalf("the page lists %q, want the new passkey", got)
	}
	if meta := eval[string](b, `document.querySelector('#passkey-list .passkey-meta').textContent`); !strings.Contains(meta, "not used yet") {
		t.Fatalf("the new passkey is described as %q", meta)
	}
	creds, err := chromedp.Call(b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential || creds.Credentials[0].RpID != "localhost" {
		t.Fatalf("the authenticator holds %+v, want one discoverable credential for localhost", creds.Credentials)
	}
	keys := site.passkeys(b.session().AccessToken)
	if len(keys) != 1 || keys[0].Name != "Work laptop" || keys[0].UseCount != 0 || keys[0].LastUsedAt != nil {
		t.Fatalf("the API lists %+v after registration", keys)
	}

	// Sign out, and in with the passkey. Another tenant does not know it.
	b.click("#signout")
	b.waitSection("signin")
	b.fill("#tenant", otherSlug)
	b.click("#passkey-signin")
	b.waitFor("an error", `document.getElementById('message').className === 'error'`)
	if b.session() != nil || !eval[bool](b, `!document.getElementById('signin').hidden`) {
		t.Fatal("the passkey signed in to another tenant")
	}
	b.fill("#tenant", site.slug)
	b.click("#passkey-signin")
	b.waitSection("account")
	if got := eval[string](b, `document.getElementById('me-email').textContent`); got != email {
		t.Fatalf("signed in with the passkey as %q, want %q", got, email)
	}
	token := b.session().AccessToken
	keys = site.passkeys(token)
	if len(keys) != 1 || keys[0].UseCount != 1 || keys[0].LastUsedAt == nil {
		t.Fatalf("after a passkey sign-in the API lists %+v, want one use", keys)
	}
	b.waitFor("the passkey's use", `(document.querySelector('#passkey-list .passkey-meta') || {textContent: ''}).textContent.includes('used once')`)

	// Rename, to a name that would be markup if the page wrote it as HTML.
	const renamed = `Personal <img src=x id=injected> laptop`
	b.fill("#passkey-list .passkey-name", renamed)
	b.click("#passkey-list .passkey-rename")
	b.waitMessage("now called")
	if keys = site.passkeys(token); len(keys) != 1 || keys[0].Name != renamed {
		t.Fatalf("after the rename the API lists %+v", keys)
	}
	if got := b.listedPasskeys(); len(got) != 1 || got[0] != renamed {
		t.Fatalf("after the rename the page lists %q", got)
	}
	if eval[bool](b, `document.getElementById('injected') !== null`) || !strings.Contains(b.message(), renamed) {
		t.Fatalf("the new name was written as HTML: %q", b.message())
	}

	// Remove: the passkey sign-in is the step-up that removal needs.
	b.click("#passkey-list .passkey-remove")
	b.waitMessage("is removed")
	b.waitFor("the empty list", `!document.getElementById('passkeys-empty').hidden`)
	if keys = site.passkeys(token); len(keys) != 0 {
		t.Fatalf("after the removal the API lists %+v", keys)
	}

	// The authenticator still holds the credential; Roster no longer takes it.
	b.click("#signout")
	b.waitSection("signin")
	b.fill("#tenant", site.slug)
	b.click("#passkey-signin")
	b.waitFor("an error", `document.getElementById('message').className === 'error'`)
	if b.session() != nil {
		t.Fatal("a removed passkey signed in")
	}
}

// TestAccountPagePasskeyFactorAndStepUpInChromium uses a passkey as the
// second factor after a password, and as the step-up that a change needs
// once the sign-in has grown too old.
func TestAccountPagePasskeyFactorAndStepUpInChromium(t *testing.T) {
	const maxAge = 8 * time.Second // room for the registration on a loaded machine
	site := startAccountSite(t, "ROSTER_STEP_UP_MAX_AGE="+maxAge.String())
	const email, password = "mary@stepup.example", "a-long-passphrase-42"
	site.newUser(email, password)
	b := newBrowser(t)
	b.addAuthenticator()

	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	b.signIn(site.slug, email, password)
	b.fill("#passkey-name", "Laptop")
	b.click("#passkey-add")
	b.waitMessage("is added")

	// Now the password alone is not enough: the passkey is the second factor.
	b.click("#signout")
	b.waitSection("signin")
	b.fill("#tenant", site.slug)
	b.fill("#username", email)
	b.fill("#password", password)
	b.click("#password-signin")
	b.waitSection("mfa")
	if m := eval[string](b, `document.getElementById('mfa-method').value`); m != "passkey" {
		t.Fatalf("the second factor offered first is %q, want passkey", m)
	}
	b.click("#mfa-passkey")
	b.waitSection("account")
	token := b.session().AccessToken
	if keys := site.passkeys(token); len(keys) != 1 || keys[0].UseCount != 1 {
		t.Fatalf("after the passkey as a second factor the API lists %+v", keys)
	}

	// Too old to remove a passkey: step up with the passkey itself.
	time.Sleep(maxAge + time.Second)
	b.click("#passkey-list .passkey-remove")
	b.waitSection("stepup")
	if !eval[bool](b, `document.getElementById('stepup-totp').hidden`) {
		t.Fatal("the step-up asks a user whose only factor is a passkey for an app code")
	}
	b.click("#stepup-passkey")
	b.waitMessage("is removed")
	if keys := site.passkeys(b.session().AccessToken); len(keys) != 0 {
		t.Fatalf("after the removal the API lists %+v", keys)
	}
}
