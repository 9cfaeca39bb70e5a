package store_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestCountUsersMatchesTheList counts what the users list shows, filter by
// filter: the counters and the list must agree, or the console's "N
// matching" would promise what a bulk action does not do.
func TestCountUsersMatchesTheList(t *testing.T) {
	users, tenantID, all := listFixture(t)
	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for i, methods := range []string{"{totp}", "{sms,totp}", "{passkey}", "{email}"} {
		if _, err := raw.Exec(`UPDATE users SET mfa_methods = $3 WHERE tenant_id = $1 AND id = $2`,
			tenantID, all[i*3+1].ID, methods); err != nil {
			t.Fatal(err)
		}
	}
	yes, no := true, false
	for _, f := range []roster.UserFilter{
		{},
		{Role: roster.RoleAdmin},
		{Active: &yes},
		{Active: &no, Role: roster.RoleViewer},
		{MFA: &yes},
		{MFA: &no, Active: &yes},
		{MFAMethod: roster.MFATOTP},
		{MFAMethod: roster.MFASMS, MFA: &no},
		{MFAMethod: roster.MFAPasskey, Role: roster.RoleDeveloper},
		{Query: "bob"},
		{Query: "ADAMS", Active: &yes, MFA: &no},
		{Query: "nobody-has-this"},
	} {
		got, err := users.CountUsers(context.Background(), tenantID, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		f.Limit = 200
		if want := len(walk(t, users, tenantID, f)); got.Count != int64(want) || got.Capped {
			t.Errorf("count of %+v: %+v, the list has %d", f, got, want)
		}
	}
}

func TestCountUsersRefusesABadFilterAndStaysInItsTenant(t *testing.T) {
	users, tenantID, _ := listFixture(t)
	for _, f := range []roster.UserFilter{{Role: "owner"}, {MFAMethod: "pigeon"}, {Query: "a\x00b"}} {
		_, err := users.CountUsers(context.Background(), tenantID, f)
		wantCode(t, err, roster.EINVALID)
	}
	other := MustTenant(t, MustOpen(t))
	for _, f := range []roster.UserFilter{{}, {Query: "example"}} {
		got, err := users.CountUsers(context.Background(), other.Tenant.ID, f)
		if err != nil || got.Count != 1 {
			t.Fatalf("another tenant's count of %+v: %+v %v, want its admin alone", f, got, err)
		}
	}
}

// TestCountUsersCapsASearch finds more matches than the cap: the answer
// says so instead of counting on.
func TestCountUsersCapsASearch(t *testing.T) {
	db := MustOpen(t)
	b := MustTenant(t, db)
	if _, err := db.SeedUsers(context.Background(), b.Tenant.ID, roster.UserCountCap+50); err != nil {
		t.Fatal(err)
	}
	users := store.NewUserService(db)
	got, err := users.CountUsers(context.Background(), b.Tenant.ID, roster.UserFilter{Query: "example"})
	if err != nil || got.Count != roster.UserCountCap || !got.Capped {
		t.Fatalf("count of a search matching everyone: %+v %v, want capped at %d", got, err, roster.UserCountCap)
	}
	got, err = users.CountUsers(context.Background(), b.Tenant.ID, roster.UserFilter{})
	if err != nil || got.Count != roster.UserCountCap+51 || got.Capped {
		t.Fatalf("count without a search: %+v %v, want exactly %d", got, err, roster.UserCountCap+51)
	}
}
