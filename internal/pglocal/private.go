package pglocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// startPrivate starts (initialising it first if need be) the private server
// described by opts and waits until it answers. The server is left running.
func startPrivate(ctx context.Context, log *slog.Logger, opts options) (string, error) {
	dir := opts.dataDir
	if dir == "" {
		d, err := defaultDataDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("pglocal: data folder: %w", err)
	}
	dsn := tcpDSN("postgres", "127.0.0.1", opts.port)

	bin, err := binDir(ctx)
	if err != nil {
		return "", err
	}
	acct, err := serverAccount()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("pglocal: data folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("pglocal: data folder: %w", err)
	}
	if err := acct.chown(dir); err != nil {
		return "", fmt.Errorf("pglocal: data folder: %w", err)
	}

	// Test binaries run in parallel and may all get here at once; the lock
	// file sits beside the folder because initdb wants the folder empty.
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if ping(ctx, dsn) == nil {
		log.Info("postgres: using private server", "dsn", dsn, "data", dir)
		return dsn, nil
	}

	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		log.Info("postgres: initialising private data folder", "data", dir)
		if err := acct.run(ctx, dir, filepath.Join(bin, "initdb"),
			"-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
			return "", fmt.Errorf("pglocal: initdb: %w", err)
		}
	}

	logFile := filepath.Join(dir, "server.log")
	// pg_ctl hands -o to /bin/sh, hence the quoting.
	serverOpts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", opts.port, shellQuote(dir))
	if err := acct.run(ctx, dir, filepath.Join(bin, "pg_ctl"),
		"start", "-D", dir, "-l", logFile, "-w", "-t", "60", "-o", serverOpts); err != nil {
		return "", fmt.Errorf("pglocal: pg_ctl start: %w\n%s", err, tail(logFile))
	}
	if err := waitReady(ctx, dsn, 30*time.Second); err != nil {
		return "", fmt.Errorf("%w\n%s", err, tail(logFile))
	}
	log.Info("postgres: started private server", "dsn", dsn, "data", dir, "log", logFile)
	return dsn, nil
}

// defaultDataDir is per user, except for root: PostgreSQL will not run as root,
// so its server runs as the postgres system user, which cannot enter /root.
func defaultDataDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/tmp/roster/postgres", nil
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("pglocal: data folder: %w", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "roster", "postgres"), nil
}

// binDir locates the folder holding initdb and pg_ctl.
func binDir(ctx context.Context) (string, error) {
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		// Debian's pg_config may belong to libpq-dev with no server beside it.
		if dir := strings.TrimSpace(string(out)); hasInitdb(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return compareVersion(b, a) })
	for _, dir := range dirs {
		if hasInitdb(dir) {
			return dir, nil
		}
	}
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	return "", errors.New("pglocal: no PostgreSQL server binaries (initdb) found: install PostgreSQL or set DATABASE_URL")
}

// compareVersion orders /usr/lib/postgresql/<version>/bin folders numerically.
func compareVersion(a, b string) int {
	va, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
	vb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
	switch {
	case va < vb:
		return -1
	case va > vb:
		return 1
	}
	return 0
}

func hasInitdb(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "initdb"))
	return err == nil && fi.Mode().IsRegular()
}

// waitReady polls dsn until it answers, the timeout passes or ctx ends.
func waitReady(ctx context.Context, dsn string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ping(ctx, dsn)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pglocal: private server does not answer: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pglocal: waiting for private server: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tail returns the end of the server log, which says why a start failed.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	const limit = 2000
	if len(b) > limit {
		b = b[len(b)-limit:]
	}
	return "server log " + path + ":\n" + string(b)
}
