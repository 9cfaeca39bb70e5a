package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// setSessionLimits puts the default policy with these session limits
// (nil for none).
func setSessionLimits(t *testing.T, e *testEnv, maxSessions, idleMinutes, absoluteHours any) {
	t.Helper()
	setPolicy(t, e, e.A.Admin, func(p policy) {
		p["session"] = map[string]any{"access_token_minutes": 15, "refresh_token_days": 30,
			"max_sessions": maxSessions, "idle_timeout_minutes": idleMinutes, "absolute_session_lifetime_hours": absoluteHours}
	})
}

// TestSessionLimits: max_sessions ends the oldest session at a sign-in
// past it; idle_timeout_minutes and absolute_session_lifetime_hours refuse
// a refresh (and end the session) past them, on the store's clock and the
// sign-in's.
func TestSessionLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	clock := &testClock{now: time.Now()}
	e.DB.Now, e.signIn.Now = clock.Now, clock.Now

	for field, value := range map[string]any{"max_sessions": 0, "idle_timeout_minutes": 1, "absolute_session_lifetime_hours": 10000} {
		p := defaultPolicy()
		p["session"].(map[string]any)[field] = value
		wantProblem(t, e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: p, Invalid: true}), http.StatusBadRequest, "session."+field)
	}

	const email = "many-laptops@example.com"
	id := newPasswordUser(t, e, email)
	signIn := func() string {
		t.Helper()
		var tok tokens
		if r := login(e, e.A.ID, email, goodPassword); r.Status != http.StatusOK {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		} else {
			r.JSON(t, &tok)
		}
		return tok.RefreshToken
	}
	refresh := func(token string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": token}})
	}
	refreshed := func(token string) string {
		t.Helper()
		r := refresh(token)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh at %s: %d %s", clock.Now(), r.Status, r.Body)
		}
		var tok tokens
		r.JSON(t, &tok)
		return tok.RefreshToken
	}

	// Two sessions at most: the third sign-in ends the first.
	setSessionLimits(t, e, 2, nil, nil)
	first := signIn()
	clock.Add(time.Second)
	second := signIn()
	clock.Add(time.Second)
	third := signIn()
	wantProblem(t, refresh(first), http.StatusUnauthorized, "")
	second, third = refreshed(second), refreshed(third)
	var sessions struct{ Items []map[string]any }
	e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/sessions", Token: e.A.Admin}).JSON(t, &sessions)
	if len(sessions.Items) != 2 {
		t.Fatalf("%d live sessions, want 2", len(sessions.Items))
	}
	if got := e.auditActions(e.A.Admin, "action=session.revoked&target_id="+id); len(got) != 1 {
		t.Fatalf("session.revoked events: %v", got)
	}
	// A PUT that leaves the limits out keeps them.
	setPolicy(t, e, e.A.Admin, func(p policy) {
		p["session"] = map[string]any{"access_token_minutes": 15, "refresh_token_days": 30}
	})
	if got := e.do(request{Method: "GET", Path: policyPath, Token: e.A.Admin}).Object(t)["session"].(map[string]any)["max_sessions"]; got != float64(2) {
		t.Fatalf("max_sessions after a PUT without it: %v", got)
	}

	// Idle for 30 minutes at most, counted from the last refresh.
	setSessionLimits(t, e, nil, 30, nil)
	clock.Add(20 * time.Minute)
	second = refreshed(second)
	clock.Add(20 * time.Minute)
	second = refreshed(second)
	clock.Add(31 * time.Minute)
	r := refresh(second)
	wantProblem(t, r, http.StatusUnauthorized, "")
	if !strings.Contains(string(r.Body), "idle") {
		t.Fatalf("the idle refusal says %s", r.Body)
	}

	// An hour from the sign-in at most, however busy.
	liveSessions := func() int {
		e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/sessions", Token: e.A.Admin}).JSON(t, &sessions)
		return len(sessions.Items)
	}
	setSessionLimits(t, e, nil, nil, 1)
	fresh := signIn()
	clock.Add(50 * time.Minute)
	fresh = refreshed(fresh)
	clock.Add(11 * time.Minute)
	before := liveSessions()
	r = refresh(fresh)
	wantProblem(t, r, http.StatusUnauthorized, "")
	if !strings.Contains(string(r.Body), "absolute") {
		t.Fatalf("the lifetime refusal says %s", r.Body)
	}
	// The refused session is ended, not just refused once.
	if after := liveSessions(); after != before-1 {
		t.Fatalf("%d live sessions after the refusal, %d before", after, before)
	}
}
