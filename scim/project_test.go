package scim

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProjectAttributes(t *testing.T) {
	const user = `{
		"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"id":"u1","externalId":"e1","userName":"ada","active":true,
		"name":{"givenName":"Ada","familyName":"Lovelace"},
		"emails":[{"value":"ada@example.com","type":"work","primary":true},{"type":"home"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng","employeeNumber":"7"},
		"meta":{"resourceType":"User","location":"Users/u1"}}`
	const group = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng",
		"members":[{"value":"u1","display":"ada"}],"meta":{"resourceType":"Group","location":"Groups/g1"}}`
	const always = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"id":"u1","meta":{"resourceType":"User","location":"Users/u1"}`
	tests := []struct {
		name, method, query, body, want string
	}{{
		name: "attributes keeps the named ones and those returned always", query: "attributes=userName",
		body: user, want: `{` + always + `,"userName":"ada"}`,
	}, {
		name: "names are case-insensitive", query: "attributes=USERNAME,ExternalId",
		body: user, want: `{` + always + `,"userName":"ada","externalId":"e1"}`,
	}, {
		name: "a sub-attribute", query: "attributes=name.givenName",
		body: user, want: `{` + always + `,"name":{"givenName":"Ada"}}`,
	}, {
		name: "a sub-attribute of a multi-valued attribute", query: "attributes=emails.value",
		body: user, want: `{` + always + `,"emails":[{"value":"ada@example.com"}]}`,
	}, {
		// Not RFC 7644's attribute notation, but what Microsoft's reference
		// tests send: the attribute is returned whole.
		name: "a value filter in a name selects the attribute", query: `attributes=emails%5Btype+eq+%22a,b%22%5D,userName`,
		body: user, want: `{` + always + `,"userName":"ada","emails":[{"value":"ada@example.com","type":"work","primary":true},{"type":"home"}]}`,
	}, {
		name: "a value filter before a sub-attribute", query: `attributes=emails%5Bvalue+eq+%22x%22%5D.value`,
		body: user, want: `{` + always + `,"emails":[{"value":"ada@example.com"}]}`,
	}, {
		name: "an attribute and one of its sub-attributes", query: "attributes=name.givenName,name",
		body: user, want: `{` + always + `,"name":{"givenName":"Ada","familyName":"Lovelace"}}`,
	}, {
		name:  "an enterprise attribute keeps only that key in the extension",
		query: "attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		body:  user,
		want:  `{` + always + `,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng"}}`,
	}, {
		name:  "the whole extension",
		query: "attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		body:  user,
		want:  `{` + always + `,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng","employeeNumber":"7"}}`,
	}, {
		name: "a core attribute with its URN", query: "attributes=urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
		body: user, want: `{` + always + `,"name":{"familyName":"Lovelace"}}`,
	}, {
		name: "an unknown name selects nothing", query: "attributes=nickName,urn:example:Nope:x",
		body: user, want: `{` + always + `}`,
	}, {
		name: "excludedAttributes removes members from a group", query: "excludedAttributes=members",
		body: group, want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng","meta":{"resourceType":"Group","location":"Groups/g1"}}`,
	}, {
		name: "excludedAttributes cannot remove what is returned always", query: "excludedAttributes=id,schemas,meta,members",
		body: group, want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng","meta":{"resourceType":"Group","location":"Groups/g1"}}`,
	}, {
		name:  "excluded sub-attributes and enterprise attributes",
		query: "excludedAttributes=name.givenName,emails.type,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,active",
		body:  user,
		want: `{` + always + `,"externalId":"e1","userName":"ada","name":{"familyName":"Lovelace"},` +
			`"emails":[{"value":"ada@example.com","primary":true}],` +
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng"}}`,
	}, {
		name: "an excluded sub-attribute that leaves nothing takes its attribute along", query: "excludedAttributes=emails.value,emails.type,emails.primary,name.givenName,name.familyName",
		body: user, want: `{` + always + `,"externalId":"e1","userName":"ada","active":true,` +
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng","employeeNumber":"7"}}`,
	}, {
		name: "attributes wins over excludedAttributes", query: "attributes=userName&excludedAttributes=userName",
		body: user, want: `{` + always + `,"userName":"ada"}`,
	}, {
		name: "repeated parameters add up", query: "attributes=userName&attributes=active",
		body: user, want: `{` + always + `,"userName":"ada","active":true}`,
	}, {
		name: "each resource of a list", query: "attributes=displayName",
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"itemsPerPage":1,"startIndex":1,"Resources":[` + group + `]}`,
		want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"itemsPerPage":1,"startIndex":1,` +
			`"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng","meta":{"resourceType":"Group","location":"Groups/g1"}}]}`,
	}, {
		name: "the response to a PATCH", method: http.MethodPatch, query: "excludedAttributes=members",
		body: group, want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng","meta":{"resourceType":"Group","location":"Groups/g1"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			h := projectAttributes(cannedResponse(http.StatusOK, http.Header{"Content-Type": {scimContentType}}, tt.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, "/scim/v2/Users?"+tt.query, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			requireSameJSON(t, rec.Body.String(), tt.want)
		})
	}
}

func TestProjectAttributesLeavesAlone(t *testing.T) {
	const errorBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Resource u1 not found.","status":"404"}`
	tests := []struct {
		name, method, query string
		status              int
		body                string
	}{
		{"no parameters", http.MethodGet, "", http.StatusOK, `{"id":"u1",  "userName":"ada"}`},
		{"empty parameters", http.MethodGet, "attributes=&excludedAttributes=", http.StatusOK, `{"id":"u1",  "userName":"ada"}`},
		{"an error", http.MethodGet, "attributes=userName", http.StatusNotFound, errorBody},
		{"a DELETE", http.MethodDelete, "attributes=userName", http.StatusOK, `{"id":"u1",  "userName":"ada"}`},
		{"a body that is not JSON", http.MethodGet, "attributes=userName", http.StatusOK, `not json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := projectAttributes(cannedResponse(tt.status, nil, tt.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/scim/v2/Users/u1?"+tt.query, nil))
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.body)
			}
		})
	}
}
