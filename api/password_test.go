package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func changePassword(e *testEnv, token, current, next string) response {
	return e.do(request{Method: "PUT", Path: "/api/v1/me/password", Token: token,
		Body: map[string]any{"current_password": current, "new_password": next}})
}

func TestChangePassword(t *testing.T) {
	e := newTestEnv(t)
	id := newPasswordUser(t, e, "rotating@example.com")
	var here, elsewhere tokens
	login(e, e.A.ID, "rotating", goodPassword).JSON(t, &here)
	login(e, e.A.ID, "rotating", goodPassword).JSON(t, &elsewhere)
	const newPassword = "quiet-Harbour-meadow-77"

	wantProblem(t, changePassword(e, here.AccessToken, "not-the-password", newPassword), 400, "current_password")
	for _, weak := range []string{"Sh0rt!", "password1234", "rotating-and-more", goodPassword} {
		wantProblem(t, changePassword(e, here.AccessToken, goodPassword, weak), 400, "new_password")
	}
	wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/me/password", Token: here.AccessToken, Invalid: true,
		Body: map[string]any{"current_password": goodPassword}}), 400, "new_password")
	wantProblem(t, e.do(request{Method: "PUT", Path: "/api/v1/me/password", Token: here.AccessToken, Invalid: true,
		Body: `{"current_password": "` + strings.Repeat("x", 2<<20) + `"}`}), 413, "")

	if r := changePassword(e, here.AccessToken, goodPassword, newPassword); r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	// The old password stops working, the new one signs in.
	wantProblem(t, login(e, e.A.ID, "rotating", goodPassword), 401, "")
	wantTokens(t, login(e, e.A.ID, "rotating", newPassword), "pwd")

	// The other session ends; the one that made the change goes on.
	refresh := func(token string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": token}})
	}
	wantProblem(t, refresh(elsewhere.RefreshToken), 401, "")
	if r := refresh(here.RefreshToken); r.Status != 200 {
		t.Fatalf("the changing session's refresh: %d %s", r.Status, r.Body)
	}

	var hash, details string
	db := openTestDB(t)
	if err := db.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, newPassword) {
		t.Fatalf("stored password: %q", hash)
	}
	if err := db.QueryRow(`SELECT details::text FROM audit_events WHERE target_id = $1 AND action = 'user.password_changed'`, id).
		Scan(&details); err != nil || !strings.Contains(details, `"sessions_revoked": 1`) {
		t.Fatalf("audit details %s (%v)", details, err)
	}
	var leaked int
	if err := db.QueryRow(`SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'`, newPassword).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("the password is in %d audit events (%v)", leaked, err)
	}
}

func TestChangePasswordFollowsThePolicy(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, token := signIn(t, e, "strict@example.com")
	setPolicy(t, e, e.A.Admin, func(p policy) {
		p.section("password")["min_length"] = 30
		p.section("lockout")["max_attempts"] = 3
	})
	wantProblem(t, changePassword(e, token, goodPassword, "quiet-Harbour-meadow-77"), 400, "new_password")
	if r := changePassword(e, token, goodPassword, "quiet-Harbour-meadow-77-and-more"); r.Status != 204 {
		t.Fatalf("a password of the policy's length: %d %s", r.Status, r.Body)
	}
	// Wrong current passwords count towards the lockout, as at sign-in.
	for range 3 {
		wantProblem(t, changePassword(e, token, "not-the-password", "another-long-passphrase-of-30+"), 400, "current_password")
	}
	r := changePassword(e, token, "quiet-Harbour-meadow-77-and-more", "another-long-passphrase-of-30+")
	wantProblem(t, r, http.StatusTooManyRequests, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}
