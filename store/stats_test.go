package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// wantStatsMatchLive fails unless the counters agree with a direct count
// of the tables, unfiltered and under every role and active filter.
func wantStatsMatchLive(t *testing.T, stats *store.StatsService, tenantID, when string) *roster.UserStats {
	t.Helper()
	ctx := context.Background()
	yes, no := true, false
	filters := []roster.StatsFilter{{}, {Active: &yes}, {Active: &no}}
	for _, r := range roster.BuiltInRoles() {
		filters = append(filters, roster.StatsFilter{Role: r}, roster.StatsFilter{Role: r, Active: &yes})
	}
	var all *roster.UserStats
	for _, f := range filters {
		got, err := stats.UserStats(ctx, tenantID, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := stats.LiveUserStats(ctx, tenantID, f)
		if err != nil {
			t.Fatal(err)
		}
		got.AsOf, want.AsOf = time.Time{}, time.Time{} // two requests, two instants
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s, filter %s: counters\n%+v\ndirect count\n%+v", when, describeFilter(f), got, want)
		}
		if all == nil {
			all = got
		}
	}
	return all
}

func describeFilter(f roster.StatsFilter) string {
	s := "role=" + f.Role
	if f.Active != nil {
		s += fmt.Sprintf(" active=%v", *f.Active)
	}
	return s
}

