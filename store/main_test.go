package store_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store"
)

var testDSN string

func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(m, &testDSN))
}

// mustOwnDatabase returns a store and a plain connection on a fresh
// database of the test's own: for what works across every tenant (a purge,
// a worker's sweep), which other tests' rows would otherwise disturb.
func mustOwnDatabase(tb testing.TB) (*store.DB, *sql.DB) {
	tb.Helper()
	dsn := pgtest.NewDatabase(tb)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return db, raw
}

// MustOpen returns a connection to the package's test database.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), testDSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustTenant creates a fresh tenant with its admin; each test works in
// tenants of its own, which also keeps tests from seeing each other's rows.
func MustTenant(tb testing.TB, db *store.DB) *roster.Bootstrap {
	tb.Helper()
	b := &roster.Bootstrap{
		Tenant:     &roster.Tenant{Name: "Tenant " + randomHex(tb)},
		Admin:      &roster.User{Email: "admin-" + randomHex(tb) + "@example.com", Role: roster.RoleAdmin, Active: true},
		AdminToken: mustToken(tb, roster.RoleAdmin),
		SCIMToken:  mustToken(tb, roster.RoleAdmin),
	}
	if err := store.NewTenantService(db).CreateTenant(context.Background(), b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustToken(tb testing.TB, role string) *roster.APIToken {
	_, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		tb.Fatal(err)
	}
	return &roster.APIToken{Name: "test", Role: role, Prefix: prefix, Hash: hash}
}

// MustCreateUser creates a user in the tenant, failing the test on error.
func MustCreateUser(tb testing.TB, users *store.UserService, tenantID string, u roster.User) *roster.User {
	tb.Helper()
	if u.Role == "" {
		u.Role = roster.RoleViewer
	}
	created, err := users.CreateUser(context.Background(), tenantID, testActor, &u)
	if err != nil {
		tb.Fatalf("create user %s: %v", u.Email, err)
	}
	return created
}

var testActor = roster.Actor{Type: roster.ActorSystem, ID: "test", RequestID: "req-test"}

func randomHex(tb testing.TB) string {
	_, prefix, _, err := auth.NewAPIToken()
	if err != nil {
		tb.Fatal(err)
	}
	return prefix[len(auth.TokenPrefix):]
}

// wantCode fails the test unless err carries the domain code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := roster.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// wantField fails the test unless err names the field.
func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	for _, f := range roster.ErrorFields(err) {
		if f.Field == field {
			return
		}
	}
	tb.Fatalf("error %v does not name field %q (fields: %v)", err, field, roster.ErrorFields(err))
}
