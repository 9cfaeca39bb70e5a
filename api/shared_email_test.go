package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestSharedEmails: the unique_email policy (default true) lets users of
// a tenant share an address when false. Sign-in by a shared address is
// answered exactly as a wrong password and its users sign in by user name;
// an invitation to an address in use is still 409; the users list and
// SCIM's emails.value eq (scim.TestSharedEmails) find every user with it. Turning the policy back
// on while addresses are shared is 409; a PUT without the field keeps it.
func TestSharedEmails(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const shared = "desk@example.com"
	create := func(userName string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin,
			Body: map[string]any{"email": shared, "user_name": userName, "password": goodPassword}})
	}
	if r := create("desk-admin"); r.Status != http.StatusCreated {
		t.Fatalf("first user: %d %s", r.Status, r.Body)
	}
	wantProblem(t, create("desk-user"), http.StatusConflict, "email")
	if p := e.do(request{Method: "GET", Path: policyPath, Token: e.A.Admin}).Object(t); p["unique_email"] != true {
		t.Fatalf("default unique_email: %v", p)
	}

	setPolicy(t, e, e.A.Admin, func(p policy) { p["unique_email"] = false })
	if r := create("desk-user"); r.Status != http.StatusCreated {
		t.Fatalf("second user with the address: %d %s", r.Status, r.Body)
	}
	e.createUsers(e.A.Admin, "other", 1, nil)
	// A PUT written before the field keeps it.
	p := defaultPolicy()
	delete(p, "unique_email")
	if r := e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: p}); r.Status != 200 || r.Object(t)["unique_email"] != false {
		t.Fatalf("PUT without unique_email: %d %s", r.Status, r.Body)
	}

	// Sign-in by the shared address is a wrong password; by user name it works.
	byEmail, wrong := login(e, e.A.ID, shared, goodPassword), login(e, e.A.ID, "desk-admin", "not-"+goodPassword)
	wantProblem(t, byEmail, http.StatusUnauthorized, "")
	if string(withoutRequestID(t, byEmail)) != string(withoutRequestID(t, wrong)) {
		t.Fatalf("a shared address is told apart from a wrong password:\n%s\n%s", byEmail.Body, wrong.Body)
	}
	for _, name := range []string{"desk-admin", "desk-user"} {
		if r := login(e, e.A.ID, name, goodPassword); r.Status != http.StatusOK {
			t.Fatalf("sign-in as %s: %d %s", name, r.Status, r.Body)
		}
	}

	var list struct{ Items []map[string]any }
	e.do(request{Method: "GET", Path: "/api/v1/users?q=" + url.QueryEscape(shared), Token: e.A.Admin}).JSON(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("users list by the address: %d users", len(list.Items))
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: e.A.Admin, Body: map[string]any{"email": shared, "role": "viewer"}})
	wantProblem(t, r, http.StatusConflict, "email")

	r = e.do(request{Method: "PUT", Path: policyPath, Token: e.A.Admin, Body: defaultPolicy()})
	wantProblem(t, r, http.StatusConflict, "unique_email")
	// The other tenant keeps its own policy.
	if p := e.do(request{Method: "GET", Path: policyPath, Token: e.B.Admin}).Object(t); p["unique_email"] != true {
		t.Fatalf("tenant B's unique_email: %v", p)
	}
}

// withoutRequestID is a problem body without its request id.
func withoutRequestID(t *testing.T, r response) []byte {
	t.Helper()
	p := r.Object(t)
	delete(p, "request_id")
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
