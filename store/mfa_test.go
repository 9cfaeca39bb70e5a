package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func TestFindUsersMFAFilters(t *testing.T) {
	users, tenantID, all := listFixture(t)
	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	methods := map[string][]string{}
	for i, u := range all {
		m := [][]string{{}, {"totp"}, {"sms", "totp"}, {"email"}}[i%4]
		methods[u.ID] = m
		if _, err := raw.Exec(`UPDATE users SET mfa_methods = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, u.ID, pq.Array(m)); err != nil {
			t.Fatal(err)
		}
	}
	count := func(keep func([]string) bool) int {
		n := 0
		for _, u := range all {
			if keep(methods[u.ID]) {
				n++
			}
		}
		return n
	}
	enabled, disabled := true, false
	for _, tc := range []struct {
		name   string
		filter roster.UserFilter
		want   int
	}{
		{"mfa enabled", roster.UserFilter{MFA: &enabled}, count(func(m []string) bool { return len(m) > 0 })},
		{"mfa disabled", roster.UserFilter{MFA: &disabled}, count(func(m []string) bool { return len(m) == 0 })},
		{"totp", roster.UserFilter{MFAMethod: roster.MFATOTP}, count(func(m []string) bool { return slices.Contains(m, "totp") })},
		{"sms by email", roster.UserFilter{MFAMethod: roster.MFASMS, Sort: "-email"}, count(func(m []string) bool { return slices.Contains(m, "sms") })},
		{"passkey", roster.UserFilter{MFAMethod: roster.MFAPasskey}, 0},
		{"a method but disabled", roster.UserFilter{MFAMethod: roster.MFATOTP, MFA: &disabled}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Limit = 4
			if got := walk(t, users, tenantID, tc.filter); len(got) != tc.want {
				t.Fatalf("%d users, want %d", len(got), tc.want)
			}
		})
	}
	_, err = users.FindUsers(context.Background(), tenantID, roster.UserFilter{MFAMethod: "pigeon"})
	wantField(t, err, "mfa_method")
}

func TestMFAServiceIsTenantScoped(t *testing.T) {
	db := MustOpen(t)
	mfa := store.NewMFAService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()
	user := b.Admin.ID
	wantCode(t, mfa.SetPendingTOTP(ctx, a.Tenant.ID, testActor, user, []byte("sealed")), roster.ENOTFOUND)
	wantCode(t, mfa.ResetMFA(ctx, a.Tenant.ID, testActor, user), roster.ENOTFOUND)
	wantCode(t, mfa.ReplaceRecoveryCodes(ctx, a.Tenant.ID, testActor, user, [][]byte{{1}}), roster.ENOTFOUND)
	_, err := mfa.FindMFAStatus(ctx, a.Tenant.ID, user)
	wantCode(t, err, roster.ENOTFOUND)
	_, err = mfa.FindMFAStatus(ctx, a.Tenant.ID, "not-a-uuid")
	wantCode(t, err, roster.ENOTFOUND)

	// In its own tenant: nothing to confirm, then a confirmation whose
	// check fails changes nothing.
	check := func(*roster.MFAMethod) (int64, error) { return 7, nil }
	wantCode(t, mfa.ConfirmTOTP(ctx, b.Tenant.ID, testActor, user, check), roster.ECONFLICT)
	if err := mfa.SetPendingTOTP(ctx, b.Tenant.ID, testActor, user, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	wrong := errors.New("wrong code")
	if err := mfa.ConfirmTOTP(ctx, b.Tenant.ID, testActor, user, func(*roster.MFAMethod) (int64, error) { return 0, wrong }); !errors.Is(err, wrong) {
		t.Fatalf("confirm with a failing check: %v", err)
	}
	st, err := mfa.FindMFAStatus(ctx, b.Tenant.ID, user)
	if err != nil || len(st.Methods) != 0 || len(st.Enrolled) != 1 || st.Enrolled[0].Verified {
		t.Fatalf("status after a failed confirmation: %+v %v", st, err)
	}
	if err := mfa.ConfirmTOTP(ctx, b.Tenant.ID, testActor, user, check); err != nil {
		t.Fatal(err)
	}
	st, err = mfa.FindMFAStatus(ctx, b.Tenant.ID, user)
	if err != nil || !slices.Equal(st.Methods, []string{"totp"}) || st.Default != "totp" || !st.Enrolled[0].Verified {
		t.Fatalf("status after confirmation: %+v %v", st, err)
	}
}

func TestMFAChallengeAttempts(t *testing.T) {
	db := MustOpen(t)
	mfa := store.NewMFAService(db)
	b := MustTenant(t, db)
	ctx := context.Background()
	user := b.Admin.ID
	c := &roster.MFAChallenge{TenantID: b.Tenant.ID, UserID: user, TokenHash: []byte("hash-" + randomHex(t)),
		AMR: []string{"pwd"}, AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
	if err := mfa.CreateMFAChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	attempt := func(v roster.MFAVerdict, err error) (*roster.MFAAttempt, error) {
		var seen *roster.MFAAttempt
		aerr := mfa.AttemptMFAChallenge(ctx, c.TokenHash, roster.MFARecoveryCode, []byte("no such code"),
			func(a *roster.MFAAttempt) (roster.MFAVerdict, error) {
				seen = a
				return v, err
			})
		return seen, aerr
	}
	// A failing check records nothing; a failed verdict counts.
	if _, err := attempt(roster.MFAVerdict{}, errors.New("boom")); err == nil {
		t.Fatal("the check's error was lost")
	}
	for want := 0; want < 2; want++ {
		a, err := attempt(roster.MFAVerdict{}, nil)
		if err != nil || a.Challenge.FailedAttempts != want || a.Login.User.ID != user || a.RecoveryCodeUnused {
			t.Fatalf("attempt %d: %+v %v", want, a, err)
		}
	}
	// A burning verdict ends the challenge.
	if _, err := attempt(roster.MFAVerdict{Burn: true}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := attempt(roster.MFAVerdict{Passed: true}, nil)
	wantCode(t, err, roster.EUNAUTHORIZED)
}
