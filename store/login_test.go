package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	db := MustOpen(t)
	logins, sessions := store.NewLoginService(db), store.NewSessionService(db)
	b := MustTenant(t, db)
	ctx := context.Background()
	user := b.Admin.ID
	newSession := func(hash string) *roster.RefreshToken {
		rt := &roster.RefreshToken{TenantID: b.Tenant.ID, UserID: user, Hash: []byte(hash + randomHex(t)), AMR: []string{"pwd"},
			AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := sessions.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		return rt
	}
	keep, other := newSession("keep"), newSession("other")
	if err := logins.ChangePassword(ctx, b.Tenant.ID, testActor, user, "$argon2id$new", keep.FamilyID); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.UseRefreshToken(ctx, keep.Hash); err != nil {
		t.Fatalf("the kept session: %v", err)
	}
	_, err := sessions.UseRefreshToken(ctx, other.Hash)
	wantCode(t, err, roster.EUNAUTHORIZED)
	l, err := logins.FindLoginByID(ctx, b.Tenant.ID, user)
	if err != nil || l.PasswordHash != "$argon2id$new" {
		t.Fatalf("login after the change: %+v %v", l, err)
	}
	// With no session to keep, every one ends.
	last := newSession("last")
	if err := logins.ChangePassword(ctx, b.Tenant.ID, testActor, user, "$argon2id$newer", ""); err != nil {
		t.Fatal(err)
	}
	_, err = sessions.UseRefreshToken(ctx, last.Hash)
	wantCode(t, err, roster.EUNAUTHORIZED)
	wantCode(t, logins.ChangePassword(ctx, MustTenant(t, db).Tenant.ID, testActor, user, "x", ""), roster.ENOTFOUND)
}
