package migrations_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/pglocal"
	"github.com/rosterhq/roster/migrations"
)

func TestUp(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, freshDatabase(t))

	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("Up: %v", err)
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("Up again: %v", err)
	}
	current, latest, err := migrations.Status(ctx, db)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if current != latest || latest < 1 {
		t.Errorf("Status = %d, %d; want equal and at least 1", current, latest)
	}
	mustHaveSchema(t, db)
}

func TestStatusFresh(t *testing.T) {
	db := openDB(t, freshDatabase(t))
	current, latest, err := migrations.Status(t.Context(), db)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if current != 0 || latest < 1 {
		t.Errorf("Status = %d, %d; want 0 and at least 1", current, latest)
	}
}

// TestUpConcurrent migrates one database from four pools at once, as four
// processes starting together would.
func TestUpConcurrent(t *testing.T) {
	dsn := freshDatabase(t)
	const n = 4
	dbs := make([]*sql.DB, n)
	for i := range dbs {
		dbs[i] = openDB(t, dsn)
	}

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, db := range dbs {
		wg.Go(func() { errs[i] = migrations.Up(t.Context(), db) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Up #%d: %v", i, err)
		}
	}

	db := dbs[0]
	mustHaveSchema(t, db)
	var applied, versions int
	err := db.QueryRowContext(t.Context(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).
		Scan(&applied, &versions)
	if err != nil {
		t.Fatal(err)
	}
	if applied != versions {
		t.Errorf("goose_db_version holds %d rows for %d versions; some migration ran twice", applied, versions)
	}
}

// freshDatabase creates an empty database, dropped when the test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	server, err := pglocal.Find(t.Context(), nil)
	if err != nil {
		t.Fatalf("no PostgreSQL: %v", err)
	}
	name := "roster_migrations_" + strings.ToLower(rand.Text()[:8])
	dsn, err := pglocal.EnsureDatabase(t.Context(), server, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pglocal.DropDatabase(context.Background(), server, name); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustHaveSchema(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, table := range []string{"tenants", "users", "api_tokens", "audit_events"} {
		var found bool
		err := db.QueryRowContext(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&found)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Errorf("table %s missing", table)
		}
	}
}
