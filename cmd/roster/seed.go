package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// runSeed loads synthetic users into a tenant.
func runSeed(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	users := fs.Int("users", 1000, "how many users to load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("seed needs --tenant")
	}
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	n, err := db.SeedUsers(ctx, *tenant, *users)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "seeded %d users in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
