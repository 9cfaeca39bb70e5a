package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestWebAuthnSessionsAreSingleUseAndScoped(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	a, b := MustTenant(t, db), MustTenant(t, db)
	s := store.NewPasskeyService(db)
	userID := a.Admin.ID
	ws := &roster.WebAuthnSession{TenantID: a.Tenant.ID, Kind: roster.WebAuthnRegistration, UserID: userID,
		Challenge: randomHex(t), Data: json.RawMessage(`{"challenge":"x"}`), ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateWebAuthnSession(ctx, ws); err != nil {
		t.Fatal(err)
	}
	// Not for another tenant, kind or user.
	for _, try := range []struct{ tenant, kind, user string }{
		{b.Tenant.ID, roster.WebAuthnRegistration, userID},
		{a.Tenant.ID, roster.WebAuthnLogin, userID},
		{a.Tenant.ID, roster.WebAuthnRegistration, b.Admin.ID},
		{a.Tenant.ID, roster.WebAuthnRegistration, ""},
	} {
		_, err := s.TakeWebAuthnSession(ctx, try.tenant, try.kind, try.user, ws.Challenge)
		wantCode(t, err, roster.ENOTFOUND)
	}
	// Two finishes at once: one gets it.
	var wg sync.WaitGroup
	got := make(chan *roster.WebAuthnSession, 4)
	for range 4 {
		wg.Go(func() {
			if taken, err := s.TakeWebAuthnSession(ctx, a.Tenant.ID, roster.WebAuthnRegistration, userID, ws.Challenge); err == nil {
				got <- taken
			}
		})
	}
	wg.Wait()
	close(got)
	if n := len(got); n != 1 {
		t.Fatalf("%d finishes took the ceremony, want 1", n)
	}
	var data struct{ Challenge string }
	if taken := <-got; taken.ID != ws.ID || json.Unmarshal(taken.Data, &data) != nil || data.Challenge != "x" {
		t.Fatalf("taken %+v", taken)
	}
}

func TestPasskeysKeepMFAMethodsInStep(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	a := MustTenant(t, db)
	s := store.NewPasskeyService(db)
	userID := a.Admin.ID
	p1 := &roster.Passkey{UserID: userID, CredentialID: []byte("cred-1" + randomHex(t)), PublicKey: []byte{1}, Name: "one"}
	p2 := &roster.Passkey{UserID: userID, CredentialID: []byte("cred-2" + randomHex(t)), PublicKey: []byte{2}, Name: "two"}
	for _, p := range []*roster.Passkey{p1, p2} {
		if err := s.CreatePasskey(ctx, a.Tenant.ID, testActor, p); err != nil {
			t.Fatal(err)
		}
	}
	dup := &roster.Passkey{UserID: userID, CredentialID: p1.CredentialID, PublicKey: []byte{1}, Name: "again"}
	wantCode(t, s.CreatePasskey(ctx, a.Tenant.ID, testActor, dup), roster.ECONFLICT)
	methods := func() []string {
		st, err := store.NewMFAService(db).FindMFAStatus(ctx, a.Tenant.ID, userID)
		if err != nil {
			t.Fatal(err)
		}
		return st.Methods
	}
	if m := methods(); len(m) != 1 || m[0] != roster.MFAPasskey {
		t.Fatalf("methods %v", m)
	}
	if _, err := s.DeletePasskey(ctx, a.Tenant.ID, testActor, userID, p1.ID); err != nil {
		t.Fatal(err)
	}
	if m := methods(); len(m) != 1 {
		t.Fatalf("methods %v with a passkey left", m)
	}
	if _, err := s.DeletePasskey(ctx, a.Tenant.ID, testActor, userID, p2.ID); err != nil {
		t.Fatal(err)
	}
	if m := methods(); len(m) != 0 {
		t.Fatalf("methods %v with no passkey left", m)
	}
	_, err := s.DeletePasskey(ctx, a.Tenant.ID, testActor, userID, p2.ID)
	wantCode(t, err, roster.ENOTFOUND)
}
