package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

const bulkTestToken = "Bearer bulk-test-token"

// bulkFake is an in-memory SCIM service provider for /Users and /Groups,
// serving paths relative to the SCIM root.
type bulkFake struct {
	mu        sync.Mutex
	seq       int
	resources map[string]map[string]any // "/Users/{id}" -> resource
	created   []string                  // userName or displayName, in creation order
	seen      []bulkSeen                // every request, in order
}

// bulkSeen is what the fake saw of one request.
type bulkSeen struct {
	method, path, auth, requestID, contentType, ifMatch string
	principal                                           bool
	ctxRequestID                                        string
}

func newBulkFake() *bulkFake {
	return &bulkFake{resources: map[string]map[string]any{}}
}

func (f *bulkFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, bulkSeen{
		method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"),
		requestID: r.Header.Get("X-Request-Id"), contentType: r.Header.Get("Content-Type"),
		ifMatch: r.Header.Get("If-Match"), principal: roster.PrincipalFromContext(r.Context()) != nil,
		ctxRequestID: roster.RequestIDFromContext(r.Context()),
	})
	segments := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if segments[0] != "Users" && segments[0] != "Groups" {
		http.NotFound(w, r) // plain text, like a router's default
		return
	}
	var body map[string]any
	if r.Method != http.MethodDelete {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			fakeSCIMError(w, http.StatusBadRequest, "invalidSyntax", err.Error())
			return
		}
	}
	switch {
	case len(segments) == 1 && r.Method == http.MethodPost:
		f.create(w, segments[0], body)
	case len(segments) == 2:
		f.change(w, r, "/"+segments[0]+"/"+segments[1], body)
	default:
		fakeSCIMError(w, http.StatusMethodNotAllowed, "", "method not allowed")
	}
}

func (f *bulkFake) create(w http.ResponseWriter, kind string, body map[string]any) {
	name, _ := body["userName"].(string)
	if kind == "Groups" {
		name, _ = body["displayName"].(string)
	}
	if kind == "Users" && slices.Contains(f.created, name) {
		fakeSCIMError(w, http.StatusConflict, "uniqueness", "userName "+name+" is taken")
		return
	}
	if err := f.checkMembers(body["members"]); err != nil {
		fakeSCIMError(w, http.StatusBadRequest, "invalidValue", err.Error())
		return
	}
	f.seq++
	id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", f.seq)
	body["id"] = id
	body["meta"] = map[string]any{"location": "https://roster.test/scim/v2/" + kind + "/" + id, "version": `W/"1"`}
	f.resources["/"+kind+"/"+id] = body
	f.created = append(f.created, name)
	if kind == "Users" {
		// Groups answer without these headers, so results must fall back on meta.
		w.Header().Set("Location", "https://roster.test/scim/v2/Users/"+id)
		w.Header().Set("ETag", `W/"1"`)
	}
	fakeSCIMJSON(w, http.StatusCreated, body)
}

