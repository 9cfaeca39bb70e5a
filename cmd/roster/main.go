// Command roster is Roster's one binary: the service and its operator tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `roster: a multi-tenant user directory and account-security service

Usage:
  roster serve                      run the service (settings from the environment)
  roster migrate                    apply pending database migrations
  roster tenant create --name NAME --admin-email EMAIL [--slug SLUG] [--plan free|professional|enterprise] [--json]
  roster user reset-link --tenant ID|SLUG --email EMAIL [--json]  a new setup link (password) for a user
  roster token create --tenant ID --role ROLE --name NAME [--scopes a,b] [--expires 720h] [--json]
  roster seed --tenant ID --users N load N synthetic users (for demos and benchmarks)
  roster purge [--dry-run] [--json]  delete what retention lets go (the workers do it hourly)
  roster keys rotate [--publish-ahead 1h]  add a signing key for Roster's own tokens
  roster version

Environment: DATABASE_URL (else a local PostgreSQL is found or started),
ROSTER_ADDR, ROSTER_JWKS_URL, ROSTER_JWT_ISSUER, ROSTER_JWT_AUDIENCE,
ROSTER_LOG_FORMAT, ROSTER_MAX_BODY_BYTES, ROSTER_GRAPHQL_MAX_DEPTH,
ROSTER_GRAPHQL_MAX_COMPLEXITY, ROSTER_GRAPHQL_MAX_TOKENS, ROSTER_GRAPHQL_MAX_ALIASES.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "roster:", err)
		}
		os.Exit(1)
	}
}

// run dispatches a command line; it is main without the process around it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	cmd, rest := args[0], args[1:]
	switch {
	case cmd == "serve":
		return runServe(ctx, cfg, stderr)
	case cmd == "migrate":
		return runMigrate(ctx, cfg, stdout, stderr)
	case cmd == "tenant" && len(rest) > 0 && rest[0] == "create":
		return runTenantCreate(ctx, cfg, rest[1:], stdout, stderr)
	case cmd == "token" && len(rest) > 0 && rest[0] == "create":
		return runTokenCreate(ctx, cfg, rest[1:], stdout, stderr)
	case cmd == "user" && len(rest) > 0 && rest[0] == "reset-link":
		return runUserResetLink(ctx, cfg, rest[1:], stdout, stderr)
	case cmd == "keys" && len(rest) > 0 && rest[0] == "rotate":
		return runKeysRotate(ctx, cfg, rest[1:], stdout, stderr)
	case cmd == "seed":
		return runSeed(ctx, cfg, rest, stdout, stderr)
	case cmd == "purge":
		return runPurge(ctx, cfg, rest, stdout, stderr)
	case cmd == "version":
		fmt.Fprintln(stdout, "roster", version)
		return nil
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
