package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestApprovalRequired: under approval_required an invited user and a
// just-in-time SSO user wait, cannot sign in and are found by the
// directory's filter and the stats, until an admin approves them, one by
// POST /approve, the other by a bulk activation of those waiting.
func TestApprovalRequired(t *testing.T) {
	e := newTestEnv(t)
	mb := startInvitationMailbox(t, e)
	setPolicy(t, e, e.A.Admin, func(p policy) { p["approval_required"] = true })

	const email = "waiting@example.com"
	invite(t, e, e.A.Admin, email, "viewer")
	r := accept(e, mb.lastInvitationToken(t, email, 1), nil)
	u := r.Object(t)
	if r.Status != http.StatusCreated || u["pending_approval"] != true || u["active"] != false {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	id := u["id"].(string)
	if r := login(e, e.A.ID, email, goodPassword); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "approval") {
		t.Fatalf("sign-in while waiting: %d %s", r.Status, r.Body)
	}

	// A just-in-time SSO account waits too, and that sign-in is refused.
	op := startOP(t, ada)
	conn := e.createOIDCConnection(e.A, op, nil)
	b := e.newSSOBrowser()
	resp, body := b.oidcSignIn(e, op, url.Values{"tenant": {e.A.ID}, "connection": {conn}}, "ada")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "approval") || b.ssoCode() != "" {
		t.Fatalf("SSO sign-in while waiting: %d %s", resp.StatusCode, body)
	}

	var page struct{ Items []map[string]any }
	e.do(request{Method: "GET", Path: "/api/v1/users?pending_approval=true", Token: e.A.Admin}).JSON(t, &page)
	if len(page.Items) != 2 || page.Items[0]["id"] != id || page.Items[1]["email"] != ada.Email {
		t.Fatalf("waiting users: %+v", page.Items)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/users/count?pending_approval=true", Token: e.A.Admin}); r.Object(t)["count"] != float64(2) {
		t.Fatalf("count: %s", r.Body)
	}
	if r := e.do(request{Method: "GET", Path: "/api/v1/users/count?pending_approval=false", Token: e.A.Admin}); r.Object(t)["count"] != float64(1) {
		t.Fatalf("count of the others: %s", r.Body) // tenant A's first admin
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users?pending_approval=yes", Token: e.A.Admin, Invalid: true}), http.StatusBadRequest, "pending_approval")
	if n := strings.Count(string(e.export(e.A.Admin, "?format=ndjson&pending_approval=true", "application/x-ndjson").Body), `"pending_approval":true`); n != 2 {
		t.Fatalf("the export has %d waiting users", n)
	}
	if st := e.stats(e.A.Admin, ""); st.PendingApproval != 2 {
		t.Fatalf("stats: %d waiting", st.PendingApproval)
	}
	if st := e.stats(e.B.Admin, ""); st.PendingApproval != 0 {
		t.Fatalf("tenant B's stats: %d waiting", st.PendingApproval)
	}

	approve := func(token, id string) response {
		return e.do(request{Method: "POST", Path: "/api/v1/users/" + id + "/approve", Token: token})
	}
	wantProblem(t, approve(e.A.Viewer, id), http.StatusForbidden, "")
	wantProblem(t, approve(e.B.Admin, id), http.StatusNotFound, "")
	wantProblem(t, approve(e.A.Admin, e.A.AdminID), http.StatusConflict, "")
	if r := approve(e.A.Admin, id); r.Status != http.StatusOK || r.Object(t)["pending_approval"] != false || r.Object(t)["active"] != true {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	wantProblem(t, approve(e.A.Admin, id), http.StatusConflict, "")
	if r := login(e, e.A.ID, email, goodPassword); r.Status != http.StatusOK {
		t.Fatalf("sign-in once approved: %d %s", r.Status, r.Body)
	}

	// Activating those waiting approves them.
	res := e.bulk(e.A.Admin, map[string]any{"action": "activate", "filter": map[string]any{"pending_approval": true}})
	if res.Matched != 1 || res.Succeeded != 1 {
		t.Fatalf("bulk activation: %+v", res)
	}
	if _, tokens := e.signInVia(op, conn, "ada"); tokens.Status != http.StatusOK {
		t.Fatalf("SSO sign-in once approved: %d %s", tokens.Status, tokens.Body)
	}
	if got := e.auditActions(e.A.Admin, "action=user.approved"); len(got) != 2 {
		t.Fatalf("user.approved events: %v", got)
	}
}
