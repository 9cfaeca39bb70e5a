package scim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	elimity "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// memoryResources is a trivial resource handler that keeps resources in a
// map and records what the library hands it.
type memoryResources struct {
	mu        sync.Mutex
	kind      string
	resources map[string]elimity.ResourceAttributes
	lastAttrs elimity.ResourceAttributes
	lastOps   []elimity.PatchOperation
	failPatch error
}

var _ elimity.ResourceHandler = (*memoryResources)(nil)

func newMemoryResources(kind string, ids ...string) *memoryResources {
	m := &memoryResources{kind: kind, resources: map[string]elimity.ResourceAttributes{}}
	for _, id := range ids {
		m.resources[id] = elimity.ResourceAttributes{}
	}
	return m
}

func (m *memoryResources) resource(id string) elimity.Resource {
	return elimity.Resource{ID: id, Attributes: maps.Clone(m.resources[id]), Meta: elimity.Meta{Version: `W/"1"`}}
}

func (m *memoryResources) Create(_ *http.Request, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := fmt.Sprintf("%s%d", m.kind, len(m.resources)+1)
	m.lastAttrs, m.resources[id] = attrs, maps.Clone(attrs)
	return m.resource(id), nil
}

func (m *memoryResources) Get(_ *http.Request, id string) (elimity.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.resources[id]; !ok {
		return elimity.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return m.resource(id), nil
}

func (m *memoryResources) GetAll(_ *http.Request, _ elimity.ListRequestParams) (elimity.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var page elimity.Page
	for id := range m.resources {
		page.Resources = append(page.Resources, m.resource(id))
	}
	page.TotalResults = len(page.Resources)
	return page, nil
}

func (m *memoryResources) Replace(_ *http.Request, id string, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastAttrs, m.resources[id] = attrs, maps.Clone(attrs)
	return m.resource(id), nil
}

func (m *memoryResources) Delete(_ *http.Request, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.resources, id)
	return nil
}

func (m *memoryResources) Patch(_ *http.Request, id string, ops []elimity.PatchOperation) (elimity.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPatch != nil {
		return elimity.Resource{}, m.failPatch
	}
	m.lastOps = ops
	res := m.resource(id)
	res.Attributes["patched"] = true
	return res, nil
}

// libraryTree serves the library's own User (with the enterprise
// extension) and Group schemas under /scim/v2, as Roster mounts it.
func libraryTree(t *testing.T, users, groups *memoryResources) http.Handler {
	t.Helper()
	lib, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{SupportPatch: true, SupportFiltering: true},
		ResourceTypes: []elimity.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
			Schema:           schema.CoreUserSchema(),
			SchemaExtensions: []elimity.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
			Handler:          users,
		}, {
			ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
			Schema:  schema.CoreGroupSchema(),
			Handler: groups,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return http.StripPrefix("/scim", lib)
}

// describeOps renders operations as the handler sees them, one per line.
func describeOps(ops []elimity.PatchOperation) string {
	lines := make([]string, len(ops))
	for i, op := range ops {
		path := "-"
		if op.Path != nil {
			path = op.Path.String()
		}
		value, err := json.Marshal(op.Value)
		if err != nil {
			value = []byte(err.Error())
		}
		lines[i] = op.Op + " " + path + " " + string(value)
	}
	return strings.Join(lines, "\n")
}

