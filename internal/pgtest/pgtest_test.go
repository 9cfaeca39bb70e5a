package pgtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/pglocal"
	"github.com/rosterhq/roster/internal/pgtest"
)

var testDSN string

// TestMain also checks that Run dropped the database once the tests were done.
func TestMain(m *testing.M) {
	code := pgtest.Run(m, &testDSN)
	if code == 0 {
		if err := checkDropped(testDSN); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest_test: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func TestRun(t *testing.T) {
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var name string
	if err := db.QueryRowContext(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatalf("connect to %s: %v", testDSN, err)
	}
	if !strings.HasPrefix(name, "roster_test_") || len(name) != len("roster_test_")+8 {
		t.Errorf("database = %q, want roster_test_ and 8 hex digits", name)
	}
	var migrated bool
	if err := db.QueryRowContext(t.Context(), `SELECT to_regclass('users') IS NOT NULL`).Scan(&migrated); err != nil {
		t.Fatal(err)
	}
	if !migrated {
		t.Error("table users missing: database not migrated")
	}
}

func checkDropped(dsn string) error {
	ctx := context.Background()
	server, err := pglocal.Find(ctx, nil)
	if err != nil {
		return err
	}
	db, err := sql.Open("postgres", server)
	if err != nil {
		return err
	}
	defer db.Close()
	name := dsn[strings.LastIndex(dsn, "/")+1:]
	name, _, _ = strings.Cut(name, "?")
	var exists bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("database %s was not dropped", name)
	}
	return nil
}
