package pglocal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"strings"
	"testing"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		dsn, name, want string
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "roster",
			"postgres://postgres@127.0.0.1:5432/roster?sslmode=disable"},
		{"postgres://postgres@/postgres?host=/var/run/postgresql&sslmode=disable", "roster",
			"postgres://postgres@/roster?host=/var/run/postgresql&sslmode=disable"},
		{"postgresql://u:secret@db.example:5432", "Roster Test",
			"postgresql://u:secret@db.example:5432/Roster%20Test"},
		{"postgres://u@h/old?dbname=old&sslmode=require", "new",
			"postgres://u@h/new?sslmode=require"},
	}
	for _, tt := range tests {
		got, err := WithDatabase(tt.dsn, tt.name)
		if err != nil {
			t.Errorf("WithDatabase(%q, %q): %v", tt.dsn, tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("WithDatabase(%q, %q) = %q, want %q", tt.dsn, tt.name, got, tt.want)
		}
	}

	for _, dsn := range []string{"host=h user=u password=secret", "postgres://u:secret@h:bad port/db", "mysql://u@h/db"} {
		_, err := WithDatabase(dsn, "x")
		if err == nil {
			t.Errorf("WithDatabase(%q): no error", dsn)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("WithDatabase(%q): error shows the password: %v", dsn, err)
		}
	}
}

func TestEnsureDatabase(t *testing.T) {
	ctx := t.Context()
	server, err := Find(ctx, nil)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	// Upper case and a space check that the name is quoted everywhere.
	name := "roster pglocal_Test_" + rand.Text()[:8]
	t.Cleanup(func() {
		if err := DropDatabase(context.Background(), server, name); err != nil {
			t.Error(err)
		}
	})

	first, err := EnsureDatabase(ctx, server, name)
	if err != nil {
		t.Fatalf("EnsureDatabase: %v", err)
	}
	second, err := EnsureDatabase(ctx, server, name)
	if err != nil {
		t.Fatalf("EnsureDatabase again: %v", err)
	}
	if first != second {
		t.Errorf("DSNs differ: %q, %q", first, second)
	}
	if got := currentDatabase(t, first); got != name {
		t.Errorf("current_database() = %q, want %q", got, name)
	}

	// Open a session that DropDatabase must force out.
	db, err := sql.Open("postgres", first)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := DropDatabase(ctx, server, name); err != nil {
		t.Fatalf("DropDatabase: %v", err)
	}
	if err := DropDatabase(ctx, server, name); err != nil {
		t.Fatalf("DropDatabase of a missing database: %v", err)
	}
	if exists := databaseExists(t, server, name); exists {
		t.Errorf("database %q still exists", name)
	}
}

func currentDatabase(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRowContext(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func databaseExists(t *testing.T, server, name string) bool {
	t.Helper()
	db, err := sql.Open("postgres", server)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var exists bool
	err = db.QueryRowContext(t.Context(),
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	return exists
}
