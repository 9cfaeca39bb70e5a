package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// chromiumPath is Debian's Chromium, which ./test installs when it is
// missing. A missing browser fails the test: the page is part of Roster.
const chromiumPath = "/usr/bin/chromium"

// accountSite is a Roster serving the account page at http://localhost:PORT,
// a secure context for WebAuthn with "localhost" as the relying party.
type accountSite struct {
	t      *testing.T
	api    string // the same server, reached at 127.0.0.1, for the test's own calls
	origin string // what the browser opens
	tenant bootstrap
	slug   string
}

func startAccountSite(t *testing.T, env ...string) *accountSite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	origin := fmt.Sprintf("http://localhost:%d", port)
	base := []string{
		fmt.Sprintf("ROSTER_ADDR=127.0.0.1:%d", port),
		"ROSTER_PUBLIC_URL=" + origin,
		"ROSTER_WEBAUTHN_RP_ID=localhost",
		"ROSTER_WEBAUTHN_ORIGINS=" + origin,
	}
	srv := startServe(t, append(base, env...)...)
	s := &accountSite{t: t, api: srv.url, origin: origin}
	s.tenant, s.slug = createTenantWithSlug(t, "Account Page "+fmt.Sprint(time.Now().UnixNano()))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", srv.logs.String())
		}
	})
	return s
}

// createTenantWithSlug is createTenant that also returns the slug a person
// types on the sign-in form.
// startMailingAccountSite is startAccountSite sending its mail to inbox.
func startMailingAccountSite(t *testing.T, inbox *testkit.SMTPServer, env ...string) *accountSite {
	t.Helper()
	return startAccountSite(t, append([]string{"ROSTER_SMTP_ADDR=" + inbox.Addr, "ROSTER_SMTP_FROM=Roster <no-reply@roster.test>", "ROSTER_SMTP_TLS=none"}, env...)...)
}

func createTenantWithSlug(t *testing.T, name string) (bootstrap, string) {
	t.Helper()
	out := roster(t, "tenant", "create", "--name", name, "--admin-email", "admin@"+strings.ToLower(strings.ReplaceAll(name, " ", "-"))+".example", "--json")
	var b struct {
		bootstrap
		Slug string `json:"tenant_slug"`
	}
	if err := json.Unmarshal(out, &b); err != nil || b.Slug == "" {
		t.Fatalf("tenant create printed %s (%v)", out, err)
	}
	return b.bootstrap, b.Slug
}

// call sends one request to the REST API and decodes the answer into out.
func (s *accountSite) call(method, path, token string, body, out any) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.api+"/api/v1"+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// newUser makes a user with a password in the site's tenant.
func (s *accountSite) newUser(email, password string) {
	s.t.Helper()
	var created map[string]any
	status := s.call("POST", "/users", s.tenant.AdminToken, map[string]any{
		"email": email, "given_name": "Grace", "family_name": "Hopper", "role": "developer", "password": password,
	}, &created)
	if status != http.StatusCreated {
		s.t.Fatalf("create user: %d %v", status, created)
	}
}

// browser is one headless Chromium tab with a virtual authenticator, and
// the page errors it saw.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is missing (%v): ./test installs Debian's chromium package, or run apt-get install chromium", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// On a closed network, Chromium's own background connections fail
		// and take the page's with them.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			text := m.String()
			if m.IsException() || strings.Contains(text, "Content Security Policy") {
				b.mu.Lock()
				b.errors = append(b.errors, text)
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.errors) > 0 {
			t.Errorf("the page reported errors:\n%s", strings.Join(b.errors, "\n"))
		}
	})
	return b
}

// addAuthenticator gives the browser a platform authenticator that holds
// discoverable credentials, verifies its user and needs no touch.
func (b *browser) addAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		b.t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

