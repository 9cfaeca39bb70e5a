package main_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsoleServed: / leads to the console, whose page and modules come
// with the account page's strict policy, and nothing else is served.
func TestConsoleServed(t *testing.T) {
	srv := startServe(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/console" {
		t.Fatalf("GET /: %d to %q, want 302 to /console", resp.StatusCode, resp.Header.Get("Location"))
	}
	for path, want := range map[string]string{
		"/console":                    "text/html; charset=utf-8",
		"/console/users?mfa=disabled": "text/html; charset=utf-8",
		"/console/users/0190f5c2":     "text/html; charset=utf-8",
		"/console/setup?token=x":      "text/html; charset=utf-8",
		"/console/assets/app.js":      "text/javascript; charset=utf-8",
		"/console/assets/console.css": "text/css; charset=utf-8",
		"/console/assets/index.html":  "",
		"/console/assets/nothing.js":  "",
		"/console/admin":              "",
	} {
		resp, err := http.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want == "" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
			continue
		}
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, h.Get("Content-Type"), want)
		}
		csp := h.Get("Content-Security-Policy")
		for _, part := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, part) {
				t.Errorf("GET %s: policy %q lacks %q", path, csp, part)
			}
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", path, h)
		}
	}
}