// TestNormalizeRequestsInFrontOfTheLibrary sends the bodies Okta and Entra
// really send to the library, with and without normalisation.
func TestNormalizeRequestsInFrontOfTheLibrary(t *testing.T) {
	const (
		enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
		manager    = enterprise + ":manager"
	)
	tests := []struct {
		name, method, path, body string
		// without is the library's own answer; for a 2xx, misread says
		// what a resource handler gets that it would have to untangle.
		without int
		misread string
		// wantOps or wantAttrs is what the handler gets with normalisation.
		wantOps, wantAttrs string
	}{{
		name: "okta deactivate (baseline)", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"replace","value":{"active":false}}`),
		without: http.StatusOK,
		wantOps: `replace - {"active":false}`,
	}, {
		name: "entra active as a string", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"Replace","path":"active","value":"False"}`),
		without: http.StatusBadRequest,
		wantOps: `replace active false`,
	}, {
		name: "entra dotted and enterprise keys without a path", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"Replace","value":{"name.givenName":"A","` + enterprise + `:employeeNumber":"7"}}`),
		without: http.StatusOK,
		misread: `replace - {"name.givenName":"A","` + enterprise + `:employeeNumber":"7"}`,
		wantOps: "replace name.givenName \"A\"\nreplace " + enterprise + ":employeeNumber \"7\"",
	}, {
		name: "core URN key without a path", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:userName":"x"}}`),
		without: http.StatusOK,
		misread: `replace - {"urn:ietf:params:scim:schemas:core:2.0:User:userName":"x"}`,
		wantOps: `replace urn:ietf:params:scim:schemas:core:2.0:User:userName "x"`,
	}, {
		name: "nested enterprise object without a path", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"add","value":{"` + enterprise + `":{"department":"Eng"}}}`),
		without: http.StatusBadRequest,
		wantOps: `add ` + enterprise + `:department "Eng"`,
	}, {
		name: "entra manager as a bare id", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"Add","path":"` + manager + `","value":"mgr-id"}`),
		without: http.StatusBadRequest,
		wantOps: `add ` + manager + ` {"value":"mgr-id"}`,
	}, {
		name: "entra clears the manager with an empty string", method: http.MethodPatch, path: "/scim/v2/Users/u1",
		body:    patchOpBody(`{"op":"Replace","path":"` + manager + `","value":""}`),
		without: http.StatusBadRequest,
		wantOps: `remove ` + manager + ` null`,
	}, {
		name: "okta group rename with the group id", method: http.MethodPatch, path: "/scim/v2/Groups/g1",
		body:    patchOpBody(`{"op":"replace","value":{"id":"g1","displayName":"Test SCIMv2"}}`),
		without: http.StatusOK, // the library drops id itself
		wantOps: `replace - {"displayName":"Test SCIMv2"}`,
	}, {
		name: "entra add members (baseline)", method: http.MethodPatch, path: "/scim/v2/Groups/g1",
		body:    patchOpBody(`{"op":"Add","path":"members","value":[{"value":"id"}]}`),
		without: http.StatusOK,
		wantOps: `add members [{"value":"id"}]`,
	}, {
		name: "entra remove a member by filter (baseline)", method: http.MethodPatch, path: "/scim/v2/Groups/g1",
		body:    patchOpBody(`{"op":"Remove","path":"members[value eq \"id\"]"}`),
		without: http.StatusOK,
		wantOps: `remove members[value eq "id"] null`,
	}, {
		name: "entra members with a null $ref", method: http.MethodPatch, path: "/scim/v2/Groups/g1",
		body:    patchOpBody(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"id"}]}`),
		without: http.StatusOK, // the library drops the null itself
		wantOps: `add members [{"value":"id"}]`,
	}, {
		name: "members as bare ids", method: http.MethodPatch, path: "/scim/v2/Groups/g1",
		body:    patchOpBody(`{"op":"add","path":"members","value":["id1","id2"]}`),
		without: http.StatusBadRequest,
		wantOps: `add members [{"value":"id1"},{"value":"id2"}]`,
	}, {
		name: "create a user with active as a string", method: http.MethodPost, path: "/scim/v2/Users",
		body:      `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":"True"}`,
		without:   http.StatusBadRequest,
		wantAttrs: `{"userName":"a","active":true}`,
	}, {
		name: "create a user with the manager as a bare id", method: http.MethodPost, path: "/scim/v2/Users",
		body:      `{"userName":"a","` + enterprise + `":{"manager":"m1"}}`,
		without:   http.StatusBadRequest,
		wantAttrs: `{"userName":"a","` + enterprise + `":{"manager":{"value":"m1"}}}`,
	}, {
		name: "entra group with bare members and its own extension", method: http.MethodPost, path: "/scim/v2/Groups",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:ietf:params:scim:schemas:extension:Entra:2.0:Group"],` +
			`"displayName":"g","members":["u1"],"urn:ietf:params:scim:schemas:extension:Entra:2.0:Group":{"x":1}}`,
		without:   http.StatusBadRequest,
		wantAttrs: `{"displayName":"g","members":[{"value":"u1"}]}`,
	}, {
		name: "okta GET-then-PUT (the library ignores read-only values)", method: http.MethodPut, path: "/scim/v2/Users/u1",
		body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"test.user@okta.local",` +
			`"active":true,"groups":[{"value":"g1"}],"meta":{"resourceType":"User"}}`,
		without:   http.StatusOK,
		wantAttrs: `{"userName":"test.user@okta.local","active":true}`,
	}}
	extensions := map[string][]string{"Users": {enterprise}, "Groups": nil}
	serve := func(t *testing.T, normalize bool, method, path, body string) (int, *memoryResources) {
		users, groups := newMemoryResources("u", "u1"), newMemoryResources("g", "g1")
		h := libraryTree(t, users, groups)
		if normalize {
			h = normalizeRequests(1<<20, extensions)(h)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		if strings.Contains(path, "/Groups") {
			return rec.Code, groups
		}
		return rec.Code, users
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := serve(t, false, tt.method, tt.path, tt.body)
			if status != tt.without {
				t.Errorf("without normalisation: status %d, want %d", status, tt.without)
			}
			if tt.misread != "" {
				if ops := describeOps(got.lastOps); ops != tt.misread {
					t.Errorf("without normalisation the handler gets\n%s\nwant\n%s", ops, tt.misread)
				}
			}

			status, got = serve(t, true, tt.method, tt.path, tt.body)
			if status < 200 || status > 299 {
				t.Fatalf("with normalisation: status %d", status)
			}
			if tt.wantOps != "" {
				if ops := describeOps(got.lastOps); ops != tt.wantOps {
					t.Errorf("with normalisation the handler gets\n%s\nwant\n%s", ops, tt.wantOps)
				}
			}
			if tt.wantAttrs != "" {
				attrs, err := json.Marshal(got.lastAttrs)
				if err != nil {
					t.Fatal(err)
				}
				requireSameJSON(t, string(attrs), tt.wantAttrs)
			}
		})
	}

	t.Run("malformed JSON is the library's 400 either way", func(t *testing.T) {
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`
		for _, normalize := range []bool{false, true} {
			if status, _ := serve(t, normalize, http.MethodPost, "/scim/v2/Users", body); status != http.StatusBadRequest {
				t.Errorf("normalize=%v: status %d, want 400", normalize, status)
			}
		}
	})
}

