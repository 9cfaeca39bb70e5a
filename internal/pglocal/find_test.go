package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	ctx := t.Context()
	dsn, err := Find(ctx, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	mustSelectOne(t, dsn)
}

// TestStartPrivate starts a throwaway private server on a free port, as the
// postgres system user when the test runs as root.
func TestStartPrivate(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	parent, err := os.MkdirTemp("", "roster-pglocal-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	// As root the server runs as postgres, which must be able to enter it.
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := options{dataDir: filepath.Join(parent, "data"), port: freePort(t)}
	t.Cleanup(func() { stopPrivate(t, opts.dataDir) })

	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	dsn, err := startPrivate(ctx, log, opts)
	if err != nil {
		t.Fatalf("startPrivate: %v", err)
	}
	if want := tcpDSN("postgres", "127.0.0.1", opts.port); dsn != want {
		t.Errorf("dsn = %q, want %q", dsn, want)
	}
	mustSelectOne(t, dsn)

	// A second start finds the server already running.
	again, err := startPrivate(ctx, log, opts)
	if err != nil {
		t.Fatalf("startPrivate again: %v", err)
	}
	if again != dsn {
		t.Errorf("second dsn = %q, want %q", again, dsn)
	}
}

func stopPrivate(t *testing.T, dataDir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); errors.Is(err, fs.ErrNotExist) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := binDir(ctx)
	if err != nil {
		t.Errorf("stop private server: %v", err)
		return
	}
	acct, err := serverAccount()
	if err != nil {
		t.Errorf("stop private server: %v", err)
		return
	}
	if err := acct.run(ctx, dataDir, filepath.Join(bin, "pg_ctl"), "stop", "-D", dataDir, "-m", "fast", "-w"); err != nil {
		t.Errorf("pg_ctl stop: %v", err)
	}
}

func TestCandidates(t *testing.T) {
	dsns := candidates(6543)
	if got, want := dsns[0], "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"; got != want {
		t.Errorf("first candidate = %q, want %q", got, want)
	}
	if got, want := dsns[1], "postgres://postgres@/postgres?host=/var/run/postgresql&sslmode=disable"; got != want {
		t.Errorf("second candidate = %q, want %q", got, want)
	}
	if got := dsns[len(dsns)-1]; !strings.Contains(got, "127.0.0.1:6543") {
		t.Errorf("last candidate = %q, want the private port", got)
	}
}

func mustSelectOne(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRowContext(t.Context(), `SELECT 1`).Scan(&one); err != nil {
		t.Fatalf("select 1 on %s: %v", dsn, err)
	}
	if one != 1 {
		t.Fatalf("select 1 = %d", one)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
