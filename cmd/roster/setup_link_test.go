package main_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSetupLinkFromTheCommandLine: tenant create prints a setup link
// (JSON key too) and user reset-link a new one that replaces it.
func TestSetupLinkFromTheCommandLine(t *testing.T) {
	var b struct {
		bootstrap
		SetupURL string `json:"admin_setup_url"`
	}
	out := roster(t, "tenant", "create", "--name", "Setup Link CLI", "--admin-email", "first@setuplink.example", "--json")
	if err := json.Unmarshal(out, &b); err != nil || !strings.Contains(b.SetupURL, "/console/setup?") {
		t.Fatalf("tenant create printed %s (%v)", out, err)
	}
	first := setupToken(t, b.SetupURL)
	var reset struct {
		SetupURL string `json:"admin_setup_url"`
		UserID   string `json:"user_id"`
	}
	out = roster(t, "user", "reset-link", "--tenant", b.TenantSlug, "--email", "FIRST@setuplink.example", "--json")
	if err := json.Unmarshal(out, &reset); err != nil || reset.UserID != b.AdminUserID {
		t.Fatalf("user reset-link printed %s (%v)", out, err)
	}
	second := setupToken(t, reset.SetupURL)
	if second == first || !strings.HasPrefix(second, "rsl_") {
		t.Fatalf("reset-link made token %q after %q", second, first)
	}
	human := string(roster(t, "user", "reset-link", "--tenant", b.TenantID, "--email", "first@setuplink.example"))
	third := setupToken(t, regexp.MustCompile(`http\S+/console/setup\?\S+`).FindString(human))
	if third == "" || third == second {
		t.Fatalf("user reset-link printed %s", human)
	}

	srv := startServe(t)
	anyone := &storyClient{t: t, base: srv.url, http: http.DefaultClient}
	for _, old := range []string{first, second} {
		anyone.want(410, "POST", "/api/v1/admin-setup/accept", map[string]string{"token": old, "password": storyPassword}, nil)
	}
	anyone.want(200, "POST", "/api/v1/admin-setup/accept", map[string]string{"token": third, "password": storyPassword}, nil)
	anyone.want(200, "POST", "/api/v1/auth/login", map[string]string{"tenant": b.TenantSlug, "username": "first@setuplink.example", "password": storyPassword}, nil)
	anyone.want(410, "POST", "/api/v1/admin-setup/accept", map[string]string{"token": third, "password": storyPassword}, nil)
}

// setupToken is the token of a setup link.
func setupToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}