// do runs actions, each within ten seconds.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	for _, a := range actions {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			b.t.Fatalf("browser: %v; page says %q", err, b.message())
		}
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// message is the page's status line.
func (b *browser) message() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	m, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('message') || {}).textContent || ''`))
	return m
}

// waitFor waits until the JavaScript condition holds.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.t.Fatalf("waiting for %s: %v; page says %q", what, err, b.message())
	}
}

// waitSection waits until the section with id is the one shown.
func (b *browser) waitSection(id string) {
	b.t.Helper()
	b.waitFor("the "+id+" section", fmt.Sprintf(`document.body.dataset.ready === 'true' && !document.getElementById(%q).hidden`, id))
}

// waitMessage waits until the status line contains text.
func (b *browser) waitMessage(text string) {
	b.t.Helper()
	b.waitFor("the message "+text, fmt.Sprintf(`document.getElementById('message').textContent.includes(%s)`, jsString(text)))
}

// fill replaces the value of the input that the CSS selector finds by
// typing text.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	eval[chromedp.Void](b, fmt.Sprintf(`document.querySelector(%s).value = ''`, jsString(sel)))
	b.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)))
}

// session is what the page keeps in sessionStorage.
type pageSession struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (b *browser) session() *pageSession {
	b.t.Helper()
	var s *pageSession
	raw := eval[string](b, `sessionStorage.getItem('roster.account.session') || 'null'`)
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		b.t.Fatalf("page session %q: %v", raw, err)
	}
	return s
}

func jsString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

// authenticatorApp computes TOTP codes with oathtool as a phone app would,
// never reusing a time step: the server takes each code once.
type authenticatorApp struct {
	secret   string
	lastStep int64
}

func (a *authenticatorApp) code(t *testing.T) string {
	t.Helper()
	step := nextTOTPStep(&a.lastStep)
	return testkit.Oathtool(t, a.secret, time.Unix(step*30, 0))
}

// nextTOTPStep is the time step of an authenticator's next code, after
// last, which it then becomes. The server takes codes one step either side
// of its clock: start from the oldest step it still takes ten seconds from
// now, and wait only when the next unused step is ahead of that window.
func nextTOTPStep(last *int64) int64 {
	step := time.Now().Add(10*time.Second).Unix()/30 - 1
	if step <= *last {
		step = *last + 1
	}
	if wait := time.Unix((step-1)*30, 0).Sub(time.Now()); wait > 0 {
		time.Sleep(wait)
	}
	*last = step
	return step
}

// TestAccountPageInChromium signs in with a password on the account page,
// turns on an authenticator app from its QR code, signs out and signs in
// again with both factors, in a real browser.
func TestAccountPageInChromium(t *testing.T) {
	site := startAccountSite(t)
	const email, password = "grace@account.example", "a-long-passphrase-42"
	site.newUser(email, password)
	b := newBrowser(t)

	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	if !eval[bool](b, `window.isSecureContext && typeof PublicKeyCredential === 'function'`) {
		t.Fatal("the page is not a secure context with WebAuthn")
	}

	// A wrong password is shown, not thrown.
	b.fill("#tenant", site.slug)
	b.fill("#username", email)
	b.fill("#password", "not-the-password-0")
	b.click("#password-signin")
	b.waitFor("an error", `document.getElementById('message').className === 'error'`)
	if b.session() != nil {
		t.Fatal("a failed sign-in left a session")
	}

	b.fill("#password", password)
	b.click("#password-signin")
	b.waitSection("account")
	if got := eval[string](b, `document.getElementById('me-email').textContent`); got != email {
		t.Fatalf("signed in as %q, want %q", got, email)
	}

	// Enrol the authenticator app from the QR code the page shows.
	b.click("#totp-start")
	b.waitFor("the QR code", `document.getElementById('totp-qr').complete && document.getElementById('totp-qr').naturalWidth > 0`)
	if src := eval[string](b, `document.getElementById('totp-qr').src`); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("QR code source %.40q, want a PNG data URL", src)
	}
	app := &authenticatorApp{secret: eval[string](b, `document.getElementById('totp-secret').textContent`)}
	if len(app.secret) < 16 {
		t.Fatalf("TOTP key %q", app.secret)
	}
	b.fill("#totp-code", app.code(t))
	b.click("#totp-confirm")
	b.waitMessage("authenticator app is turned on")

	// Sign out: the session ends on the server too.
	before := b.session()
	b.click("#signout")
	b.waitSection("signin")
	if b.session() != nil {
		t.Fatal("sign-out left the tokens in sessionStorage")
	}
	if status := site.call("POST", "/auth/refresh", "", map[string]string{"refresh_token": before.RefreshToken}, nil); status != http.StatusUnauthorized {
		t.Fatalf("refresh after sign-out: %d, want 401", status)
	}

	// Password, then the app's code.
	b.fill("#tenant", site.slug)
	b.fill("#username", email)
	b.fill("#password", password)
	b.click("#password-signin")
	b.waitSection("mfa")
	b.fill("#mfa-code", "000000")
	b.click("#mfa-verify")
	b.waitFor("an error", `document.getElementById('message').className === 'error'`)
	b.fill("#mfa-code", app.code(t))
	b.click("#mfa-verify")
	b.waitSection("account")
	var me map[string]any
	if status := site.call("GET", "/me", b.session().AccessToken, nil, &me); status != http.StatusOK || me["email"] != email {
		t.Fatalf("GET /me with the page's token: %d %v", status, me)
	}

	// A reload keeps the tab's session.
	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("account")

	// An admin deactivates the user: the page's next request finds the
	// session over and goes back to the sign-in form.
	var users struct{ Items []struct{ ID, Email string } }
	site.call("GET", "/users?q=grace", site.tenant.AdminToken, nil, &users)
	if len(users.Items) != 1 {
		t.Fatalf("users matching grace: %+v", users.Items)
	}
	if status := site.call("PATCH", "/users/"+users.Items[0].ID, site.tenant.AdminToken, map[string]any{"active": false}, nil); status != http.StatusOK {
		t.Fatalf("deactivate: %d", status)
	}
	b.click("#totp-start")
	b.waitSection("signin")
	b.waitMessage("session has ended")
	if b.session() != nil {
		t.Fatal("an ended session stayed in sessionStorage")
	}
}

// signIn signs in on the page with a password alone.
func (b *browser) signIn(tenant, email, password string) {
	b.t.Helper()
	b.fill("#tenant", tenant)
	b.fill("#username", email)
	b.fill("#password", password)
	b.click("#password-signin")
	b.waitSection("account")
}

// TestAccountPageStepUpInChromium lets a sign-in grow too old for a change
// and checks that the page asks for a second factor and then makes it.
func TestAccountPageStepUpInChromium(t *testing.T) {
	const maxAge = 4 * time.Second
	site := startAccountSite(t, "ROSTER_STEP_UP_MAX_AGE="+maxAge.String())
	const email, password = "katherine@stepup.example", "a-long-passphrase-42"
	site.newUser(email, password)

	// The authenticator app, turned on through the API.
	var login struct {
		AccessToken string `json:"access_token"`
	}
	site.call("POST", "/auth/login", "", map[string]string{"tenant": site.slug, "username": email, "password": password}, &login)
	var enrolment struct{ Secret string }
	if status := site.call("POST", "/me/mfa/totp", login.AccessToken, nil, &enrolment); status != http.StatusOK {
		t.Fatalf("enrol TOTP: %d", status)
	}
	app := &authenticatorApp{secret: enrolment.Secret}
	if status := site.call("POST", "/me/mfa/totp/verify", login.AccessToken, map[string]string{"code": app.code(t)}, nil); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("confirm TOTP: %d", status)
	}

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/account"))
	b.waitSection("signin")
	b.fill("#tenant", site.slug)
	b.fill("#username", email)
	b.fill("#password", password)
	b.click("#password-signin")
	b.waitSection("mfa")
	b.fill("#mfa-code", app.code(t))
	b.click("#mfa-verify")
	b.waitSection("account")
	signedIn := b.session()
	time.Sleep(maxAge + time.Second)

	// Too old: the page asks; cancelling makes no change.
	b.click("#totp-start")
	b.waitSection("stepup")
	b.click("#stepup-cancel")
	b.waitFor("the refusal", `document.getElementById('message').className === 'error' && document.getElementById('stepup').hidden`)
	if !eval[bool](b, `document.getElementById('totp-enrol').hidden`) {
		t.Fatal("a cancelled step-up still enrolled")
	}

	// A wrong code is refused and the page still asks; the right one
	// raises the session and the change goes through.
	b.click("#totp-start")
	b.waitSection("stepup")
	b.fill("#stepup-code", "000000")
	b.click("#stepup-verify")
	b.waitFor("an error", `document.getElementById('message').className === 'error'`)
	if eval[bool](b, `document.getElementById('stepup').hidden`) {
		t.Fatal("a wrong code closed the step-up")
	}
	b.fill("#stepup-code", app.code(t))
	b.click("#stepup-verify")
	b.waitFor("the new QR code", `!document.getElementById('totp-enrol').hidden && document.getElementById('totp-qr').naturalWidth > 0`)
	raised := b.session()
	if raised.AccessToken == signedIn.AccessToken || raised.RefreshToken != signedIn.RefreshToken {
		t.Fatal("the step-up did not raise the access token within the same session")
	}
}

// TestAccountPageFirstFactorInChromium signs in to a tenant that requires a
// second factor: the page lets the user set up an authenticator app with
// the enrolment-only token, then use it to get in fully.
func TestAccountPageFirstFactorInChromium(t *testing.T) {
	site := startAccountSite(t)
	var policy map[string]any
	if status := site.call("GET", "/tenant/security-policy", site.tenant.AdminToken, nil, &policy); status != http.StatusOK {
		t.Fatalf("GET security policy: %d", status)
	}
	policy["mfa_required"] = true
	if status := site.call("PUT", "/tenant/security-policy", site.tenant.AdminToken, policy, &policy); status != http.StatusOK {
		t.Fatalf("PUT security policy: %d %v", status, policy)
	}
	const email, password = "dorothy@required.example", "a-long-passphrase-42"
	site.newUser(email, password)

	b := newBrowser(t)
	b.do(chromedp.Navigate(site.origin + "/account?tenant=" + site.slug))
	b.waitSection("signin")
	if got := eval[string](b, `document.getElementById('tenant').value`); got != site.slug {
		t.Fatalf("the tenant field holds %q, want the ?tenant= of the link", got)
	}
	b.fill("#username", email)
	b.fill("#password", password)
	b.click("#password-signin")
	b.waitSection("account")
	b.waitMessage("requires a second factor")
	if status := site.call("GET", "/users", b.session().AccessToken, nil, nil); status != http.StatusForbidden {
		t.Fatalf("GET /users with the enrolment-only token: %d, want 403", status)
	}

	b.click("#totp-start")
	b.waitFor("the QR code", `document.getElementById('totp-qr').naturalWidth > 0`)
	app := &authenticatorApp{secret: eval[string](b, `document.getElementById('totp-secret').textContent`)}
	b.fill("#totp-code", app.code(t))
	b.click("#totp-confirm")
	b.waitSection("stepup")
	b.fill("#stepup-code", app.code(t))
	b.click("#stepup-verify")
	b.waitMessage("You are signed in")
	if status := site.call("GET", "/users", b.session().AccessToken, nil, nil); status != http.StatusOK {
		t.Fatalf("GET /users after the step-up: %d, want 200", status)
	}
}
