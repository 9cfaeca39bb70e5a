package scim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// testExtensions is what Roster declares: the enterprise extension on
// users, nothing on groups.
var testExtensions = map[string][]string{
	"Users":  {enterpriseSchemaURN},
	"Groups": nil,
}

// patchOpBody wraps operations in a PatchOp message.
func patchOpBody(ops ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// requireSameJSON fails unless got and want hold the same JSON value.
func requireSameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON differs\n got: %s\nwant: %s", got, want)
	}
}

// bodyRecorder is an inner handler that keeps the body it was given.
type bodyRecorder struct {
	called bool
	body   string
	length int64
}

func (b *bodyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.called, b.body, b.length = true, string(data), r.ContentLength
	w.WriteHeader(http.StatusNoContent)
}

func TestNormalizeRequestsPatch(t *testing.T) {
	const (
		manager  = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"`
		employee = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"`
	)
	tests := []struct {
		name, path, body, want string
	}{{
		name: "okta deactivation is already canonical",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"replace","value":{"active":false}}`),
		want: patchOpBody(`{"op":"replace","value":{"active":false}}`),
	}, {
		name: "entra active as a string at path active",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"Replace","path":"active","value":"False"}`),
		want: patchOpBody(`{"op":"replace","path":"active","value":false}`),
	}, {
		name: "active as a string in any case inside a value object",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"Replace","value":{"active":"TRUE"}}`, `{"op":"Add","value":{"Active":"false"}}`),
		want: patchOpBody(`{"op":"replace","value":{"active":true}}`, `{"op":"add","value":{"Active":false}}`),
	}, {
		name: "active that is not a boolean string is left for the library",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"replace","path":"active","value":"yes"}`),
		want: patchOpBody(`{"op":"replace","path":"active","value":"yes"}`),
	}, {
		name: "entra dotted and enterprise keys without a path",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"Replace","value":{"name.givenName":"A",` + employee + `:"7"}}`),
		want: patchOpBody(
			`{"op":"replace","path":"name.givenName","value":"A"}`,
			`{"op":"replace","path":`+employee+`,"value":"7"}`),
	}, {
		name: "plain keys stay together, qualified keys get a path each",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"replace","value":{"displayName":"D","active":"True","name.familyName":"F"}}`),
		want: patchOpBody(
			`{"op":"replace","value":{"displayName":"D","active":true}}`,
			`{"op":"replace","path":"name.familyName","value":"F"}`),
	}, {
		name: "core URN key without a path",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:userName":"x"}}`),
		want: patchOpBody(`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"x"}`),
	}, {
		name: "nested enterprise object without a path",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng","manager":"m1"}}}`),
		want: patchOpBody(
			`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Eng"}`,
			`{"op":"add","path":`+manager+`,"value":{"value":"m1"}}`),
	}, {
		name: "enterprise object at the extension path",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"c"}}`),
		want: patchOpBody(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter","value":"c"}`),
	}, {
		name: "entra manager as a bare id",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"Add","path":` + manager + `,"value":"mgr-id"}`),
		want: patchOpBody(`{"op":"add","path":` + manager + `,"value":{"value":"mgr-id"}}`),
	}, {
		name: "manager as a bare id without a path",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"replace","value":{` + manager + `:"mgr-id"}}`),
		want: patchOpBody(`{"op":"replace","path":` + manager + `,"value":{"value":"mgr-id"}}`),
	}, {
		name: "empty manager clears it",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"Replace","path":`+manager+`,"value":""}`, `{"op":"replace","value":{`+manager+`:{"value":""}}}`),
		want: patchOpBody(`{"op":"remove","path":`+manager+`}`, `{"op":"remove","path":`+manager+`}`),
	}, {
		name: "okta group rename sends the group id",
		path: "/scim/v2/Groups/abf4dd94",
		body: patchOpBody(`{"op":"replace","value":{"id":"abf4dd94","displayName":"Test SCIMv2"}}`),
		want: patchOpBody(`{"op":"replace","value":{"displayName":"Test SCIMv2"}}`),
	}, {
		name: "entra add members",
		path: "/scim/v2/Groups/g1",
		body: patchOpBody(`{"op":"Add","path":"members","value":[{"value":"id"}]}`),
		want: patchOpBody(`{"op":"add","path":"members","value":[{"value":"id"}]}`),
	}, {
		name: "entra remove a member by filter",
		path: "/scim/v2/Groups/g1",
		body: patchOpBody(`{"op":"Remove","path":"members[value eq \"id\"]"}`),
		want: patchOpBody(`{"op":"remove","path":"members[value eq \"id\"]"}`),
	}, {
		name: "members as bare ids",
		path: "/scim/v2/Groups/g1",
		body: patchOpBody(`{"op":"add","path":"members","value":["id1","id2"]}`, `{"op":"add","path":"members","value":"id3"}`),
		want: patchOpBody(`{"op":"add","path":"members","value":[{"value":"id1"},{"value":"id2"}]}`, `{"op":"add","path":"members","value":[{"value":"id3"}]}`),
	}, {
		name: "entra members with a null $ref, added and removed",
		path: "/scim/v2/Groups/g1",
		body: patchOpBody(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"id"}]}`, `{"op":"Remove","path":"members","value":[{"$ref":null,"value":"id"}]}`),
		want: patchOpBody(`{"op":"add","path":"members","value":[{"value":"id"}]}`, `{"op":"remove","path":"members","value":[{"value":"id"}]}`),
	}, {
		name: "members without a path",
		path: "/scim/v2/Groups/g1",
		body: patchOpBody(`{"op":"add","value":{"members":["id1"]}}`),
		want: patchOpBody(`{"op":"add","value":{"members":[{"value":"id1"}]}}`),
	}, {
		name: "operation keys in another case",
		path: "/scim/v2/Users/u1",
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"OP":"Remove","Path":"title"}]}`,
		want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"op":"remove","path":"title"}]}`,
	}, {
		name: "filter literals may hold colons and dots",
		path: "/scim/v2/Users/u1",
		body: patchOpBody(`{"op":"Replace","path":"emails[value eq \"a:b.c\"].value","value":"x@y"}`),
		want: patchOpBody(`{"op":"replace","path":"emails[value eq \"a:b.c\"].value","value":"x@y"}`),
	}, {
		name: "a resource type that declares no extension is not split",
		path: "/scim/v2/Groups/g1",
		body: patchOpBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"d"}}`),
		want: patchOpBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"d"}}`),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &bodyRecorder{}
			h := normalizeRequests(1<<20, testExtensions)(inner)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, tt.path, strings.NewReader(tt.body)))
			if !inner.called {
				t.Fatalf("inner handler not called; status %d: %s", rec.Code, rec.Body)
			}
			requireSameJSON(t, inner.body, tt.want)
			if inner.length != int64(len(inner.body)) {
				t.Errorf("ContentLength = %d, body has %d bytes", inner.length, len(inner.body))
			}
		})
	}
}

