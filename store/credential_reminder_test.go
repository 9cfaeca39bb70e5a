package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

// TestExpiryRemindersAreQueuedOnce runs the reminders from several workers
// at once, as replicas do: each expiring key and service token gets one
// mail, and a credential that expires later none.
func TestExpiryRemindersAreQueuedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpen(t)
	a := MustTenant(t, db)
	box, err := auth.NewSecretBox([]byte("roster-store-tests-encryption-k!"))
	if err != nil {
		t.Fatal(err)
	}
	owner := MustCreateUser(t, store.NewUserService(db), a.Tenant.ID, roster.User{Email: "owner-" + randomHex(t) + "@example.com", Active: true})
	tokens, vault := store.NewTokenService(db), store.NewServiceTokenService(db, box)
	for _, days := range []int{2, 20} {
		k := mustToken(t, "")
		at := time.Now().Add(time.Duration(days) * 24 * time.Hour)
		k.Kind, k.UserID, k.Scopes, k.ExpiresAt = roster.TokenPersonal, &owner.ID, []string{"users:read"}, &at
		if err := tokens.CreateAPIKey(ctx, a.Tenant.ID, testActor, k); err != nil {
			t.Fatal(err)
		}
		if _, _, err := vault.PutServiceToken(ctx, a.Tenant.ID, testActor, &roster.ServiceToken{UserID: owner.ID,
			Service: "svc-" + strings.ToLower(randomHex(t)[:6]), Token: "secret-" + randomHex(t), ExpiresAt: &at}); err != nil {
			t.Fatal(err)
		}
	}
	reminders := store.NewCredentialReminders(db)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				n, err := reminders.RemindExpiringCredentials(ctx, 1)
				if err != nil {
					t.Error(err)
				}
				if n == 0 || err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	var mails int
	if err := openSQL(t).QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND recipient = $2`,
		a.Tenant.ID, owner.Email).Scan(&mails); err != nil {
		t.Fatal(err)
	}
	if mails != 2 {
		t.Fatalf("%d reminders queued, want 2 (one key, one service token)", mails)
	}
}

// TestDefaultRoleIsTheTenants: a user created without a role gets the
// tenant's default role.
func TestDefaultRoleIsTheTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpen(t)
	a := MustTenant(t, db)
	role := roster.RoleDeveloper
	if _, err := store.NewTenantService(db).UpdateTenantSettings(ctx, a.Tenant.ID, testActor, roster.TenantSettingsUpdate{DefaultRole: &role}); err != nil {
		t.Fatal(err)
	}
	u, err := store.NewUserService(db).CreateUser(ctx, a.Tenant.ID, testActor, roster.NewUser())
	if err == nil || roster.ErrorCode(err) != roster.EINVALID {
		t.Fatalf("a user without an email: %v", err)
	}
	in := roster.NewUser()
	in.Email = "default-" + randomHex(t) + "@example.com"
	if u, err = store.NewUserService(db).CreateUser(ctx, a.Tenant.ID, testActor, in); err != nil || u.Role != roster.RoleDeveloper {
		t.Fatalf("created: %v %+v", err, u)
	}
}
