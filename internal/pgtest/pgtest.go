// Package pgtest gives each test binary its own freshly migrated database.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/rosterhq/roster/internal/pglocal"
	"github.com/rosterhq/roster/migrations"
)

// Run creates and migrates a database named roster_test_<random>, stores its
// DSN in *dsn, runs the tests and drops the database. It returns the exit code
// for os.Exit: 1, with the reason on stderr, when there is no database to test
// against, because a missing database is a broken setup, not a reason to skip.
//
//	var testDSN string
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &testDSN)) }
func Run(m *testing.M, dsn *string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	server, name, err := setup(ctx, dsn)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}

	code := m.Run()

	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pglocal.DropDatabase(ctx, server, name); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
	return code
}

// setup returns the server and the name of the database it made.
func setup(ctx context.Context, dsn *string) (server, name string, err error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	server, err = pglocal.Find(ctx, log)
	if err != nil {
		return "", "", fmt.Errorf("no PostgreSQL to test against: %w", err)
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random name: %w", err)
	}
	name = "roster_test_" + hex.EncodeToString(b)
	testDSN, err := pglocal.EnsureDatabase(ctx, server, name)
	if err != nil {
		return "", "", err
	}
	if err := forgoDurability(ctx, server, name); err != nil {
		return "", "", err
	}
	if err := migrate(ctx, testDSN); err != nil {
		if dropErr := pglocal.DropDatabase(ctx, server, name); dropErr != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", dropErr)
		}
		return "", "", err
	}
	*dsn = testDSN
	return server, name, nil
}

// forgoDurability lets the test database's commits return before their
// WAL reaches the disk. No test crashes the server, and on a machine busy
// with the whole suite an fsync per commit made a 1,101-user bulk job,
// which commits once per user, take minutes.
func forgoDurability(ctx context.Context, server, name string) error {
	db, err := sql.Open("postgres", server)
	if err != nil {
		return fmt.Errorf("open server: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `ALTER DATABASE `+pq.QuoteIdentifier(name)+` SET synchronous_commit = off`); err != nil {
		return fmt.Errorf("test database without synchronous commit: %w", err)
	}
	return nil
}

func migrate(ctx context.Context, dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("open test database: %w", err)
	}
	defer db.Close()
	if err := migrations.Up(ctx, db); err != nil {
		return fmt.Errorf("migrate test database: %w", err)
	}
	return nil
}

// NewDatabase creates and migrates a database of the test's own, dropped
// when the test ends, and returns its DSN: for a test whose processes
// would otherwise share the package's database with tests running beside
// it (background workers take any tenant's jobs and mail).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var dsn string
	server, name, err := setup(ctx, &dsn)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := pglocal.DropDatabase(ctx, server, name); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return dsn
}