func TestNormalizeRequestsResource(t *testing.T) {
	tests := []struct {
		name, method, path, body, want string
	}{{
		name:   "okta GET-then-PUT sends back id, meta and groups",
		method: http.MethodPut,
		path:   "/scim/v2/Users/23a35c27",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"23a35c27","userName":"test.user@okta.local",
			"name":{"givenName":"Another","familyName":"User"},"active":true,"groups":[],"meta":{"resourceType":"User"}}`,
		want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
			"name":{"givenName":"Another","familyName":"User"},"active":true}`,
	}, {
		name:   "active as a string",
		method: http.MethodPost,
		path:   "/scim/v2/Users",
		body:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":"True"}`,
		want:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":true}`,
	}, {
		name:   "enterprise manager as a bare id, and as empty",
		method: http.MethodPost,
		path:   "/scim/v2/Users",
		body:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m1","department":"d"}}`,
		want:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"},"department":"d"}}`,
	}, {
		name:   "empty manager on PUT means none",
		method: http.MethodPut,
		path:   "/scim/v2/Users/u1",
		body:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":""}}`,
		want:   `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{}}`,
	}, {
		name:   "entra group with an extension the type does not declare",
		method: http.MethodPost,
		path:   "/scim/v2/Groups",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:ietf:params:scim:schemas:extension:Entra:2.0:Group"],
			"displayName":"g","externalId":"e","meta":{"resourceType":"Group"},
			"urn:ietf:params:scim:schemas:extension:Entra:2.0:Group":{"x":1},"members":["u1",{"value":"u2","$ref":null}]}`,
		want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","externalId":"e",
			"members":[{"value":"u1"},{"value":"u2"}]}`,
	}, {
		name:   "the declared extension stays",
		method: http.MethodPost,
		path:   "/scim/v2/Users",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"}}`,
		want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"}}`,
	}, {
		name:   "numbers keep their exact form",
		method: http.MethodPost,
		path:   "/scim/v2/Users",
		body:   `{"userName":"a","x":12345678901234567890}`,
		want:   `{"userName":"a","x":12345678901234567890}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &bodyRecorder{}
			h := normalizeRequests(1<<20, testExtensions)(inner)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if !inner.called {
				t.Fatal("inner handler not called")
			}
			requireSameJSON(t, inner.body, tt.want)
			if tt.name == "numbers keep their exact form" && !strings.Contains(inner.body, "12345678901234567890") {
				t.Errorf("number rewritten: %s", inner.body)
			}
		})
	}
}

func TestNormalizeRequestsPassThrough(t *testing.T) {
	tests := []struct {
		name, method, path, body string
	}{
		{"malformed JSON", http.MethodPatch, "/scim/v2/Users/u1", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace",`},
		{"JSON that is not an object", http.MethodPost, "/scim/v2/Users", `["active","True"]`},
		{"two JSON values", http.MethodPost, "/scim/v2/Users", `{"active":"True"}{}`},
		{"an endpoint that is not a resource type", http.MethodPost, "/scim/v2/Bulk", `{"Operations":[{"method":"POST","data":{"active":"True"}}]}`},
		{"DELETE", http.MethodDelete, "/scim/v2/Users/u1", `{"active":"True"}`},
		{"GET", http.MethodGet, "/scim/v2/Users", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &bodyRecorder{}
			h := normalizeRequests(1<<20, testExtensions)(inner)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if !inner.called {
				t.Fatal("inner handler not called")
			}
			if inner.body != tt.body {
				t.Errorf("body changed\n got: %s\nwant: %s", inner.body, tt.body)
			}
		})
	}
}

