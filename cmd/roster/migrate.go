package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// runMigrate applies pending migrations and reports where the database is.
func runMigrate(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// splitComma splits a comma-separated flag value, dropping empty items.
func splitComma(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
