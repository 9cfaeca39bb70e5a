package api_test

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
)

// textSeeds are the seed corpus of the fuzz tests over request text: NUL,
// bytes that are not UTF-8, a lone surrogate's bytes, escapes, quotes,
// what filters, LIKE and CSV treat specially, and the long.
var textSeeds = []string{
	"", "a", "\x00", "a\x00b", "\xff", "\xed\xa0\x80", "%", "%zz", "%%%", "%00",
	`"`, `\`, "'; DROP TABLE users; --", "_%", "a,b\nc", "é\u2028\ufeff",
	"\x01\x1f\x7f", strings.Repeat("x", 300), `userName eq "a"`, "01a251eb-1f54-735d-a5a9-5d9fcf4d57c7",
}

// FuzzRequestText puts arbitrary text in every place a REST request carries
// client text to the database: JSON values and member names of the sign-in,
// user, invitation, bulk and mapping bodies, CSV rows, query parameters and
// path segments. Whatever it is, the answer is never a 5xx and nothing is
// logged as an error (a database error would be both).
func FuzzRequestText(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := newTestEnv(t)
		admin := e.A.Admin
		q := url.QueryEscape(s)
		var rows strings.Builder
		w := csv.NewWriter(&rows)
		_ = w.WriteAll([][]string{{"email", "role"}, {s, "viewer"}, {"ok@example.com", s}})
		for _, req := range []request{
			{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"tenant": s, "username": s, "password": s}},
			{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"tenant": e.A.ID, "username": s, "password": s + "-long-enough"}},
			{Method: "POST", Path: "/api/v1/auth/passkey/begin", Body: map[string]any{"tenant": s}},
			{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": s}},
			{Method: "POST", Path: "/api/v1/auth/mfa/verify", Body: map[string]any{"mfa_token": s, "method": s, "code": s}},
			{Method: "POST", Path: "/api/v1/invitations/accept", Body: map[string]any{"token": s, "password": s, "user_name": s}},
			{Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{
				"email": s + "@example.com", "user_name": s, "given_name": s, "family_name": s, "external_id": s}},
			{Method: "PATCH", Path: "/api/v1/users/" + e.A.AdminID, Token: admin, Body: map[string]any{"display_name": s}},
			{Method: "POST", Path: "/api/v1/users/bulk", Token: admin, Body: map[string]any{"action": "remind_mfa", "filter": map[string]any{"q": s, "role": s}}},
			{Method: "POST", Path: "/api/v1/users/bulk", Token: admin, Body: map[string]any{"action": "remind_mfa", "ids": []string{s}}},
			{Method: "POST", Path: "/api/v1/invitations", Token: admin, Body: map[string]any{"email": s, "role": "viewer"}},
			{Method: "POST", Path: "/api/v1/invitations/bulk", Token: admin, Body: rows.String(), Header: map[string]string{"Content-Type": "text/csv"}},
			{Method: "PUT", Path: "/api/v1/scim-group-roles", Token: admin, Body: map[string]any{"mappings": map[string]any{s: "viewer", "g": s}}},
			{Method: "POST", Path: "/api/v1/scim-tokens", Token: admin, Body: map[string]any{"name": s}},
			{Method: "GET", Path: "/api/v1/users?q=" + q + "&role=" + q + "&mfa_method=" + q + "&sort=" + q + "&cursor=" + q, Token: admin},
			{Method: "GET", Path: "/api/v1/users?q=" + s, Token: admin},
			{Method: "GET", Path: "/api/v1/users/export?format=csv&q=" + q, Token: admin},
			{Method: "GET", Path: "/api/v1/audit-events?action=" + q + "&target_id=" + q + "&actor_id=" + q + "&cursor=" + q, Token: admin},
			{Method: "GET", Path: "/api/v1/invitations?status=" + q + "&cursor=" + q, Token: admin},
			{Method: "GET", Path: "/api/v1/stats?role=" + q, Token: admin},
			{Method: "GET", Path: "/api/v1/users/x" + url.PathEscape(s), Token: admin},
			{Method: "DELETE", Path: "/api/v1/invitations/x" + url.PathEscape(s), Token: admin},
			{Method: "GET", Path: "/api/v1/jobs/x" + url.PathEscape(s), Token: admin},
		} {
			if _, err := url.Parse(e.URL + req.Path); err != nil || !sendable(req.Path) {
				continue // the client cannot send it, or Go's server refuses it before Roster sees it
			}
			req.Invalid = true
			if r := e.do(req); r.Status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", req.Method, req.Path, s, r.Status, r.Body)
			}
		}
		if logs := e.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
			t.Fatalf("text %q logged an error:\n%s", s, logs)
		}
	})
}

// sendable reports whether a request target can be sent as it is: HTTP/1.1
// has no room for spaces or control characters in it.
func sendable(target string) bool {
	return !strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