func TestNormalizeRequestsBodyLimit(t *testing.T) {
	const limit = 64
	fits := `{"userName":"` + strings.Repeat("a", limit-15) + `"}`
	over := `{"userName":"` + strings.Repeat("a", limit-14) + `"}`
	tests := []struct {
		name          string
		body          string
		contentLength int64 // -1: unknown, as with chunked uploads
		wantStatus    int
	}{
		{"at the limit", fits, int64(len(fits)), http.StatusNoContent},
		{"over the limit", over, int64(len(over)), http.StatusRequestEntityTooLarge},
		{"over the limit, length unknown", over, -1, http.StatusRequestEntityTooLarge},
		{"declared over the limit", fits, limit + 1, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &bodyRecorder{}
			h := normalizeRequests(limit, testExtensions)(inner)
			req := httptest.NewRequest(http.MethodPost, "/scim/v2/Users", strings.NewReader(tt.body))
			req.ContentLength = tt.contentLength
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusRequestEntityTooLarge {
				return
			}
			if inner.called {
				t.Error("inner handler called for a body over the limit")
			}
			if ct := rec.Header().Get("Content-Type"); ct != scimContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			requireSameJSON(t, rec.Body.String(),
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"413","detail":"the request body is larger than 64 bytes"}`)
		})
	}
}
