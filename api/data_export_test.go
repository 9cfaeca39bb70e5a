package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/store"
)

// TestDataExport: a person's export holds their profile, attributes,
// second factors without a secret, sessions, groups and the audit trail
// about and by them; an admin gets the same document, a viewer cannot,
// and nobody reaches another tenant's person.
func TestDataExport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, token := signIn(t, e, "exported@example.com")
	secret := startTOTP(t, e, token)
	if r := confirmTOTP(e, token, testkit.Oathtool(t, secret, e.mfa.Now())); r.Status != 204 {
		t.Fatalf("confirm TOTP: %d %s", r.Status, r.Body)
	}
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"given_name": "Exported"}}); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if _, err := store.NewGroupService(e.DB).CreateGroup(context.Background(), e.A.ID, roster.Actor{Type: "system", ID: "test"},
		&roster.Group{DisplayName: "Night Shift", Members: []roster.GroupMember{{UserID: id}}}); err != nil {
		t.Fatal(err)
	}

	mine := e.do(request{Method: "GET", Path: "/api/v1/me/data-export", Token: token})
	if mine.Status != 200 || !strings.Contains(mine.Header.Get("Content-Disposition"), `filename="roster-data-`+id+`.json"`) {
		t.Fatalf("own export: %d %v %s", mine.Status, mine.Header, mine.Body)
	}
	var doc struct {
		User       map[string]any
		Attributes map[string]any
		MFA        struct{ Methods []struct{ Type string } }
		Sessions   []map[string]any
		Groups     []struct {
			DisplayName string `json:"display_name"`
		}
		SignIns []struct{ Result string } `json:"sign_ins"`
		About   []struct{ Action string } `json:"audit_events_about"`
		By      []struct {
			Action  string
			ActorID string `json:"actor_id"`
		} `json:"audit_events_by"`
	}
	mine.JSON(t, &doc)
	if doc.User["id"] != id || doc.User["given_name"] != "Exported" || len(doc.Sessions) != 1 || doc.Sessions[0]["current"] != true {
		t.Fatalf("profile and sessions: %+v %+v", doc.User, doc.Sessions)
	}
	if len(doc.MFA.Methods) != 1 || doc.MFA.Methods[0].Type != "totp" || len(doc.Groups) != 1 || doc.Groups[0].DisplayName != "Night Shift" {
		t.Fatalf("factors and groups: %+v %+v", doc.MFA, doc.Groups)
	}
	if !slices.ContainsFunc(doc.About, func(e struct{ Action string }) bool { return e.Action == "user.updated" }) {
		t.Fatalf("the trail about the person lacks the admin's change: %+v", doc.About)
	}
	for _, ev := range doc.By {
		if ev.ActorID != id {
			t.Fatalf("an event by someone else in the trail by the person: %+v", ev)
		}
	}
	if len(doc.SignIns) == 0 || doc.SignIns[0].Result != "success" {
		t.Fatalf("the sign-in history: %+v", doc.SignIns)
	}
	if len(doc.By) == 0 {
		t.Fatal("no event by the person, who signed in and enrolled a factor")
	}
	if strings.Contains(string(mine.Body), secret) || strings.Contains(string(mine.Body), "argon2id") {
		t.Fatal("the export holds a secret")
	}

	admin := e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/data-export", Token: e.A.Admin})
	var adminDoc map[string]json.RawMessage
	admin.JSON(t, &adminDoc)
	if admin.Status != 200 || string(adminDoc["user"]) == "" || len(adminDoc["audit_events_about"]) < 10 {
		t.Fatalf("admin's export: %d %s", admin.Status, admin.Body)
	}
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/data-export", Token: e.A.Viewer}), 403, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + id + "/data-export", Token: e.B.Admin}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/not-a-uuid/data-export", Token: e.A.Admin}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/data-export", Token: e.A.SCIM}), 404, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/me/data-export?x=1", Token: token, Invalid: true}), 400, "x")
}

