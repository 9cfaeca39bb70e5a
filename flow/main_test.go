package flow_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store"
)

var testDSN string

func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(m, &testDSN))
}

// flows is the service as roster serve builds it, reached past HTTP: each
// flow called as a Go method, on the package's test database.
type flows struct {
	*app.App
	DB     *store.DB
	Tenant *roster.Bootstrap
	by     roster.Actor
}

// newFlows builds the service, with cfg's mailer and SMS sender, and a
// tenant of the test's own.
func newFlows(t *testing.T, cfg app.Config) *flows {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.PublicURL = "http://roster.test"
	cfg.EncryptionKey = []byte("roster-flow-tests-encryption-key")
	a, err := app.New(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b := &roster.Bootstrap{
		Tenant:     &roster.Tenant{Name: "Flows " + randomHex(t)},
		Admin:      &roster.User{Email: "admin-" + randomHex(t) + "@example.com", Role: roster.RoleAdmin, Active: true},
		AdminToken: newToken(t),
		SCIMToken:  newToken(t),
	}
	if err := store.NewTenantService(db).CreateTenant(ctx, b); err != nil {
		t.Fatal(err)
	}
	return &flows{App: a, DB: db, Tenant: b, by: roster.Actor{Type: roster.ActorSystem, ID: "flow-test"}}
}

// newUser creates an active user of the tenant with password, set
// through the password flow as every path sets one.
func (f *flows) newUser(t *testing.T, email, password string) *roster.User {
	t.Helper()
	u := &roster.User{Email: email, Role: roster.RoleViewer, Active: true}
	if err := f.Passwords.SetPassword(t.Context(), f.Tenant.Tenant.ID, u, password); err != nil {
		t.Fatal(err)
	}
	created, err := store.NewUserService(f.DB).CreateUser(t.Context(), f.Tenant.Tenant.ID, f.by, u)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func newToken(t *testing.T) *roster.APIToken {
	_, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	return &roster.APIToken{Name: "test", Role: roster.RoleAdmin, Prefix: prefix, Hash: hash}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := roster.ErrorCode(err); got != code {
		t.Fatalf("error %v (%s), want %s", err, got, code)
	}
}