func (f *bulkFake) change(w http.ResponseWriter, r *http.Request, key string, body map[string]any) {
	current, ok := f.resources[key]
	if !ok {
		fakeSCIMError(w, http.StatusNotFound, "", "no resource "+key)
		return
	}
	meta := current["meta"].(map[string]any)
	if v := r.Header.Get("If-Match"); v != "" && v != meta["version"] {
		fakeSCIMError(w, http.StatusPreconditionFailed, "", "version mismatch")
		return
	}
	switch r.Method {
	case http.MethodDelete:
		delete(f.resources, key)
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPut:
		body["id"], body["meta"] = current["id"], meta
		current = body
	case http.MethodPatch:
		if err := f.patchMembers(current, body); err != nil {
			fakeSCIMError(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
	}
	meta["version"] = `W/"2"`
	f.resources[key] = current
	fakeSCIMJSON(w, http.StatusOK, current)
}

// patchMembers applies {"Operations":[{"op":"add","path":"members","value":[...]}]}.
func (f *bulkFake) patchMembers(group, patch map[string]any) error {
	ops, _ := patch["Operations"].([]any)
	for _, op := range ops {
		value := op.(map[string]any)["value"]
		if err := f.checkMembers(value); err != nil {
			return err
		}
		members, _ := group["members"].([]any)
		group["members"] = append(members, value.([]any)...)
	}
	return nil
}

func (f *bulkFake) checkMembers(members any) error {
	list, _ := members.([]any)
	for _, m := range list {
		id, _ := m.(map[string]any)["value"].(string)
		if f.resources["/Users/"+id] == nil && f.resources["/Groups/"+id] == nil {
			return fmt.Errorf("member %q does not exist", id)
		}
	}
	return nil
}

func (f *bulkFake) memberIDs(t *testing.T, groupID string) []string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	group := f.resources["/Groups/"+groupID]
	if group == nil {
		t.Fatalf("no group %q", groupID)
	}
	var ids []string
	members, _ := group["members"].([]any)
	for _, m := range members {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	return ids
}

func (f *bulkFake) requests() []bulkSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

func fakeSCIMJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", bulkMediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fakeSCIMError(w http.ResponseWriter, status int, scimType, detail string) {
	fakeSCIMJSON(w, status, bulkErrorBody{Schemas: []string{bulkErrorSchema}, Status: fmt.Sprint(status), ScimType: scimType, Detail: detail})
}

// newBulkTestTree wires /Bulk the way Server.Handler does: a chi router
// mounted at /scim/v2, authenticating every request, that hands what it
// does not route itself to a handler reading the full URL path.
func newBulkTestTree(maxOperations int, maxPayloadSize int64) (*bulkFake, http.Handler) {
	fake := newBulkFake()
	library := http.StripPrefix("/scim/v2", fake)
	scimRouter := chi.NewRouter()
	scimRouter.Use(bulkTestAuth)
	scimRouter.Post("/Bulk", newBulkHandler(scimRouter, maxOperations, maxPayloadSize).ServeHTTP)
	scimRouter.Get("/Users", library.ServeHTTP)
	scimRouter.NotFound(library.ServeHTTP)
	scimRouter.MethodNotAllowed(library.ServeHTTP)
	root := chi.NewRouter()
	root.Mount("/scim/v2", scimRouter)
	return fake, root
}

func bulkTestAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != bulkTestToken {
			fakeSCIMError(w, http.StatusUnauthorized, "", "a bearer token is required")
			return
		}
		p := &roster.Principal{Kind: roster.PrincipalAPIToken, TenantID: "t1", Roles: []string{roster.RoleAdmin}}
		next.ServeHTTP(w, r.WithContext(roster.NewContextWithPrincipal(r.Context(), p)))
	})
}

// bulkTestResponse holds a bulk response or a SCIM error.
type bulkTestResponse struct {
	Schemas    []string
	Status     string
	ScimType   string
	Detail     string
	Operations []struct {
		Method, BulkID, Version, Location, Status string
		Response                                  *bulkErrorBody
	}
}

func bulkPost(t *testing.T, h http.Handler, body string) (int, bulkTestResponse) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/scim/v2/Bulk", strings.NewReader(body))
	req.Header.Set("Authorization", bulkTestToken)
	req.Header.Set("Content-Type", bulkMediaType)
	return bulkServe(t, h, req)
}

func bulkServe(t *testing.T, h http.Handler, req *http.Request) (int, bulkTestResponse) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != bulkMediaType {
		t.Fatalf("Content-Type %q, body %s", ct, rec.Body)
	}
	var out bulkTestResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return rec.Code, out
}

// bulkBody builds a bulk request from operations written as JSON.
func bulkBody(failOnErrors string, ops ...string) string {
	fail := ""
	if failOnErrors != "" {
		fail = `"failOnErrors":` + failOnErrors + `,`
	}
	return `{"schemas":["` + bulkRequestSchema + `"],` + fail + `"Operations":[` + strings.Join(ops, ",") + `]}`
}

func bulkUser(bulkID, userName string) string {
	return `{"method":"POST","path":"/Users","bulkId":"` + bulkID + `","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `"}}`
}

func bulkGroup(bulkID, name string, memberRefs ...string) string {
	members := make([]string, len(memberRefs))
	for i, ref := range memberRefs {
		members[i] = `{"value":"` + ref + `"}`
	}
	return `{"method":"POST","path":"/Groups","bulkId":"` + bulkID + `","data":{"displayName":"` + name + `","members":[` + strings.Join(members, ",") + `]}}`
}

func wantStatuses(t *testing.T, got bulkTestResponse, want ...string) {
	t.Helper()
	var statuses []string
	for _, op := range got.Operations {
		statuses = append(statuses, op.Status)
	}
	if !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v: %+v", statuses, want, got.Operations)
	}
}

func idOf(location string) string {
	return location[strings.LastIndex(location, "/")+1:]
}