// TestErasure: erasing a person deletes them and leaves no address, name
// or external id of theirs anywhere in the database (the audit trail, the
// mail queue), while the trail keeps its ids; their invitations go to
// the heir; nobody erases the last admin or another tenant's person.
func TestErasure(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const email, given, family, ext = "zebulon.quixotely@erasure.example", "Zebulon", "Quixotely", "ext-quixotely-7"
	created := e.do(request{Method: "POST", Path: "/api/v1/users", Token: e.A.Admin,
		Body: map[string]any{"email": email, "given_name": "Zebquorra", "family_name": family, "external_id": ext, "password": goodPassword, "role": "admin"}})
	if created.Status != 201 {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	id := created.Object(t)["id"].(string)
	if r := e.do(request{Method: "PATCH", Path: "/api/v1/users/" + id, Token: e.A.Admin, Body: map[string]any{"given_name": given}}); r.Status != 200 {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	signedIn := login(e, e.A.ID, email, goodPassword)
	var tok tokens
	signedIn.JSON(t, &tok)
	if signedIn.Status != 200 || tok.AccessToken == "" {
		t.Fatalf("sign in: %d %s", signedIn.Status, signedIn.Body)
	}
	// Mail sent to the person, as the outbox keeps it (a pending one here
	// would be delivered by another test's mail worker on the shared
	// database).
	if _, err := openTestDB(t).Exec(`INSERT INTO email_outbox (tenant_id, id, recipient, subject, body, status, next_attempt_at, created_at)
		VALUES ($1, gen_random_uuid(), $2, 'Hello Zebulon', '', 'sent', now(), now())`, e.A.ID, email); err != nil {
		t.Fatal(err)
	}
	invitation := e.do(request{Method: "POST", Path: "/api/v1/invitations", Token: tok.AccessToken,
		Body: map[string]any{"email": "a-friend@erasure.example", "role": "viewer"}})
	if invitation.Status != 201 {
		t.Fatalf("the person's invitation: %d %s", invitation.Status, invitation.Body)
	}

	erase := func(token, target string, body map[string]any) response {
		return e.do(request{Method: "POST", Path: "/api/v1/users/" + target + "/erase", Token: token, Body: body})
	}
	wantProblem(t, erase(e.A.Viewer, id, map[string]any{}), 403, "")
	wantProblem(t, erase(e.B.Admin, id, map[string]any{}), 404, "")
	wantProblem(t, erase(e.A.Admin, id, map[string]any{"transfer_to": id}), 400, "transfer_to")
	wantProblem(t, erase(e.A.Admin, id, map[string]any{"transfer_to": "01a25302-326d-70e1-b365-ba22197b78b1"}), 400, "transfer_to")
	wantProblem(t, erase(e.A.Admin, e.A.AdminID, map[string]any{}), 409, "")
	if r := erase(e.A.Admin, id, map[string]any{"transfer_to": e.A.AdminID}); r.Status != 204 {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}

	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/" + id, Token: e.A.Admin}), 404, "")
	dump := strings.ToLower(dumpTables(t, publicTables(t)...))
	// The first given name, which the audit trail's changes held, is long
	// enough that no random token or id in the dump spells it.
	for _, v := range []string{email, given, "zebquorra", family, ext} {
		if i := strings.Index(dump, strings.ToLower(v)); i >= 0 {
			t.Errorf("the database still holds %q: …%s…", v, dump[max(0, i-100):min(len(dump), i+300)])
		}
	}
	trail := e.do(request{Method: "GET", Path: "/api/v1/audit-events?target_id=" + id, Token: e.A.Admin})
	var events struct {
		Items []struct {
			Action  string
			Details map[string]any
		}
	}
	trail.JSON(t, &events)
	if len(events.Items) < 3 || events.Items[0].Action != "user.erased" || events.Items[0].Details["transferred_to"] != e.A.AdminID {
		t.Fatalf("the trail about the erased person: %s", trail.Body)
	}
	var signIns, traced int
	if err := openTestDB(t).QueryRow(`SELECT count(*), count(*) FILTER (WHERE address <> '' OR user_agent <> '[erased]')
		FROM sign_ins WHERE user_id = $1`, id).Scan(&signIns, &traced); err != nil || signIns == 0 || traced != 0 {
		t.Fatalf("the erased person's sign-ins: %d, %d with an address or user agent (%v)", signIns, traced, err)
	}
	var invitedBy string
	if err := openTestDB(t).QueryRow(`SELECT invited_by FROM invitations WHERE id = $1`, invitation.Object(t)["id"]).Scan(&invitedBy); err != nil || invitedBy != e.A.AdminID {
		t.Fatalf("the erased person's invitation is from %q (%v), want the heir", invitedBy, err)
	}
}

// publicTables names every table of the test database.
func publicTables(t *testing.T) []string {
	t.Helper()
	rows, err := openTestDB(t).Query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}
