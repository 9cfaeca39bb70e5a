package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The account page itself runs in Chromium in cmd/roster's
// TestAccountPageInChromium; these are the rules of how it is served.
func TestAccountPageIsServedUnderAStrictPolicy(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	get := func(path string, invalid bool) (response, string) {
		t.Helper()
		r := e.do(request{Method: "GET", Path: path, Invalid: invalid})
		return r, string(r.Body)
	}

	resp, page := get("/account?tenant=acme", false)
	if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /account: %d %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q allows unsafe sources", csp)
	}
	// The policy forbids inline script and style, so the page must have none.
	for what, re := range map[string]*regexp.Regexp{
		"event handler":        regexp.MustCompile(`\son[a-z]+\s*=`),
		"inline style":         regexp.MustCompile(`<style|\sstyle\s*=`),
		"javascript: link":     regexp.MustCompile(`(?i)javascript:`),
		"third-party resource": regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
	} {
		if m := re.FindString(page); m != "" {
			t.Errorf("the page has an %s: %q", what, m)
		}
	}
	scripts := regexp.MustCompile(`<script([^>]*)>([^<]*)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != strings.Count(page, "<script") {
		t.Errorf("the page has script tags that do not close at once")
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], ` src="/account/`) || strings.TrimSpace(s[2]) != "" {
			t.Errorf("the page has an inline script: %q", s[0])
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", resp.Header)
	}

	// The link of an invitation mail is the same page under the same policy.
	token := "riv_" + strings.Repeat("A1b2", 10)
	accept, acceptPage := get("/account/accept?tenant=acme&token="+token, false)
	if accept.Status != http.StatusOK || accept.Header.Get("Content-Type") != "text/html; charset=utf-8" || acceptPage != page {
		t.Fatalf("GET /account/accept: %d %s, the same page: %v", accept.Status, accept.Header.Get("Content-Type"), acceptPage == page)
	}
	if accept.Header.Get("Content-Security-Policy") != csp || accept.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET /account/accept headers %v", accept.Header)
	}
	// So is the link of a password reset mail.
	reset, resetPage := get("/account/reset?tenant=acme&token=rsl_"+strings.Repeat("A1b2", 10), false)
	if reset.Status != http.StatusOK || resetPage != page || reset.Header.Get("Content-Security-Policy") != csp {
		t.Fatalf("GET /account/reset: %d, the same page: %v, headers %v", reset.Status, resetPage == page, reset.Header)
	}
	// And a sign-up's verification link, and the sign-up form.
	for _, path := range []string{"/account/verify?tenant=acme&token=rsl_" + strings.Repeat("A1b2", 10), "/account/signup"} {
		r, body := get(path, false)
		if r.Status != http.StatusOK || body != page || r.Header.Get("Content-Security-Policy") != csp {
			t.Fatalf("GET %s: %d, the same page: %v, headers %v", path, r.Status, body == page, r.Header)
		}
	}

	for path, contentType := range map[string]string{
		"/account/account.js":  "text/javascript; charset=utf-8",
		"/account/account.css": "text/css; charset=utf-8",
	} {
		resp, body := get(path, false)
		if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != contentType || len(body) < 100 {
			t.Errorf("GET %s: %d %s, %d bytes", path, resp.Status, resp.Header.Get("Content-Type"), len(body))
		}
		if !strings.Contains(page, `"`+path+`"`) {
			t.Errorf("the page does not load %s", path)
		}
	}

	// Only those two files: not the page under another name, not the
	// embedded folder, not a path out of it.
	for path, invalid := range map[string]bool{
		"/account/index.html":         false,
		"/account/secret.go":          false,
		"/account/..%2Fserver.go":     true,
		"/account/account.js/x":       true,
		"/account/account/account.js": true,
	} {
		resp, _ := get(path, invalid)
		if resp.Status != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s, want a 404 problem", path, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
}