func TestBulkCreatesUsersAndAGroupReferencingThem(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	code, got := bulkPost(t, h, bulkBody("",
		bulkUser("u1", "ada"), bulkUser("u2", "grace"), bulkUser("u3", "barbara"), bulkUser("u4", "frances"),
		bulkGroup("g1", "pioneers", "bulkId:u1", "bulkId:u2", "bulkId:u3"),
		`{"method":"PATCH","path":"/Groups/bulkId:g1","version":"W/\"1\"","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:u4"}]}]}}`,
		`{"method":"PUT","path":"/Users/bulkId:u2","data":{"userName":"grace.hopper"}}`,
		`{"method":"DELETE","path":"/Users/bulkId:u3","version":"W/\"1\""}`,
	))
	if code != http.StatusOK || !slices.Equal(got.Schemas, []string{bulkResponseSchema}) {
		t.Fatalf("%d %+v", code, got)
	}
	wantStatuses(t, got, "201", "201", "201", "201", "201", "200", "200", "204")
	ops := got.Operations
	for i, op := range ops {
		if op.Response != nil {
			t.Errorf("operation %d: a success carries a response: %+v", i, op.Response)
		}
	}
	u1, u4, g1 := idOf(ops[0].Location), idOf(ops[3].Location), idOf(ops[4].Location)
	if ops[0].Location != "https://roster.test/scim/v2/Users/"+u1 || ops[0].Version != `W/"1"` || ops[0].BulkID != "u1" || ops[0].Method != "POST" {
		t.Errorf("user result from headers: %+v", ops[0])
	}
	if ops[4].Location != "https://roster.test/scim/v2/Groups/"+g1 || ops[4].Version != `W/"1"` {
		t.Errorf("group result from meta: %+v", ops[4])
	}
	if ops[5].Location != ops[4].Location || ops[5].Version != `W/"2"` {
		t.Errorf("PATCH of the group by bulkId: %+v", ops[5])
	}
	if ops[7].Location != "/scim/v2/Users/"+idOf(ops[2].Location) {
		t.Errorf("DELETE location: %+v", ops[7])
	}
	want := []string{u1, idOf(ops[1].Location), idOf(ops[2].Location), u4}
	if members := fake.memberIDs(t, g1); !slices.Equal(members, want) {
		t.Errorf("members %v, want %v", members, want)
	}
	seen := fake.requests()
	if seen[5].path != "/Groups/"+g1 || seen[5].ifMatch != `W/"1"` || seen[7].method != "DELETE" || seen[7].ifMatch != `W/"1"` {
		t.Errorf("sub-requests: %+v", seen[5:])
	}
}

func TestBulkForwardReferenceRunsTheLaterPOSTFirst(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	_, got := bulkPost(t, h, bulkBody("",
		bulkGroup("g1", "early", "bulkId:u2", "bulkId:u1"),
		bulkUser("u1", "ada"),
		bulkUser("u2", "grace"),
	))
	wantStatuses(t, got, "201", "201", "201")
	if got.Operations[0].BulkID != "g1" || got.Operations[1].BulkID != "u1" {
		t.Fatalf("results are not in request order: %+v", got.Operations)
	}
	if !slices.Equal(fake.created, []string{"ada", "grace", "early"}) {
		t.Errorf("creation order %v", fake.created)
	}
	want := []string{idOf(got.Operations[2].Location), idOf(got.Operations[1].Location)}
	if members := fake.memberIDs(t, idOf(got.Operations[0].Location)); !slices.Equal(members, want) {
		t.Errorf("members %v, want %v", members, want)
	}
}

func TestBulkCircularReferenceIs409(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	_, got := bulkPost(t, h, bulkBody("",
		bulkGroup("ga", "a", "bulkId:gb"),
		bulkGroup("gb", "b", "bulkId:ga"),
		bulkGroup("self", "self", "bulkId:self"),
		bulkUser("u1", "ada"),
	))
	wantStatuses(t, got, "409", "409", "409", "201")
	for _, op := range got.Operations[:3] {
		r := op.Response
		if r == nil || r.Status != "409" || r.ScimType != "invalidValue" || !strings.Contains(r.Detail, "circular") || op.Location != "" {
			t.Errorf("%s: %+v %+v", op.BulkID, op, r)
		}
	}
	if d := got.Operations[0].Response.Detail; !strings.Contains(d, "ga -> gb -> ga") {
		t.Errorf("detail does not name the cycle: %q", d)
	}
	if !slices.Equal(fake.created, []string{"ada"}) {
		t.Errorf("created %v", fake.created)
	}
}

