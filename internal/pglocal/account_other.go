//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package pglocal

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
)

// account runs initdb and pg_ctl as the current user.
type account struct{}

func serverAccount() (account, error) { return account{}, nil }

func (account) chown(string) error { return nil }

func (account) run(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// lockFile does not lock here: there is no flock.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
