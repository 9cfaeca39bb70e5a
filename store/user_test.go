package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)

	ext := "ext-1"
	u := MustCreateUser(t, users, b.Tenant.ID, roster.User{
		Email: "  Ada.Lovelace@Example.com ", GivenName: "Ada", FamilyName: "Lovelace", ExternalID: &ext, Active: true,
	})
	if u.Email != "Ada.Lovelace@Example.com" || u.UserName != u.Email {
		t.Errorf("email %q, user name %q: want the trimmed email as both", u.Email, u.UserName)
	}
	if u.Version != 1 || u.TenantID != b.Tenant.ID || u.Role != roster.RoleViewer || !u.Active {
		t.Errorf("unexpected new user: %+v", u)
	}
	got, err := users.FindUserByID(ctx, b.Tenant.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != u.Email || *got.ExternalID != ext || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("read back %+v, created %+v", got, u)
	}
}

func TestCreateUserRejectsInvalidInput(t *testing.T) {
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)
	long := strings.Repeat("x", 256)
	for _, tc := range []struct {
		name  string
		user  roster.User
		field string
	}{
		{"missing email", roster.User{Role: "viewer"}, "email"},
		{"malformed email", roster.User{Email: "not-an-email", Role: "viewer"}, "email"},
		{"display-name email", roster.User{Email: "Ada <ada@example.com>", Role: "viewer"}, "email"},
		{"email without domain dot", roster.User{Email: "ada@localhost", Role: "viewer"}, "email"},
		{"underscore in domain", roster.User{Email: "ada@b_c.example", Role: "viewer"}, "email"},
		{"label starts with hyphen", roster.User{Email: "ada@-x.example", Role: "viewer"}, "email"},
		{"local part over 64", roster.User{Email: strings.Repeat("a", 65) + "@example.com", Role: "viewer"}, "email"},
		{"unknown role", roster.User{Email: "a@example.com", Role: "owner"}, "role"},
		{"NUL in a name", roster.User{Email: "a@example.com", Role: "viewer", GivenName: "A\x00da"}, "given_name"},
		{"control character", roster.User{Email: "a@example.com", Role: "viewer", FamilyName: "L\u0007"}, "family_name"},
		{"long display name", roster.User{Email: "a@example.com", Role: "viewer", DisplayName: long}, "display_name"},
		{"long user name", roster.User{Email: "a@example.com", Role: "viewer", UserName: long}, "user_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := users.CreateUser(context.Background(), b.Tenant.ID, testActor, &tc.user)
			wantCode(t, err, roster.EINVALID)
			wantField(t, err, tc.field)
		})
	}
}

func TestUserUniquenessIsCaseInsensitivePerTenant(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)

	MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: "grace@example.com", UserName: "grace"})

	_, err := users.CreateUser(ctx, a.Tenant.ID, testActor, &roster.User{Email: "GRACE@example.com", UserName: "other", Role: "viewer"})
	wantCode(t, err, roster.ECONFLICT)
	wantField(t, err, "email")

	_, err = users.CreateUser(ctx, a.Tenant.ID, testActor, &roster.User{Email: "g2@example.com", UserName: "Grace", Role: "viewer"})
	wantCode(t, err, roster.ECONFLICT)
	wantField(t, err, "user_name")

	// The same person may belong to two organisations.
	MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "grace@example.com", UserName: "grace"})
}

