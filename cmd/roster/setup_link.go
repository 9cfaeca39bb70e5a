package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/store"
)

// runUserResetLink gives a user (a locked-out admin) a new setup link and
// prints it once; the user's earlier link stops working.
func runUserResetLink(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user reset-link", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant id or slug (required)")
	email := fs.String("email", "", "the user's email (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" || *email == "" {
		return fmt.Errorf("user reset-link needs --tenant and --email")
	}
	token, link, err := flow.NewSetupLink(time.Now())
	if err != nil {
		return err
	}
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if link, err = store.NewSetupLinkService(db).CreateSetupLink(ctx, *tenant, *email, link.TokenHash, link.ExpiresAt); err != nil {
		return describe(err)
	}
	setupURL := flow.SetupLinkURL(publicBaseURL(cfg), token, link.TenantSlug)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"admin_setup_url": setupURL, "user_id": link.UserID, "expires_at": link.ExpiresAt,
		})
	}
	fmt.Fprintf(stdout, "setup link %s\n\nIt works once, until %s; any earlier link of this user no longer works.\n",
		setupURL, link.ExpiresAt.Format(time.RFC3339))
	return nil
}

// publicBaseURL is where people reach `roster serve`: ROSTER_PUBLIC_URL, or
// localhost at the port of ROSTER_ADDR.
func publicBaseURL(cfg Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || port == "" || port == "0" {
		port = "8080"
	}
	return "http://localhost:" + port
}
