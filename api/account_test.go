package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
)

// The account page itself runs in Chromium in cmd/roster's
// TestAccountPageInChromium; these are the rules of how it is served.
func TestAccountPageIsServedUnderAStrictPolicy(t *testing.T) {
	srv := &api.Server{OpenAPI: roster.OpenAPI, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}

	resp, page := get("/account")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /account: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
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

	for path, contentType := range map[string]string{
		"/account/account.js":  "text/javascript; charset=utf-8",
		"/account/account.css": "text/css; charset=utf-8",
	} {
		resp, body := get(path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != contentType || len(body) < 100 {
			t.Errorf("GET %s: %d %s, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if !strings.Contains(page, `"`+path+`"`) {
			t.Errorf("the page does not load %s", path)
		}
	}

	for _, path := range []string{"/account/index.html", "/account/secret.go", "/account/..%2Fserver.go", "/account/account.js/x"} {
		resp, _ := get(path)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s, want a 404 problem", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}