func TestUsersAreInvisibleToOtherTenants(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	u := MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: "alan@example.com"})

	_, err := users.FindUserByID(ctx, b.Tenant.ID, u.ID)
	wantCode(t, err, roster.ENOTFOUND)
	_, err = users.UpdateUser(ctx, b.Tenant.ID, testActor, u.ID, 0, func(u *roster.User) error { u.GivenName = "X"; return nil })
	wantCode(t, err, roster.ENOTFOUND)
	wantCode(t, users.DeleteUser(ctx, b.Tenant.ID, testActor, u.ID, 0), roster.ENOTFOUND)
	page, err := users.FindUsers(ctx, b.Tenant.ID, roster.UserFilter{Query: "alan"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Fatalf("tenant b sees %d of tenant a's users", len(page.Items))
	}
	// And the owner still has it, unchanged.
	got, err := users.FindUserByID(ctx, a.Tenant.ID, u.ID)
	if err != nil || got.GivenName != "" || got.Version != 1 {
		t.Fatalf("tenant a's user changed: %+v, %v", got, err)
	}
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	audit := store.NewAuditService(db)
	b := MustTenant(t, db)
	u := MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "linus@example.com", Active: true})

	updated, err := users.UpdateUser(ctx, b.Tenant.ID, testActor, u.ID, u.Version, func(u *roster.User) error {
		u.GivenName, u.Active = "Linus", false
		u.ID, u.Version = "ignored", 99 // not the caller's to change
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.ID != u.ID || updated.Version != 2 || updated.GivenName != "Linus" || updated.Active {
		t.Fatalf("updated = %+v", updated)
	}

	// Deactivation keeps the user and is audited as such, with the change.
	events, err := audit.FindAuditEvents(ctx, b.Tenant.ID, roster.AuditFilter{TargetID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 2 || events.Items[0].Action != roster.ActionUserDeactivated || events.Items[0].RequestID != "req-test" {
		t.Fatalf("audit events: %+v", events.Items)
	}
	var details struct {
		Changes map[string]struct{ From, To any }
	}
	if err := json.Unmarshal(events.Items[0].Details, &details); err != nil {
		t.Fatal(err)
	}
	if c := details.Changes["given_name"]; c.From != "" || c.To != "Linus" || len(details.Changes) != 2 {
		t.Errorf("details %s: want given_name and active changes", events.Items[0].Details)
	}

	// A write with a stale version is refused and changes nothing.
	_, err = users.UpdateUser(ctx, b.Tenant.ID, testActor, u.ID, 1, func(u *roster.User) error { u.GivenName = "Stale"; return nil })
	wantCode(t, err, roster.EPRECONDITION)

	// A change that writes nothing new neither bumps the version nor audits.
	same, err := users.UpdateUser(ctx, b.Tenant.ID, testActor, u.ID, 0, func(u *roster.User) error { u.GivenName = "Linus"; return nil })
	if err != nil || same.Version != 2 {
		t.Fatalf("no-op update: version %d, err %v", same.Version, err)
	}

	// An invalid result is refused, naming the field.
	_, err = users.UpdateUser(ctx, b.Tenant.ID, testActor, u.ID, 0, func(u *roster.User) error { u.Email = "nope"; return nil })
	wantCode(t, err, roster.EINVALID)
	wantField(t, err, "email")

	events, _ = audit.FindAuditEvents(ctx, b.Tenant.ID, roster.AuditFilter{TargetID: u.ID})
	if len(events.Items) != 2 {
		t.Fatalf("refused and no-op updates wrote audit events: %d events", len(events.Items))
	}
}

func TestUpdateUserConflictWritesNothing(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	audit := store.NewAuditService(db)
	b := MustTenant(t, db)
	MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "taken@example.com"})
	u := MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "free@example.com"})

	_, err := users.UpdateUser(ctx, b.Tenant.ID, testActor, u.ID, 0, func(u *roster.User) error {
		u.Email = "TAKEN@example.com"
		return nil
	})
	wantCode(t, err, roster.ECONFLICT)
	wantField(t, err, "email")
	events, err := audit.FindAuditEvents(ctx, b.Tenant.ID, roster.AuditFilter{TargetID: u.ID, Action: roster.ActionUserUpdated})
	if err != nil || len(events.Items) != 0 {
		t.Fatalf("a failed update left %d audit events (err %v)", len(events.Items), err)
	}
}

func TestLastActiveAdminIsKept(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)
	admin := b.Admin

	deactivate := func(u *roster.User) error { u.Active = false; return nil }
	demote := func(u *roster.User) error { u.Role = roster.RoleViewer; return nil }
	_, err := users.UpdateUser(ctx, b.Tenant.ID, testActor, admin.ID, 0, deactivate)
	wantCode(t, err, roster.ECONFLICT)
	_, err = users.UpdateUser(ctx, b.Tenant.ID, testActor, admin.ID, 0, demote)
	wantCode(t, err, roster.ECONFLICT)
	wantCode(t, users.DeleteUser(ctx, b.Tenant.ID, testActor, admin.ID, 0), roster.ECONFLICT)

	// With a second admin the first may go, but nobody may remove themselves.
	second := MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "second@example.com", Role: roster.RoleAdmin, Active: true})
	self := roster.Actor{Type: roster.PrincipalUser, ID: second.ID, UserID: second.ID}
	_, err = users.UpdateUser(ctx, b.Tenant.ID, self, second.ID, 0, demote)
	wantCode(t, err, roster.ECONFLICT)
	if _, err := users.UpdateUser(ctx, b.Tenant.ID, testActor, admin.ID, 0, demote); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
}

func TestAdminsDemotingEachOtherAtOnceLeaveOne(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)
	second := MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "second@example.com", Role: roster.RoleAdmin, Active: true})

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]*roster.User{{b.Admin, second}, {second, b.Admin}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := roster.Actor{Type: roster.PrincipalUser, ID: pair[0].ID, UserID: pair[0].ID}
			_, errs[i] = users.UpdateUser(ctx, b.Tenant.ID, by, pair[1].ID, 0, func(u *roster.User) error {
				u.Active = false
				return nil
			})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("want exactly one success, got %v and %v", errs[0], errs[1])
	}
	page, err := users.FindUsers(ctx, b.Tenant.ID, roster.UserFilter{Role: roster.RoleAdmin, Active: ptr(true)})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("active admins left: %d (err %v)", len(page.Items), err)
	}
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)
	u := MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "gone@example.com"})
	wantCode(t, users.DeleteUser(ctx, b.Tenant.ID, testActor, u.ID, u.Version+1), roster.EPRECONDITION)
	wantCode(t, users.DeleteUser(ctx, b.Tenant.ID, testActor, u.ID, roster.NoVersion), roster.EPRECONDITION)
	if err := users.DeleteUser(ctx, b.Tenant.ID, testActor, u.ID, u.Version); err != nil {
		t.Fatal(err)
	}
	_, err := users.FindUserByID(ctx, b.Tenant.ID, u.ID)
	wantCode(t, err, roster.ENOTFOUND)
	wantCode(t, users.DeleteUser(ctx, b.Tenant.ID, testActor, u.ID, 0), roster.ENOTFOUND)
	_, err = users.FindUserByID(ctx, b.Tenant.ID, "not-a-uuid")
	wantCode(t, err, roster.ENOTFOUND)
}

func ptr[T any](v T) *T { return &v }
