package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

// runKeysRotate adds a new signing key for Roster's own tokens. It is
// published in the JWKS at once and signs after --publish-ahead, so that
// every replica and every client caching the JWKS knows it first; the old
// key stays published, so tokens it signed stay valid until they expire.
func runKeysRotate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ahead := fs.Duration("publish-ahead", time.Hour, "how long the new key is published before it signs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ahead < 0 {
		return fmt.Errorf("--publish-ahead must not be negative")
	}
	db, err := openQuiet(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := NewMain(cfg, stderr).encryptionKey()
	if err != nil {
		return err
	}
	box, err := auth.NewSecretBox(key)
	if err != nil {
		return err
	}
	if err := auth.NewKeyring(store.NewSigningKeyService(db), box).Rotate(ctx, *ahead); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "a new signing key is published now and signs from %s\n",
		time.Now().Add(*ahead).UTC().Format(time.RFC3339))
	return nil
}
