package main_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/testkit"
)

// consoleScreenshots draws the dashboard and the directory of a tenant of
// 250 seeded users and, when ROSTER_SCREENSHOTS names a folder (relative
// to the repository's root), saves them there as the README's pictures:
//
//	ROSTER_SCREENSHOTS=docs/img go test ./cmd/roster -run 'TestConsole/Screenshots'
func consoleScreenshots(t *testing.T, inbox *testkit.SMTPServer) {
	site := startConsoleSite(t, inbox, "Acme")
	roster(t, "seed", "--tenant", site.tenant.TenantID, "--users", "250")
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(1280, 900))
	site.setupAdmin(b, consolePassword)
	b.waitFor("the dashboard", `!!document.getElementById('dash-total')`)
	shot(t, b, "console-dashboard.png", true)
	b.click("#dash-mfa-disabled")
	b.waitReady("/console/users")
	b.waitFor("the list", `document.body.dataset.listReady === 'true'`)
	shot(t, b, "console-directory.png", false)
}

// shot saves the page (whole, or what the window shows) as name.
func shot(t *testing.T, b *browser, name string, whole bool) {
	t.Helper()
	dir := os.Getenv("ROSTER_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // the test runs in cmd/roster
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	capture := chromedp.CaptureScreenshot()
	if whole {
		capture = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