func TestBulkUnknownBulkIDFailsThatOperation(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	_, got := bulkPost(t, h, bulkBody("",
		bulkUser("u1", "ada"),
		bulkGroup("g1", "ghosts", "bulkId:u1", "bulkId:nobody"),
		`{"method":"PATCH","path":"/Groups/bulkId:nope","data":{"Operations":[]}}`,
	))
	wantStatuses(t, got, "201", "400", "400")
	for _, op := range got.Operations[1:] {
		if r := op.Response; r == nil || r.ScimType != "invalidValue" || !strings.Contains(r.Detail, "is not defined") {
			t.Errorf("%+v %+v", op, r)
		}
	}
	if len(fake.requests()) != 1 {
		t.Errorf("operations with unknown references reached the server: %+v", fake.requests())
	}
}

func TestBulkReferenceToAFailedPOSTIs409(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	_, got := bulkPost(t, h, bulkBody("",
		bulkUser("u1", "ada"),
		bulkUser("u2", "ada"),
		bulkGroup("g1", "team", "bulkId:u2"),
	))
	wantStatuses(t, got, "201", "409", "409")
	if r := got.Operations[1].Response; r.ScimType != "uniqueness" {
		t.Errorf("the server's own error is passed on: %+v", r)
	}
	if r := got.Operations[2].Response; r.ScimType != "invalidValue" || !strings.Contains(r.Detail, `"u2" was not created`) {
		t.Errorf("%+v", r)
	}
	if len(fake.created) != 1 {
		t.Errorf("created %v", fake.created)
	}
}

func TestBulkFailOnErrorsStops(t *testing.T) {
	ops := []string{bulkUser("u1", "ada"), bulkUser("u2", "ada"), bulkUser("u3", "grace"), bulkUser("u4", "ada"), bulkUser("u5", "mary")}
	for _, tc := range []struct {
		failOnErrors string
		want         []string
	}{
		{"1", []string{"201", "409"}},
		{"2", []string{"201", "409", "201", "409"}},
		{"", []string{"201", "409", "201", "409", "201"}},
		{"0", []string{"201", "409", "201", "409", "201"}},
	} {
		t.Run("failOnErrors="+tc.failOnErrors, func(t *testing.T) {
			fake, h := newBulkTestTree(0, 0)
			code, got := bulkPost(t, h, bulkBody(tc.failOnErrors, ops...))
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			wantStatuses(t, got, tc.want...)
			if len(fake.requests()) != len(tc.want) {
				t.Errorf("%d operations ran", len(fake.requests()))
			}
		})
	}
}

func TestBulkFailOnErrorsStopsInsideAForwardReference(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	_, got := bulkPost(t, h, bulkBody("1",
		bulkUser("u0", "ada"),
		bulkGroup("g1", "team", "bulkId:u1"),
		bulkUser("u1", "ada"),
	))
	wantStatuses(t, got, "201", "409")
	if got.Operations[1].BulkID != "u1" || len(fake.created) != 1 {
		t.Errorf("%+v, created %v", got.Operations, fake.created)
	}
}

func TestBulkTooManyOperationsIs413(t *testing.T) {
	fake, h := newBulkTestTree(3, 0)
	code, got := bulkPost(t, h, bulkBody("", bulkUser("a", "a"), bulkUser("b", "b"), bulkUser("c", "c"), bulkUser("d", "d")))
	if code != http.StatusRequestEntityTooLarge || got.Status != "413" || !slices.Equal(got.Schemas, []string{bulkErrorSchema}) ||
		!strings.Contains(got.Detail, "maxOperations (3)") {
		t.Fatalf("%d %+v", code, got)
	}
	if len(fake.requests()) != 0 {
		t.Error("operations ran")
	}
}

func TestBulkPayloadOverTheLimitIs413(t *testing.T) {
	_, h := newBulkTestTree(0, 1024)
	body := bulkBody("", bulkUser("u1", strings.Repeat("x", 2000)))
	for _, known := range []bool{true, false} {
		req := httptest.NewRequest(http.MethodPost, "/scim/v2/Bulk", strings.NewReader(body))
		req.Header.Set("Authorization", bulkTestToken)
		if !known {
			req.ContentLength = -1 // chunked: only reading finds out
		}
		code, got := bulkServe(t, h, req)
		if code != http.StatusRequestEntityTooLarge || got.Status != "413" || !strings.Contains(got.Detail, "maxPayloadSize (1024 bytes)") {
			t.Errorf("length known %v: %d %+v", known, code, got)
		}
	}
	code, _ := bulkPost(t, h, bulkBody("", bulkUser("u1", "ada")))
	if code != http.StatusOK {
		t.Errorf("a body under the limit: %d", code)
	}
}