func rawDB(t *testing.T) *sqlx.DB {
	t.Helper()
	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func mustExec(t *testing.T, db *sqlx.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestStatsFollowEveryChange(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	raw := rawDB(t)
	users := store.NewUserService(db)
	stats := store.NewStatsService(db)
	mfa := store.NewMFAService(db)
	creds := store.NewLoginService(db)
	b := MustTenant(t, db)
	other := MustTenant(t, db)
	tid := b.Tenant.ID

	st := wantStatsMatchLive(t, stats, tid, "a new tenant")
	if st.TotalUsers != 1 || st.Roles[roster.RoleAdmin] != 1 || st.ActiveUsers != 1 || st.SignupsLast7Days != 1 {
		t.Fatalf("a new tenant has its admin only: %+v", st)
	}

	var made []*roster.User
	for i, role := range []string{"viewer", "viewer", "developer", "admin", "viewer", "developer"} {
		made = append(made, MustCreateUser(t, users, tid, roster.User{Email: fmt.Sprintf("u%d@example.com", i), Role: role, Active: i != 4}))
	}
	// Another tenant's users never show.
	for i := range 3 {
		MustCreateUser(t, users, other.Tenant.ID, roster.User{Email: fmt.Sprintf("o%d@example.com", i), Active: true})
	}
	st = wantStatsMatchLive(t, stats, tid, "after creates")
	if st.TotalUsers != 7 || st.InactiveUsers != 1 || st.Roles[roster.RoleViewer] != 3 || st.Roles[roster.RoleDeveloper] != 2 {
		t.Fatalf("after creates: %+v", st)
	}

	change := func(u *roster.User, upd roster.UserUpdate) {
		t.Helper()
		if _, err := users.UpdateUser(ctx, tid, testActor, u.ID, 0, func(x *roster.User) error { upd.Apply(x); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	dev, off, name := roster.RoleDeveloper, false, "Renamed"
	change(made[0], roster.UserUpdate{Role: &dev})
	change(made[1], roster.UserUpdate{Active: &off})
	change(made[2], roster.UserUpdate{GivenName: &name}) // moves no count
	st = wantStatsMatchLive(t, stats, tid, "after a role change, a deactivation and a rename")
	if st.Roles[roster.RoleDeveloper] != 3 || st.InactiveUsers != 2 {
		t.Fatalf("after updates: %+v", st)
	}

	// Second factors: a TOTP and an email code, one removed, one reset.
	if err := mfa.SetPendingTOTP(ctx, tid, testActor, made[0].ID, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := mfa.ConfirmTOTP(ctx, tid, testActor, made[0].ID, func(*roster.MFAMethod) (int64, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	for _, u := range made[:3] {
		err := mfa.SetEnrolmentCode(ctx, tid, u.ID, roster.MFAEmail, u.Email, func(*roster.MFAMethod) (*roster.MFACode, error) {
			return &roster.MFACode{Hash: []byte("h"), ExpiresAt: time.Now().Add(time.Hour)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := mfa.ConfirmCode(ctx, tid, testActor, u.ID, roster.MFAEmail, func(*roster.MFAMethod) (bool, error) { return true, nil }); err != nil {
			t.Fatal(err)
		}
	}
	st = wantStatsMatchLive(t, stats, tid, "after MFA enrolments")
	if st.MFAEnabled != 3 || st.MFAMethods[roster.MFATOTP] != 1 || st.MFAMethods[roster.MFAEmail] != 3 {
		t.Fatalf("after MFA enrolments: %+v", st)
	}
	if err := mfa.RemoveMFAMethod(ctx, tid, testActor, made[1].ID, roster.MFAEmail); err != nil {
		t.Fatal(err)
	}
	if err := mfa.ResetMFA(ctx, tid, testActor, made[2].ID); err != nil {
		t.Fatal(err)
	}
	st = wantStatsMatchLive(t, stats, tid, "after an MFA removal and a reset")
	if st.MFAEnabled != 1 || st.MFAMethods[roster.MFAEmail] != 1 || st.MFAMethods[roster.MFATOTP] != 1 {
		t.Fatalf("after MFA removal: %+v", st)
	}
	// The passkey helper appends 'passkey' to mfa_methods.
	mustExec(t, raw, `UPDATE users SET mfa_methods = array_append(mfa_methods, 'passkey') WHERE tenant_id = $1 AND id = $2`, tid, made[3].ID)

	// Lockouts: now, over, and lifted.
	for _, u := range made[3:5] {
		if _, err := creds.RecordLoginFailure(ctx, tid, u.ID, 1, time.Hour, roster.SignInPassword, roster.ReasonWrongPassword); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, raw, `UPDATE users SET locked_until = now() - interval '1 minute' WHERE tenant_id = $1 AND id = $2`, tid, made[4].ID)
	if _, err := creds.RecordLoginFailure(ctx, tid, made[5].ID, 1, time.Hour, roster.SignInPassword, roster.ReasonWrongPassword); err != nil {
		t.Fatal(err)
	}
	if err := creds.Unlock(ctx, tid, testActor, made[5].ID); err != nil {
		t.Fatal(err)
	}
	st = wantStatsMatchLive(t, stats, tid, "after lockouts")
	if st.LockedUsers != 1 || st.MFAMethods[roster.MFAPasskey] != 1 {
		t.Fatalf("after lockouts: %+v", st)
	}

	// Passkeys: synced, device-bound, eligible but not backed up; one
	// changes its flags, and one goes with its deleted owner.
	for i, flags := range [][2]bool{{true, true}, {false, false}, {true, false}, {false, false}} {
		owner := made[3]
		if i == 3 {
			owner = made[5]
		}
		mustExec(t, raw, `INSERT INTO passkeys (tenant_id, id, user_id, credential_id, public_key, backup_eligible, backed_up, name, created_at)
			VALUES ($1, gen_random_uuid(), $2, $3, '\x00', $4, $5, 'key', now())`, tid, owner.ID, []byte(fmt.Sprint("cred", i)), flags[0], flags[1])
	}
	st = wantStatsMatchLive(t, stats, tid, "after passkeys")
	if st.PasskeysTotal != 4 || st.PasskeysSynced != 1 || st.PasskeysDeviceBound != 2 {
		t.Fatalf("after passkeys: %+v", st)
	}
	mustExec(t, raw, `UPDATE passkeys SET backed_up = true WHERE tenant_id = $1 AND backup_eligible AND NOT backed_up`, tid)
	if err := users.DeleteUser(ctx, tid, testActor, made[5].ID, 0); err != nil {
		t.Fatal(err)
	}
	st = wantStatsMatchLive(t, stats, tid, "after a passkey sync and a deletion")
	if st.PasskeysTotal != 3 || st.PasskeysSynced != 2 || st.PasskeysDeviceBound != 1 || st.TotalUsers != 6 {
		t.Fatalf("after deletion: %+v", st)
	}

	// Invitations: pending, expired, accepted, revoked, another tenant's.
	for _, inv := range []struct {
		tenant, role, state string
	}{{tid, "viewer", "pending"}, {tid, "admin", "pending"}, {tid, "viewer", "expired"}, {tid, "viewer", "accepted"},
		{tid, "viewer", "revoked"}, {other.Tenant.ID, "viewer", "pending"}} {
		expires, accepted, revoked := "now() + interval '1 day'", "NULL", "NULL"
		switch inv.state {
		case "expired":
			expires = "now() - interval '1 second'"
		case "accepted":
			accepted = "now()"
		case "revoked":
			revoked = "now()"
		}
		mustExec(t, raw, `INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at, revoked_at)
			VALUES ($1, gen_random_uuid(), gen_random_uuid()::text || '@example.com', $2, decode(md5(random()::text), 'hex'), 'test', now(), `+
			expires+`, `+accepted+`, `+revoked+`)`, inv.tenant, inv.role)
	}
	st = wantStatsMatchLive(t, stats, tid, "after invitations")
	if st.PendingInvitations != 2 {
		t.Fatalf("pending invitations %d, want 2", st.PendingInvitations)
	}

	// Sign-ups by day: users created 3, 10 and 40 days ago.
	for i, days := range []int{3, 10, 40} {
		at := time.Now().UTC().AddDate(0, 0, -days)
		mustExec(t, raw, `INSERT INTO users (tenant_id, id, user_name, email, role, created_at, updated_at)
			VALUES ($1, gen_random_uuid(), $2, $2, 'viewer', $3, $3)`, tid, fmt.Sprintf("old%d@example.com", i), at)
	}
	st = wantStatsMatchLive(t, stats, tid, "after back-dated sign-ups")
	if st.TotalUsers != 9 || st.SignupsLast30Days != 8 || st.SignupsLast7Days != 7 || len(st.Daily) != roster.SignupDays {
		t.Fatalf("sign-ups: total %d, 30 days %d, 7 days %d, %d daily entries", st.TotalUsers, st.SignupsLast30Days, st.SignupsLast7Days, len(st.Daily))
	}
	if last := st.Daily[len(st.Daily)-1]; !last.Date.Equal(time.Now().UTC().Truncate(24*time.Hour)) || last.Count != 6 {
		t.Fatalf("today's entry %+v", last)
	}

	// A bulk load (COPY) and a multi-row statement.
	if _, err := db.SeedUsers(ctx, tid, 500); err != nil {
		t.Fatal(err)
	}
	mustExec(t, raw, `UPDATE users SET role = 'developer', active = NOT active WHERE tenant_id = $1 AND email LIKE '%example.net'`, tid)
	mustExec(t, raw, `DELETE FROM users WHERE tenant_id = $1 AND email LIKE '%example.org'`, tid)
	wantStatsMatchLive(t, stats, tid, "after a seed and bulk statements")
	wantStatsMatchLive(t, stats, other.Tenant.ID, "the other tenant")

	if _, err := stats.UserStats(ctx, tid, roster.StatsFilter{Role: "owner"}); err == nil {
		t.Fatal("an unknown role was accepted")
	} else {
		wantCode(t, err, roster.EINVALID)
	}
}

// TestStatsUnderConcurrentWriters checks that concurrent inserts, spread
// over the counter slots, lose no count.
func TestStatsUnderConcurrentWriters(t *testing.T) {
	db := MustOpen(t)
	users := store.NewUserService(db)
	stats := store.NewStatsService(db)
	b := MustTenant(t, db)
	const writers, each = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				u := &roster.User{Email: fmt.Sprintf("w%d-%d@example.com", w, i), Role: roster.RoleViewer, Active: true}
				if _, err := users.CreateUser(context.Background(), b.Tenant.ID, testActor, u); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st := wantStatsMatchLive(t, stats, b.Tenant.ID, "after concurrent creates")
	if st.TotalUsers != writers*each+1 {
		t.Fatalf("total %d, want %d", st.TotalUsers, writers*each+1)
	}
}

// TestStatsAfterBulkSeed checks the recount that replaces the insert
// counter during a bulk load (store.SeedUsers above 50,000 users).
func TestStatsAfterBulkSeed(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	users := store.NewUserService(db)
	stats := store.NewStatsService(db)
	b := MustTenant(t, db)
	MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "before@example.com", Role: roster.RoleDeveloper, Active: true})
	const n = 50_000
	if _, err := db.SeedUsers(ctx, b.Tenant.ID, n); err != nil {
		t.Fatal(err)
	}
	st := wantStatsMatchLive(t, stats, b.Tenant.ID, "after a bulk seed")
	if st.TotalUsers != n+2 {
		t.Fatalf("total %d, want %d", st.TotalUsers, n+2)
	}
	// The counter is back on for the next insert.
	MustCreateUser(t, users, b.Tenant.ID, roster.User{Email: "after@example.com", Active: true})
	if st = wantStatsMatchLive(t, stats, b.Tenant.ID, "after an insert"); st.TotalUsers != n+3 {
		t.Fatalf("total %d, want %d", st.TotalUsers, n+3)
	}
}
