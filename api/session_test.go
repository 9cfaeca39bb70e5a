package api_test

import (
	"net/http"
	"strings"
	"testing"
)

type sessionItem struct {
	ID        string   `json:"id"`
	Address   string   `json:"address"`
	UserAgent string   `json:"user_agent"`
	AMR       []string `json:"amr"`
	Current   bool     `json:"current"`
}

// TestSessions: a user sees their sessions, ends one elsewhere or all the
// others, and an admin signs a user out everywhere; nobody reaches
// another's sessions.
func TestSessions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const email = "roaming@example.com"
	id := newPasswordUser(t, e, email)
	signInWith := func(agent string) tokens {
		r := e.do(request{Method: "POST", Path: "/api/v1/auth/login", Header: map[string]string{"User-Agent": agent},
			Body: map[string]any{"tenant": e.A.ID, "username": email, "password": goodPassword}})
		var tok tokens
		r.JSON(t, &tok)
		if r.Status != http.StatusOK || tok.RefreshToken == "" {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		return tok
	}
	list := func(token, path string) []sessionItem {
		t.Helper()
		var out struct{ Items []sessionItem }
		if r := e.do(request{Method: "GET", Path: path, Token: token}); r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		} else {
			r.JSON(t, &out)
		}
		return out.Items
	}
	refresh := func(tok tokens) response {
		return e.do(request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": tok.RefreshToken}})
	}

	laptop, phone := signInWith("Laptop/1.0"), signInWith("Phone/2.0")
	mine := list(laptop.AccessToken, "/api/v1/me/sessions")
	if len(mine) != 2 || mine[0].UserAgent != "Phone/2.0" || mine[0].Current || !mine[1].Current ||
		mine[1].Address != "127.0.0.1" || strings.Join(mine[1].AMR, ",") != "pwd" {
		t.Fatalf("sessions: %+v", mine)
	}
	phoneSession := mine[0].ID

	// Ending another user's session, or none, is not found.
	_, other := signIn(t, e, "someone-else@example.com")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/sessions/" + phoneSession, Token: other}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/sessions/" + e.A.ID, Token: laptop.AccessToken}), http.StatusNotFound, "")

	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/sessions/" + phoneSession, Token: laptop.AccessToken}); r.Status != http.StatusOK || r.Object(t)["ended"] != float64(1) {
		t.Fatalf("end the phone's session: %d %s", r.Status, r.Body)
	}
	wantProblem(t, refresh(phone), http.StatusUnauthorized, "")

	// Sign out everywhere else: the laptop stays.
	signInWith("Tablet/3.0")
	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/sessions", Token: laptop.AccessToken}); r.Status != http.StatusOK || r.Object(t)["ended"] != float64(1) {
		t.Fatalf("end the others: %d %s", r.Status, r.Body)
	}
	var next tokens
	if r := refresh(laptop); r.Status != http.StatusOK {
		t.Fatalf("the laptop's refresh: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &next)
	}
	if got := list(next.AccessToken, "/api/v1/me/sessions"); len(got) != 1 || !got[0].Current || got[0].ID != mine[1].ID {
		t.Fatalf("after signing out elsewhere: %+v", got)
	}

	// Admins see and end a user's sessions; others do not.
	path := "/api/v1/users/" + id + "/sessions"
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.A.Viewer}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: path, Token: e.A.Viewer}), http.StatusForbidden, "")
	wantProblem(t, e.do(request{Method: "GET", Path: path, Token: e.B.Admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: path, Token: e.B.Admin}), http.StatusNotFound, "")
	if got := list(e.A.Admin, path); len(got) != 1 || got[0].Current {
		t.Fatalf("the admin's view: %+v", got)
	}
	if r := e.do(request{Method: "DELETE", Path: path, Token: e.A.Admin}); r.Status != http.StatusOK || r.Object(t)["ended"] != float64(1) {
		t.Fatalf("sign out everywhere: %d %s", r.Status, r.Body)
	}
	wantProblem(t, refresh(next), http.StatusUnauthorized, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/sessions", Token: e.A.SCIM}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/sessions", Token: e.A.SCIM}), http.StatusNotFound, "")

	events := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=session.revoked&target_id=" + id, Token: e.A.Admin})
	if n := strings.Count(string(events.Body), `"session.revoked"`); n != 3 {
		t.Fatalf("%d session.revoked events, want 3: %s", n, events.Body)
	}
}