func TestBulkMalformedRequestsAre400(t *testing.T) {
	for _, tc := range []struct {
		name, body, scimType string
	}{
		{"empty body", ``, "invalidSyntax"},
		{"malformed JSON", `{"schemas":[`, "invalidSyntax"},
		{"not an object", `[]`, "invalidSyntax"},
		{"operation not an object", `{"schemas":["` + bulkRequestSchema + `"],"Operations":[1]}`, "invalidSyntax"},
		{"wrong schema", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[]}`, "invalidSyntax"},
		{"no Operations", `{"schemas":["` + bulkRequestSchema + `"]}`, "invalidValue"},
		{"negative failOnErrors", bulkBody("-1", bulkUser("u1", "ada")), "invalidValue"},
		{"no method", bulkBody("", `{"path":"/Users","bulkId":"x","data":{}}`), "invalidValue"},
		{"GET", bulkBody("", `{"method":"GET","path":"/Users/1"}`), "invalidValue"},
		{"no path", bulkBody("", `{"method":"POST","bulkId":"x","data":{}}`), "invalidValue"},
		{"POST without bulkId", bulkBody("", `{"method":"POST","path":"/Users","data":{}}`), "invalidValue"},
		{"bulkId with a space", bulkBody("", `{"method":"POST","path":"/Users","bulkId":"a b","data":{}}`), "invalidValue"},
		{"duplicate bulkId", bulkBody("", bulkUser("u1", "ada"), bulkUser("u1", "grace")), "invalidValue"},
		{"POST without data", bulkBody("", `{"method":"POST","path":"/Users","bulkId":"x"}`), "invalidValue"},
		{"data not an object", bulkBody("", `{"method":"PUT","path":"/Users/1","data":[1]}`), "invalidValue"},
		{"POST to a resource", bulkBody("", `{"method":"POST","path":"/Users/1","bulkId":"x","data":{}}`), "invalidValue"},
		{"PATCH to a collection", bulkBody("", `{"method":"PATCH","path":"/Users","data":{}}`), "invalidValue"},
		{"relative path", bulkBody("", `{"method":"DELETE","path":"Users/1"}`), "invalidValue"},
		{"absolute URL", bulkBody("", `{"method":"DELETE","path":"https://evil.test/Users/1"}`), "invalidValue"},
		{"dot segments", bulkBody("", `{"method":"DELETE","path":"/Users/../Groups"}`), "invalidValue"},
		{"query", bulkBody("", `{"method":"DELETE","path":"/Users/1?x=y"}`), "invalidValue"},
		{"nested Bulk", bulkBody("", `{"method":"POST","path":"/Bulk","bulkId":"x","data":{}}`), "invalidValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, h := newBulkTestTree(0, 0)
			code, got := bulkPost(t, h, tc.body)
			if code != http.StatusBadRequest || got.Status != "400" || got.ScimType != tc.scimType || got.Detail == "" {
				t.Fatalf("%d %+v", code, got)
			}
			if len(fake.requests()) != 0 {
				t.Errorf("a rejected request ran operations")
			}
		})
	}
}

func TestBulkAcceptsOnlyPOST(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/Bulk", nil)
	code, got := bulkServe(t, newBulkHandler(newBulkFake(), 0, 0), req)
	if code != http.StatusMethodNotAllowed || got.Status != "405" {
		t.Fatalf("%d %+v", code, got)
	}
}

// Without a router above it, next sees paths relative to the SCIM root and
// the caller's context, credentials and request id.
func TestBulkSubRequestsCarryTheCallersContextAndHeaders(t *testing.T) {
	fake := newBulkFake()
	h := newBulkHandler(fake, 0, 0)
	req := httptest.NewRequest(http.MethodPost, "/Bulk", strings.NewReader(bulkBody("",
		bulkUser("u1", "ada"),
		`{"method":"PATCH","path":"/Users/bulkId:u1","data":{"Operations":[]}}`,
		`{"method":"POST","path":"/Things","bulkId":"t1","data":{}}`,
	)))
	req.Header.Set("Authorization", "Bearer caller-secret")
	req.Header.Set("X-Request-Id", "req-42")
	p := &roster.Principal{Kind: roster.PrincipalAPIToken, TenantID: "t1"}
	req = req.WithContext(roster.NewContextWithRequestID(roster.NewContextWithPrincipal(req.Context(), p), "req-42"))

	_, got := bulkServe(t, h, req)
	wantStatuses(t, got, "201", "200", "404")
	if r := got.Operations[2].Response; r == nil || r.Status != "404" || !slices.Equal(r.Schemas, []string{bulkErrorSchema}) {
		t.Errorf("a plain-text error becomes a SCIM error: %+v", r)
	}
	seen := fake.requests()
	if len(seen) != 3 || seen[0].path != "/Users" || seen[1].path != "/Users/"+idOf(got.Operations[0].Location) {
		t.Fatalf("%+v", seen)
	}
	for _, s := range seen {
		if s.auth != "Bearer caller-secret" || s.requestID != "req-42" || s.ctxRequestID != "req-42" || !s.principal || s.contentType != bulkMediaType {
			t.Errorf("sub-request %+v", s)
		}
	}
}

func TestBulkSubRequestsAreAuthenticatedLikeDirectRequests(t *testing.T) {
	fake, h := newBulkTestTree(0, 0)
	_, got := bulkPost(t, h, bulkBody("", bulkUser("u1", "ada")))
	wantStatuses(t, got, "201")
	seen := fake.requests()
	if seen[0].auth != bulkTestToken || !seen[0].principal || seen[0].path != "/Users" {
		t.Errorf("%+v", seen[0])
	}
	req := httptest.NewRequest(http.MethodPost, "/scim/v2/Bulk", strings.NewReader(bulkBody("", bulkUser("u1", "ada"))))
	if code, _ := bulkServe(t, h, req); code != http.StatusUnauthorized {
		t.Errorf("no credential: %d", code)
	}
}

func TestBulkThousandOperationsAreQuick(t *testing.T) {
	fake, h := newBulkTestTree(1000, 0)
	ops := make([]string, 0, 1000)
	refs := make([]string, 0, 999)
	for i := range 999 {
		refs = append(refs, fmt.Sprintf("bulkId:u%d", i))
	}
	ops = append(ops, bulkGroup("all", "everyone", refs...)) // every reference is a forward one
	for i := range 999 {
		ops = append(ops, bulkUser(fmt.Sprintf("u%d", i), fmt.Sprintf("user%d", i)))
	}
	start := time.Now()
	code, got := bulkPost(t, h, bulkBody("", ops...))
	elapsed := time.Since(start)
	if code != http.StatusOK || len(got.Operations) != 1000 {
		t.Fatalf("%d, %d results", code, len(got.Operations))
	}
	for _, op := range got.Operations {
		if op.Status != "201" {
			t.Fatalf("%+v", op)
		}
	}
	if n := len(fake.memberIDs(t, idOf(got.Operations[0].Location))); n != 999 {
		t.Errorf("%d members", n)
	}
	t.Logf("1,000 operations in %v", elapsed)
	if elapsed > time.Second {
		t.Errorf("1,000 operations took %v", elapsed)
	}
}

func TestBulkLongChainOfForwardReferences(t *testing.T) {
	_, h := newBulkTestTree(1000, 0)
	ops := make([]string, 1000)
	for i := range 999 {
		ops[i] = bulkGroup(fmt.Sprintf("g%d", i), fmt.Sprintf("g%d", i), fmt.Sprintf("bulkId:g%d", i+1))
	}
	ops[999] = bulkGroup("g999", "g999")
	_, got := bulkPost(t, h, bulkBody("", ops...))
	if len(got.Operations) != 1000 {
		t.Fatalf("%d results", len(got.Operations))
	}
	for _, op := range got.Operations {
		if op.Status != "201" {
			t.Fatalf("%+v", op)
		}
	}
}

func TestBulkReferencesInsideLongerStrings(t *testing.T) {
	ids := map[string]string{"u1": "id-1", "u1x": "id-2"}
	for in, want := range map[string]string{
		"bulkId:u1":                         "id-1",
		`members[value eq "bulkId:u1"]`:     `members[value eq "id-1"]`,
		"bulkId:u1x and bulkId:u1":          "id-2 and id-1",
		"notbulkId:u1":                      "notbulkId:u1",
		"bulkId:":                           "bulkId:",
		"bulkId:unknown stays as it is":     "bulkId:unknown stays as it is",
		"/Groups/bulkId:u1":                 "/Groups/id-1",
		"bulkId:u1/bulkId:u1x?bulkId:u1#no": "id-1/id-2?id-1#no",
	} {
		if got := replaceBulkRefs(in, ids, func(s string) string { return s }); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
