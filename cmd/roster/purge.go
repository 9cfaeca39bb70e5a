package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/rosterhq/roster/store"
)

// runPurge deletes what the retention rules let go now, as the workers do
// every hour, or with --dry-run counts it.
func runPurge(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "count what would be deleted, delete nothing")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, ok, err := store.NewPurgeService(db).Purge(ctx, *dryRun)
	if err != nil {
		return describe(err)
	}
	if !ok {
		return fmt.Errorf("another process is purging now: try again later")
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"dry_run": *dryRun, "deleted": rep})
	}
	verb := "deleted"
	if *dryRun {
		verb = "would delete"
	}
	fmt.Fprintf(stdout, "%s: %d audit events, %d sign-ins, %d second-factor challenges, %d passkey ceremonies, %d mails\n",
		verb, rep.AuditEvents, rep.SignIns, rep.MFAChallenges, rep.WebAuthnSessions, rep.Mail)
	return nil
}