// TestMiddlewareChainOnTheLibrary runs the whole chain the way Roster
// mounts it in front of the library.
func TestMiddlewareChainOnTheLibrary(t *testing.T) {
	base, err := url.Parse("https://roster.example/scim/v2")
	if err != nil {
		t.Fatal(err)
	}
	users, groups := newMemoryResources("u"), newMemoryResources("g")
	h := normalizeRequests(1<<20, map[string][]string{"Users": {schema.ExtensionEnterpriseUser().ID}, "Groups": nil})(
		fixResponses(base, nil)(projectAttributes(libraryTree(t, users, groups))))
	call := func(method, target, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
		return rec
	}

	rec := call(http.MethodGet, "/scim/v2/Users", "")
	requireSameJSON(t, rec.Body.String(),
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"itemsPerPage":0,"startIndex":1,"Resources":[]}`)

	rec = call(http.MethodPost, "/scim/v2/Users?attributes=userName",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","active":"True","displayName":"Ada"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	const location = "https://roster.example/scim/v2/Users/u1"
	for k, want := range map[string]string{"Location": location, "Etag": `W/"1"`, "Content-Type": scimContentType} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("POST: %s = %q, want %q", k, got, want)
		}
	}
	requireSameJSON(t, rec.Body.String(), `{"id":"u1","userName":"ada",`+
		`"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],`+
		`"meta":{"resourceType":"User","location":"`+location+`","version":"W/\"1\""}}`)

	rec = call(http.MethodGet, "/scim/v2/Users?excludedAttributes=active,displayName,userName", "")
	requireSameJSON(t, rec.Body.String(), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"itemsPerPage":1,"startIndex":1,`+
		`"Resources":[{"id":"u1","schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],`+
		`"meta":{"resourceType":"User","location":"`+location+`","version":"W/\"1\""}}]}`)

	users.failPatch = fmt.Errorf("update user: %w", fmt.Errorf("pq: deadlock detected"))
	rec = call(http.MethodPatch, "/scim/v2/Users/u1", patchOpBody(`{"op":"Replace","path":"active","value":"False"}`))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "deadlock") {
		t.Errorf("PATCH failing in the handler: %d %s", rec.Code, rec.Body)
	}
	requireSameJSON(t, rec.Body.String(), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"internal error","status":"500"}`)
}
