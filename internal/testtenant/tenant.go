// Package testtenant makes tenants with API tokens of each role for the
// tests of the transports (api, graphql), on a real database.
package testtenant

import (
	"context"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

// Tenant is a tenant made for a test, with an API token of each role.
type Tenant struct {
	ID        string
	AdminID   string
	Admin     string // admin API token, acting for AdminID
	Developer string
	Viewer    string
	SCIM      string // admin role narrowed to the scim:provision scope
}

// NewTenant creates a tenant on the free plan with its first admin and
// tokens in db.
func NewTenant(tb testing.TB, db *store.DB) Tenant {
	tb.Helper()
	return NewTenantOnPlan(tb, db, roster.PlanFree)
}

// NewTenantOnPlan is NewTenant on plan.
func NewTenantOnPlan(tb testing.TB, db *store.DB, plan string) Tenant {
	tb.Helper()
	adminSecret, adminToken := NewSecretToken(tb, "admin", roster.RoleAdmin, nil)
	scimSecret, scimToken := NewSecretToken(tb, "scim", roster.RoleAdmin, []string{string(roster.PermSCIMProvision)})
	b := &roster.Bootstrap{
		Tenant:     &roster.Tenant{Name: "Tenant " + adminToken.Prefix[4:], Plan: plan},
		Admin:      &roster.User{Email: "admin-" + strings.ToLower(adminToken.Prefix[4:]) + "@example.com", Role: roster.RoleAdmin, Active: true},
		AdminToken: adminToken,
		SCIMToken:  scimToken,
	}
	if err := store.NewTenantService(db).CreateTenant(context.Background(), b); err != nil {
		tb.Fatal(err)
	}
	c := Tenant{ID: b.Tenant.ID, AdminID: b.Admin.ID, Admin: adminSecret, SCIM: scimSecret}
	c.Developer = CreateToken(tb, db, c.ID, roster.RoleDeveloper, nil)
	c.Viewer = CreateToken(tb, db, c.ID, roster.RoleViewer, nil)
	return c
}

// CreateToken creates an API token of role in a tenant and returns its
// secret; mutate, when not nil, changes it first.
func CreateToken(tb testing.TB, db *store.DB, tenantID, role string, mutate func(*roster.APIToken)) string {
	tb.Helper()
	secret, tok := NewSecretToken(tb, role, role, nil)
	if mutate != nil {
		mutate(tok)
	}
	err := store.NewTokenService(db).CreateToken(context.Background(), tenantID, roster.Actor{Type: roster.ActorSystem, ID: "test"}, tok)
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

// NewSecretToken makes an API token, not stored, and its secret.
func NewSecretToken(tb testing.TB, name, role string, scopes []string) (string, *roster.APIToken) {
	tb.Helper()
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		tb.Fatal(err)
	}
	return secret, &roster.APIToken{Name: name, Role: role, Scopes: scopes, Prefix: prefix, Hash: hash}
}
