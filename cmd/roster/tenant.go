package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/store"
)

// runTenantCreate creates a tenant with its first admin, an admin API token
// and a SCIM token, and prints the tokens once.
func runTenantCreate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the organisation's name (required)")
	slug := fs.String("slug", "", "URL-safe short name (default: from the name)")
	email := fs.String("admin-email", "", "the first administrator's email (required)")
	plan := fs.String("plan", roster.PlanFree, "the plan: "+strings.Join(roster.Plans(), ", ")+" (custom roles and grants need enterprise)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *email == "" {
		return fmt.Errorf("tenant create needs --name and --admin-email")
	}
	if !roster.IsPlan(*plan) {
		return fmt.Errorf("--plan must be one of %s", strings.Join(roster.Plans(), ", "))
	}
	adminToken, err := newToken("admin", roster.RoleAdmin, nil)
	if err != nil {
		return err
	}
	scimToken, err := newToken("scim", roster.RoleAdmin, []string{string(roster.PermSCIMProvision)})
	if err != nil {
		return err
	}
	setupToken, setupLink, err := flow.NewSetupLink(time.Now())
	if err != nil {
		return err
	}
	b := &roster.Bootstrap{
		Tenant:     &roster.Tenant{Name: *name, Slug: *slug, Plan: *plan},
		Admin:      &roster.User{Email: *email, Role: roster.RoleAdmin, Active: true},
		AdminToken: adminToken.APIToken,
		SCIMToken:  scimToken.APIToken,
		SetupLink:  setupLink,
	}
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := store.NewTenantService(db).CreateTenant(ctx, b); err != nil {
		return describe(err)
	}
	setupURL := flow.SetupLinkURL(publicBaseURL(cfg), setupToken, b.Tenant.Slug)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{
			"tenant_id":       b.Tenant.ID,
			"tenant_slug":     b.Tenant.Slug,
			"plan":            b.Tenant.Plan,
			"admin_user_id":   b.Admin.ID,
			"admin_token":     adminToken.secret,
			"scim_token":      scimToken.secret,
			"admin_setup_url": setupURL,
		})
	}
	fmt.Fprintf(stdout, "tenant      %s (%s)\nadmin user  %s <%s>\nadmin token %s\nSCIM token  %s\nsetup link  %s\n\nThe tokens are shown only now: keep them safe.\nThe admin sets a password at the setup link (once, within 24 hours).\n",
		b.Tenant.ID, b.Tenant.Slug, b.Admin.ID, b.Admin.Email, adminToken.secret, scimToken.secret, setupURL)
	return nil
}

// runTokenCreate creates an API token in a tenant and prints it once.
func runTokenCreate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	role := fs.String("role", "", "admin, developer or viewer (required)")
	name := fs.String("name", "", "what the token is for (required)")
	scopes := fs.String("scopes", "", "comma-separated permissions narrowing the role, e.g. users:read")
	user := fs.String("user", "", "id of the user the token acts for; deactivating them stops it")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h (default: no expiry)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" || *role == "" || *name == "" {
		return fmt.Errorf("token create needs --tenant, --role and --name")
	}
	var scopeList []string
	if *scopes != "" {
		scopeList = splitComma(*scopes)
	}
	tok, err := newToken(*name, *role, scopeList)
	if err != nil {
		return err
	}
	if *user != "" {
		tok.UserID = user
	}
	if *expires < 0 {
		return fmt.Errorf("--expires must be positive")
	} else if *expires > 0 {
		at := time.Now().Add(*expires).UTC().Truncate(time.Second)
		tok.ExpiresAt = &at
	}
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := store.NewTenantService(db).FindTenantByID(ctx, *tenant); err != nil {
		return describe(err)
	}
	by := roster.Actor{Type: roster.ActorSystem, ID: "cli"}
	if err := store.NewTokenService(db).CreateToken(ctx, *tenant, by, tok.APIToken); err != nil {
		return describe(err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"token": tok.secret, "id": tok.ID, "tenant_id": tok.TenantID, "name": tok.Name,
			"role": tok.Role, "scopes": tok.Scopes, "prefix": tok.Prefix, "expires_at": tok.ExpiresAt,
		})
	}
	fmt.Fprintf(stdout, "token %s\n\nIt is shown only now: keep it safe.\n", tok.secret)
	return nil
}

// newSecretToken is an API token with the secret that is shown once.
type newSecretToken struct {
	*roster.APIToken
	secret string
}

func newToken(name, role string, scopes []string) (newSecretToken, error) {
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		return newSecretToken{}, err
	}
	return newSecretToken{
		APIToken: &roster.APIToken{Name: name, Role: role, Scopes: scopes, Prefix: prefix, Hash: hash},
		secret:   secret,
	}, nil
}

// openQuiet opens the database for a one-shot command, logging only warnings.
func openQuiet(ctx context.Context, cfg Config, stderr io.Writer) (*store.DB, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, _, err := openDatabase(ctx, cfg.DatabaseURL, log)
	return db, err
}

// describe turns a domain error into a message for the command line.
func describe(err error) error {
	if code := roster.ErrorCode(err); code != roster.EINTERNAL {
		msg := roster.ErrorMessage(err)
		for _, f := range roster.ErrorFields(err) {
			msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Message)
		}
		return fmt.Errorf("%s", msg)
	}
	return err
}
