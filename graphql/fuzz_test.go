package graphql_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// hostileText is the seed corpus: NUL, bytes that are not UTF-8, escapes,
// quotes, GraphQL's own syntax, what LIKE treats specially, ids, numbers
// past 32 bits, and the long.
var hostileText = []string{
	"", "a", "\x00", "a\x00b", "\xff", "\xed\xa0\x80", `\u0000`, `"`, `\`, `"""`, "{", "}", "(", "$", "@", "...",
	"'; DROP TABLE users; --", "_%", "é\u2028\ufeff", "\x01\x1f\x7f", strings.Repeat("x", 300),
	"01a251eb-1f54-735d-a5a9-5d9fcf4d57c7", "9999999999999", "-1", "1e400", "null", "true", "__typename",
	`{ __schema { types { fields { type { ofType { ofType { name } } } } } } }`,
	`query Q($a: Int) { users(first: $a) { edges { node { id } } } }`,
	`{ users(first: 2147483648) { edges { cursor } } }`,
	`{ users(filter: {mfaMethod: FAX}) { edges { cursor } } }`,
	`fragment A on Query { ...A } { ...A }`,
	`{ ` + strings.Repeat("me { id } ", 50) + `}`,
	`mutation { deleteUser(id: "\u0000") { deletedUserId } }`,
	`mutation { createUser(input: {email: "a@b.c", role: "\u0000"}) { user { id } } }`,
}

// FuzzQueryText sends arbitrary text as the query of a POST and of a GET,
// and as the whole POST body. Whatever it is, the answer is no 5xx, no
// error is internal, and nothing is logged as an error.
func FuzzQueryText(f *testing.F) {
	for _, s := range hostileText {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := newTestEnv(t)
		body, _ := json.Marshal(map[string]any{"query": s, "variables": map[string]any{"a": s}})
		e.wantNoServerError(s, e.httpDo("POST", "/graphql", e.A.Admin, "application/json", body))
		e.wantNoServerError(s, e.httpDo("GET", "/graphql?query="+url.QueryEscape(s), e.A.Admin, "", nil))
		raw := httptest.NewRequest("GET", "/graphql", nil)
		raw.URL.RawQuery = "query=" + s // as sent, undecodable or not
		raw.Header.Set("Authorization", "Bearer "+e.A.Admin)
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, raw)
		e.wantNoServerError(s, w)
		e.wantNoServerError(s, e.httpDo("POST", "/graphql", e.A.Admin, "application/json", []byte(s)))
	})
}

// FuzzVariables puts arbitrary text in every argument of the operations
// that take client text, through variables: the answer is data or an
// error with a code from the REST vocabulary, never internal.
func FuzzVariables(f *testing.F) {
	for _, s := range hostileText {
		f.Add(s)
	}
	ops := []string{
		`query($id: ID!) { user(id: $id) { id } job(id: $id) { id } }`,
		`query($s: String) { users(after: $s, filter: {q: $s, role: $s}) { edges { cursor } } usersCount(filter: {q: $s, role: $s}) { count } }`,
		`query($s: String) { auditEvents(action: $s, actorId: $s, targetId: $s, after: $s) { edges { cursor } } invitations(after: $s) { edges { cursor } } groups(after: $s) { edges { cursor } } stats(role: $s) { totalUsers } }`,
		`mutation($s: String!) { createUser(input: {email: $s, userName: $s, givenName: $s, familyName: $s, displayName: $s, externalId: $s, role: $s, password: $s}) { user { id } } }`,
		`mutation($s: String!, $id: ID!) { updateUser(id: $id, input: {givenName: $s}) { user { id } } deleteUser(id: $id) { deletedUserId } }`,
		`mutation($s: String!, $id: ID!) { inviteUser(input: {email: $s, role: $s}) { invitation { id } } revokeInvitation(id: $id) { invitation { id } } }`,
		`mutation($s: String!, $id: ID!) { bulkUserAction(input: {action: SET_ROLE, role: $s, ids: [$id], filter: {q: $s}}) { result { matched } } }`,
		`mutation($s: String!, $id: ID!) { confirmTotp(code: $s) { mfa { enabled } } renamePasskey(id: $id, name: $s) { passkey { id } } }`,
		`mutation($s: String!, $id: ID!) { startCodeEnrollment(method: SMS, phone: $s) { target } revokeUserPasskey(userId: $id, passkeyId: $id) { passkey { id } } }`,
		`mutation($j: JSON!) { finishPasskeyRegistration(credential: $j) { passkey { id } } }`,
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := newTestEnv(t)
		for _, op := range ops {
			vars := map[string]any{}
			for _, name := range []string{"s", "id", "j"} {
				if strings.Contains(op, "$"+name+":") {
					vars[name] = s
				}
			}
			body, _ := json.Marshal(map[string]any{"query": op, "variables": vars})
			e.wantNoServerError(op, e.httpDo("POST", "/graphql", e.A.Admin, "application/json", body))
		}
	})
}

// wantNoServerError fails the test when an answer is a 5xx, holds an
// internal error, or the service logged an error.
func (e *testEnv) wantNoServerError(what string, w *httptest.ResponseRecorder) {
	e.t.Helper()
	if w.Code >= 500 || strings.Contains(w.Body.String(), `"code":"internal"`) || strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		e.t.Fatalf("%.80q: %d %s", what, w.Code, w.Body)
	}
}
