package scim_test

import (
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
)

// FuzzSCIMText puts arbitrary text in every place a SCIM request carries
// client text to the database: attributes, sub-attributes, extension and
// PATCH values, bulk data, filters and other query parameters, resource
// ids, If-Match. Whatever it is, the answer is never a 5xx.
func FuzzSCIMText(f *testing.F) {
	for _, s := range []string{
		"", "a", "\x00", "a\x00b", "\xff", "\xed\xa0\x80", "%", "%zz", "%00", `"`, `\`, `a" or "1" eq "1`,
		"'; DROP TABLE users; --", "_%", "é\u2028\ufeff", "\x01\x7f", strings.Repeat("x", 300), "W/\"1\"",
	} {
		f.Add(s)
	}
	e := newSCIMEnv(f) // one service for every input, as a fuzzing worker runs them one after another
	f.Fuzz(func(t *testing.T, s string) {
		e.t = t
		ifMatch := s
		if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			ifMatch = "" // no client can send it
		}
		for _, c := range scimTextCalls(e, s) {
			if r := e.call(c.method, c.path, e.A.SCIM, c.body, "If-Match", ifMatch); r.Status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", c.method, c.path, s, r.Status, r.Raw)
			}
		}
	})
}

type scimCall struct {
	method, path string
	body         any
}

// scimTextCalls are the requests FuzzSCIMText sends with s. Each user
// carries s in one place, so that one attribute's check cannot hide
// another's path to the database.
func scimTextCalls(e *scimEnv, s string) []scimCall {
	user := func(set func(u map[string]any)) map[string]any {
		name := "fuzz-" + rand.Text() // a new user each time, so that the value reaches the insert
		u := map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "emails": []any{map[string]any{"value": name + "@example.com", "primary": true}},
		}
		set(u)
		return u
	}
	var calls []scimCall
	for _, u := range []map[string]any{
		user(func(u map[string]any) { u["userName"] = s }),
		user(func(u map[string]any) { u["emails"] = []any{map[string]any{"value": s}} }),
		user(func(u map[string]any) { u["emails"] = []any{map[string]any{"value": "typed@example.com", "type": s}} }),
		user(func(u map[string]any) { u["phoneNumbers"] = []any{map[string]any{"value": s}} }),
		user(func(u map[string]any) { u["name"] = map[string]any{"givenName": s} }),
		user(func(u map[string]any) { u["title"] = s }),
		user(func(u map[string]any) { u["externalId"] = s }),
		user(func(u map[string]any) { u[s] = s }),
		user(func(u map[string]any) {
			u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"department": s}
		}),
	} {
		calls = append(calls,
			scimCall{"POST", "/scim/v2/Users", u},
			scimCall{"PUT", "/scim/v2/Users/" + e.A.AdminID, u},
			scimCall{"POST", "/scim/v2/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
				"Operations": []any{map[string]any{"method": "POST", "path": "/Users", "bulkId": "b", "data": u}}}})
	}
	for _, op := range []map[string]any{
		{"op": "replace", "path": "title", "value": s},
		{"op": "add", "path": `emails[type eq "work"].type`, "value": s},
		{"op": "add", "path": s, "value": "x"},
		{"op": "replace", "value": map[string]any{"nickName": s}},
	} {
		calls = append(calls, scimCall{"PATCH", "/scim/v2/Users/" + e.A.AdminID,
			map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{op}}})
	}
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
	return append(calls,
		scimCall{"POST", "/scim/v2/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": s}},
		scimCall{"POST", "/scim/v2/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "g-" + rand.Text(), "externalId": s}},
		scimCall{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "`+quoted+`"`), nil},
		scimCall{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`emails[type eq "`+quoted+`"].value sw "`+quoted+`"`), nil},
		scimCall{"GET", "/scim/v2/Groups?filter=" + url.QueryEscape(`displayName co "`+quoted+`"`), nil},
		scimCall{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(s) + "&attributes=" + url.QueryEscape(s) + "&startIndex=" + url.QueryEscape(s), nil},
		scimCall{"GET", "/scim/v2/Users/x" + url.PathEscape(s), nil},
		scimCall{"DELETE", "/scim/v2/Groups/x" + url.PathEscape(s), nil},
	)
}
