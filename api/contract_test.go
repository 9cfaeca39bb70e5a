package api_test

// Contract tooling: every HTTP exchange the api tests make can go through
// newContractTransport, which holds the request and the response against
// openapi.yaml (the embedded roster.OpenAPI) and records which documented
// (method, path, status) triples the suite exercised.
//
// Usage:
//
//	client := &http.Client{Transport: newContractTransport(t, srv.Client().Transport)}
//
// A test that sends a request violating the contract on purpose (malformed
// JSON, a wrong Content-Type, unknown or mistyped fields, a bad query value,
// a user id that is not a UUID, a path or method the API does not have)
// marks it, so that only the response is held against the contract:
//
//	req.Header.Set(invalidRequestHeader, "1") // or: invalidOnPurpose(req)
//
// The transport strips the header before the request is sent. For a path or
// method the contract lacks, the answer must be a 4xx problem+json. Missing or
// non-Bearer credentials need no mark (see validatorOptions).
//
// At the end of the suite, apiContractCoverage.missing() lists the documented
// (method, path, status) triples no test produced; exercised() lists those
// that were.

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
)

// invalidRequestHeader marks a request that violates the contract on
// purpose: the contract transport validates only its response, and removes
// the header before sending the request.
const invalidRequestHeader = "X-Test-Invalid-Request"

// invalidOnPurpose marks r as violating the contract on purpose and returns it.
func invalidOnPurpose(r *http.Request) *http.Request {
	r.Header.Set(invalidRequestHeader, "1")
	return r
}

// contractOp is one operation of the contract.
type contractOp struct {
	method   string   // upper case
	path     string   // the path template, e.g. /api/v1/users/{id}
	segments []string // path split on "/"
	statuses []int    // the explicitly documented statuses, not "default"
}

// contractSpec is the parsed contract, shared by every transport.
type contractSpec struct {
	doc       libopenapi.Document
	model     *v3.Document
	validator validator.Validator
	ops       []*contractOp
	problem   *base.Schema
	schemas   schema_validation.SchemaValidator
}

var (
	contractOnce   sync.Once
	contractLoaded *contractSpec
	contractErr    error
)

// validatorOptions are the options every contract check uses:
//   - formats (uuid, date-time, email) are asserted, not just annotations;
//   - strict mode reports body fields, query parameters and headers the
//     contract does not declare, even where additionalProperties allows them
//     (so a response leaking, say, tenant_id fails), except inside the
//     free-form audit event details (in the events feed too),
//     group-to-role mappings, the statistics' users by role, and the
//     WebAuthn options and credentials the W3C defines (and go-webauthn
//     writes and reads);
//   - security requirements are not checked on requests: a missing or
//     non-Bearer Authorization header is the server's to refuse, and the
//     tests that send one need not mark it; their 401 answer is checked.
func validatorOptions() []config.Option {
	return []config.Option{
		config.WithFormatAssertions(),
		config.WithStrictMode(),
		config.WithStrictIgnorePaths("$.body.items[*].details.**", "$.body.items[*].data.details.**", "$.body.mappings.**",
			"$.body.audit_events_about[*].details.**", "$.body.audit_events_by[*].details.**", "$.body.attributes.**",
			"$.body.publicKey.**", "$.body.credential.**",
			// SSO connections map provider group names to roles.
			"$.body.group_roles.**", "$.body.items[*].group_roles.**",
			// A tenant's settings are a free JSON object of its own.
			"$.body.settings.**",
			// The statistics count users by role, custom roles included.
			"$.body.roles.**"),
		config.WithoutSecurityValidation(),
	}
}

// loadContract parses roster.OpenAPI once.
func loadContract() (*contractSpec, error) {
	contractOnce.Do(func() {
		contractLoaded, contractErr = parseContract(roster.OpenAPI)
	})
	return contractLoaded, contractErr
}

func parseContract(spec []byte) (*contractSpec, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build the openapi.yaml model: %w", err)
	}
	v, errs := validator.NewValidator(doc, validatorOptions()...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("build the openapi.yaml validator: %v", errs)
	}
	c := &contractSpec{
		doc:       doc,
		model:     &m.Model,
		validator: v,
		schemas:   schema_validation.NewSchemaValidator(validatorOptions()...),
	}
	if m.Model.Paths != nil {
		for path, item := range m.Model.Paths.PathItems.FromOldest() {
			for method, op := range item.GetOperations().FromOldest() {
				o := &contractOp{method: strings.ToUpper(method), path: path, segments: strings.Split(path, "/")}
				if op.Responses != nil && op.Responses.Codes != nil {
					for code := range op.Responses.Codes.FromOldest() {
						if n, err := strconv.Atoi(code); err == nil {
							o.statuses = append(o.statuses, n)
						}
					}
				}
				c.ops = append(c.ops, o)
			}
		}
	}
	if m.Model.Components != nil && m.Model.Components.Schemas != nil {
		if p := m.Model.Components.Schemas.GetOrZero("Problem"); p != nil {
			c.problem = p.Schema()
		}
	}
	if c.problem == nil {
		return nil, fmt.Errorf("openapi.yaml has no components.schemas.Problem")
	}
	return c, nil
}

// find returns the operation for method and a concrete URL path, nil when
// the contract has none. A {param} template segment matches any non-empty
// segment; literal segments win over templated ones.
func (c *contractSpec) find(method, path string) *contractOp {
	segs := strings.Split(path, "/")
	var best *contractOp
	bestLiterals := -1
	for _, op := range c.ops {
		if op.method != method || len(op.segments) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, s := range op.segments {
			switch {
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
				ok = segs[i] != ""
			case s == segs[i]:
				literals++
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = op, literals
		}
	}
	return best
}

// contractCoverage records which (method, path template, status) triples
// the tests exercised. It is safe for concurrent use.
type contractCoverage struct {
	mu   sync.Mutex
	seen map[string]int
}

// apiContractCoverage is what every newContractTransport records into; the
// suite's TestMain can report or enforce apiContractCoverage.missing()
// after m.Run().
var apiContractCoverage = newContractCoverage()

func newContractCoverage() *contractCoverage {
	return &contractCoverage{seen: map[string]int{}}
}

func coverageKey(method, path string, status int) string {
	return method + " " + path + " " + strconv.Itoa(status)
}

func (c *contractCoverage) record(method, path string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[coverageKey(method, path, status)]++
}

// exercised returns the triples seen so far as "METHOD /path STATUS", sorted.
func (c *contractCoverage) exercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.seen))
	for k := range c.seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// missing returns, as "METHOD /path STATUS" sorted, every explicitly
// documented status of every operation that no request produced. The
// "default" (500) response is not listed: no test should produce it.
func (c *contractCoverage) missing() []string {
	spec, err := loadContract()
	if err != nil {
		return []string{"contract: " + err.Error()}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, op := range spec.ops {
		for _, status := range op.statuses {
			if key := coverageKey(op.method, op.path, status); c.seen[key] == 0 {
				out = append(out, key)
			}
		}
	}
	slices.Sort(out)
	return out
}

// contractTransport is the RoundTripper newContractTransport returns.
type contractTransport struct {
	tb       testing.TB
	next     http.RoundTripper
	spec     *contractSpec
	coverage *contractCoverage
}

// newContractTransport returns a RoundTripper that sends each request with
// next (http.DefaultTransport when nil), then validates the request and the
// response against openapi.yaml and reports any mismatch with tb.Errorf. A
// request carrying invalidRequestHeader is sent without it and only its
// response is validated. Bodies are buffered: the caller reads the response
// body as usual. Every exchange is recorded in apiContractCoverage.
func newContractTransport(tb testing.TB, next http.RoundTripper) http.RoundTripper {
	tb.Helper()
	spec, err := loadContract()
	if err != nil {
		tb.Fatalf("contract: %v", err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &contractTransport{tb: tb, next: next, spec: spec, coverage: apiContractCoverage}
}

func (t *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("contract transport: read the request body: %w", err)
		}
	}
	invalid := req.Header.Get(invalidRequestHeader) != ""

	send := cloneWithBody(req, reqBody)
	send.Header.Del(invalidRequestHeader)
	resp, err := t.next.RoundTrip(send)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return nil, fmt.Errorf("contract transport: read the response body: %w", err)
	}

	if problems := t.check(req, reqBody, invalid, resp, respBody); len(problems) > 0 {
		what := ""
		if invalid {
			what = " (request invalid on purpose)"
		}
		t.tb.Errorf("contract: %s %s -> %d%s does not match openapi.yaml:\n%s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, what, strings.Join(problems, "\n"))
	}
	return resp, nil
}

// check validates one exchange and records it; it returns what is wrong.
func (t *contractTransport) check(req *http.Request, reqBody []byte, invalid bool, resp *http.Response, respBody []byte) []string {
	var problems []string
	op := t.spec.find(req.Method, req.URL.Path)
	if op == nil {
		if !invalid {
			return []string{fmt.Sprintf("- %s %s is not an operation of the contract (mark the request with %s if that is the point)",
				req.Method, req.URL.Path, invalidRequestHeader)}
		}
		// A path or method the API does not have: the answer must still be
		// a problem+json error.
		if resp.StatusCode < 400 {
			problems = append(problems, fmt.Sprintf("- status %d for an undocumented operation; want a 4xx problem", resp.StatusCode))
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/problem+json" {
			problems = append(problems, fmt.Sprintf("- Content-Type %q, want application/problem+json", resp.Header.Get("Content-Type")))
		} else if ok, errs := t.spec.schemas.ValidateSchemaBytesWithVersion(t.spec.problem, respBody, 3.1); !ok {
			problems = append(problems, describeValidation(errs)...)
		}
		return problems
	}
	t.coverage.record(op.method, op.path, resp.StatusCode)

	if !invalid {
		if ok, errs := t.spec.validator.ValidateHttpRequestSync(cloneWithBody(req, reqBody)); !ok {
			problems = append(problems, "request:")
			problems = append(problems, describeValidation(errs)...)
		}
	}
	vresp := *resp
	vresp.Body = io.NopCloser(bytes.NewReader(respBody))
	if ok, errs := t.spec.validator.ValidateHttpResponse(cloneWithBody(req, reqBody), &vresp); !ok {
		problems = append(problems, "response:")
		problems = append(problems, describeValidation(errs)...)
	}
	// Every operation has a "default" response for 500, which would accept
	// any status; anything else must be documented explicitly.
	if resp.StatusCode != http.StatusInternalServerError && !slices.Contains(op.statuses, resp.StatusCode) {
		problems = append(problems, fmt.Sprintf("- status %d is not documented for %s %s (documented: %v)",
			resp.StatusCode, op.method, op.path, op.statuses))
	}
	return problems
}

// cloneWithBody returns a copy of req, headers included, reading body.
func cloneWithBody(req *http.Request, body []byte) *http.Request {
	c := req.Clone(req.Context())
	if req.Body == nil && body == nil {
		c.Body = nil
		return c
	}
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	c.ContentLength = int64(len(body))
	if len(body) == 0 {
		c.Body = http.NoBody
	}
	return c
}

// describeValidation renders the validator's errors, one per line, with the
// schema failures beneath.
func describeValidation(errs []*valerrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		line := "- " + e.Message
		if e.Reason != "" && e.Reason != e.Message {
			line += ": " + e.Reason
		}
		out = append(out, line)
		for _, f := range e.SchemaValidationErrors {
			at := f.FieldPath
			if at == "" {
				at = f.KeywordLocation
			}
			if at != "" {
				at = " at " + at
			}
			out = append(out, "    -"+at+": "+f.Reason)
		}
	}
	return out
}

func TestOpenAPISpecIsValid(t *testing.T) {
	doc, err := libopenapi.NewDocument(roster.OpenAPI)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	info := doc.GetSpecInfo()
	if info.SpecFormat != datamodel.OAS31 || info.Version != "3.1.0" {
		t.Fatalf("openapi.yaml is %q version %q, want OpenAPI 3.1.0", info.SpecFormat, info.Version)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(doc, validatorOptions()...)
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Errorf("openapi.yaml is not a valid OpenAPI document:\n%s", strings.Join(describeValidation(verrs), "\n"))
	}

	ids := map[string]string{}
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			name := strings.ToUpper(method) + " " + path
			switch {
			case op.OperationId == "":
				t.Errorf("%s has no operationId", name)
			case ids[op.OperationId] != "":
				t.Errorf("%s and %s share the operationId %q", ids[op.OperationId], name, op.OperationId)
			default:
				ids[op.OperationId] = name
			}
			if op.Summary == "" {
				t.Errorf("%s has no summary", name)
			}
			if op.Responses == nil || op.Responses.Default == nil {
				t.Errorf("%s has no default (500) response", name)
			}
		}
	}
	if _, err := loadContract(); err != nil {
		t.Errorf("contract tooling: %v", err)
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	// Routes only: the handlers are never called, so no service is needed.
	routed := map[string]bool{}
	for _, r := range walkRoutes(t, (&api.Server{}).Handler()) {
		routed[r.String()] = true
	}
	spec, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range spec.ops {
		documented[op.method+" "+op.path] = true
	}
	for _, r := range sortedKeys(routed) {
		if !documented[r] {
			t.Errorf("%s is routed but not in openapi.yaml", r)
		}
	}
	for _, d := range sortedKeys(documented) {
		if !routed[d] {
			t.Errorf("%s is in openapi.yaml but not routed", d)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// recordingTB is a testing.TB whose Errorf records instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := r.errs
	r.errs = nil
	return errs
}

// roundTripFunc is a fake RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestContractTransportCatchesViolations(t *testing.T) {
	spec, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	const userID = "0190f5c2-6f0e-7c3a-9d2b-3a4f5e6d7c8b"
	const goodUser = `{"id":"` + userID + `","email":"ada@example.com","user_name":"ada@example.com",
		"given_name":"Ada","family_name":"Lovelace","display_name":"","external_id":null,"role":"admin",
		"active":true,"pending_approval":false,"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00.123456Z","last_login_at":null}`
	const goodEvent = `{"id":"` + userID + `","occurred_at":"2024-05-01T10:00:00Z","actor_type":"api_token",
		"actor_id":"t1","action":"user.updated","target_type":"user","target_id":"` + userID + `","request_id":"r1",
		"details":{"changes":{"role":{"from":"viewer","to":"admin"}}}}`
	problem := func(status int, code string) string {
		return fmt.Sprintf(`{"type":"about:blank","title":%q,"status":%d,"detail":"x","instance":"/x","code":%q,"request_id":"r1"}`,
			http.StatusText(status), status, code)
	}

	// The fake answers whatever the case sets, and remembers what it got.
	var (
		status      int
		contentType string
		body        string
		headers     map[string]string
		got         *http.Request
		gotBody     []byte
	)
	fake := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		gotBody = nil
		if r.Body != nil {
			gotBody, _ = io.ReadAll(r.Body)
		}
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", contentType)
		rec.Header().Set("X-Request-Id", "r1")
		for k, v := range headers {
			if v == "" {
				rec.Header().Del(k)
			} else {
				rec.Header().Set(k, v)
			}
		}
		rec.WriteHeader(status)
		rec.WriteString(body)
		resp := rec.Result()
		resp.Request = r
		return resp, nil
	})

	type exchange struct {
		name        string
		method      string
		path        string
		reqBody     string
		invalid     bool
		status      int
		contentType string
		body        string
		headers     map[string]string
		wantErr     string // "" for no error; else a substring of the Errorf message
	}
	jsonType, problemType := "application/json", "application/problem+json"
	etag := map[string]string{"ETag": `"1"`}
	cases := []exchange{
		{name: "valid user", method: "GET", path: "/api/v1/users/" + userID,
			status: 200, contentType: jsonType, body: goodUser, headers: etag},
		{name: "user without fields", method: "GET", path: "/api/v1/users/" + userID,
			status: 200, contentType: jsonType, body: `{"id":"` + userID + `","email":"ada@example.com"}`, headers: etag,
			wantErr: "GET /api/v1/users/" + userID + " -> 200"},
		{name: "user field of the wrong type", method: "GET", path: "/api/v1/users/" + userID,
			status: 200, contentType: jsonType, body: strings.Replace(goodUser, `"active":true`, `"active":"yes"`, 1), headers: etag,
			wantErr: "active"},
		{name: "user time not RFC 3339", method: "GET", path: "/api/v1/users/" + userID,
			status: 200, contentType: jsonType, body: strings.Replace(goodUser, `"2024-05-01T10:00:00Z"`, `"yesterday"`, 1), headers: etag,
			wantErr: "created_at"},
		{name: "user with an undeclared field", method: "GET", path: "/api/v1/users/" + userID,
			status: 200, contentType: jsonType, body: strings.Replace(goodUser, `"active":true`, `"active":true,"tenant_id":"t"`, 1), headers: etag,
			wantErr: "tenant_id"},
		{name: "user without ETag", method: "GET", path: "/api/v1/users/" + userID,
			status: 200, contentType: jsonType, body: goodUser,
			wantErr: "ETag"},
		{name: "undocumented status", method: "GET", path: "/api/v1/users/" + userID,
			status: 409, contentType: problemType, body: problem(409, "conflict"),
			wantErr: "status 409 is not documented"},
		{name: "problem with the wrong media type", method: "GET", path: "/api/v1/users/" + userID,
			status: 404, contentType: jsonType, body: problem(404, "not_found"),
			wantErr: "404"},
		{name: "documented 404", method: "GET", path: "/api/v1/users/" + userID,
			status: 404, contentType: problemType, body: problem(404, "not_found")},
		{name: "audit events with free-form details", method: "GET", path: "/api/v1/audit-events?action=user.updated",
			status: 200, contentType: jsonType, body: `{"items":[` + goodEvent + `],"next_cursor":null}`},
		{name: "audit event with an undeclared field", method: "GET", path: "/api/v1/audit-events",
			status: 200, contentType: jsonType, body: `{"items":[` + strings.Replace(goodEvent, `"request_id"`, `"tenant_id":"t","request_id"`, 1) + `],"next_cursor":"abc"}`,
			wantErr: "tenant_id"},
		{name: "request with an unknown field", method: "POST", path: "/api/v1/users",
			reqBody: `{"email":"ada@example.com","shoe_size":9}`,
			status:  400, contentType: problemType, body: problem(400, "invalid"),
			wantErr: "request:"},
		{name: "request with an unknown field, on purpose", method: "POST", path: "/api/v1/users",
			reqBody: `{"email":"ada@example.com","shoe_size":9}`, invalid: true,
			status: 400, contentType: problemType, body: problem(400, "invalid")},
		{name: "bad query value, on purpose, bad answer", method: "GET", path: "/api/v1/users?limit=0", invalid: true,
			status: 400, contentType: problemType, body: `{"status":400}`,
			wantErr: "response:"},
		{name: "unknown endpoint", method: "GET", path: "/api/v1/nope",
			status: 404, contentType: problemType, body: problem(404, "not_found"),
			wantErr: "not an operation of the contract"},
		{name: "unknown endpoint, on purpose", method: "GET", path: "/api/v1/nope", invalid: true,
			status: 404, contentType: problemType, body: problem(404, "not_found")},
		{name: "unknown method, on purpose, answered in plain text", method: "PUT", path: "/api/v1/users", invalid: true,
			status: 405, contentType: "text/plain", body: "no",
			wantErr: "application/problem+json"},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			cov := newContractCoverage()
			client := &http.Client{Transport: &contractTransport{tb: rec, next: fake, spec: spec, coverage: cov}}
			status, contentType, body, headers = c.status, c.contentType, c.body, c.headers

			var reqBody io.Reader
			if c.reqBody != "" {
				reqBody = strings.NewReader(c.reqBody)
			}
			req, err := http.NewRequest(c.method, "http://roster.test"+c.path, reqBody)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer rst_test")
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.invalid {
				invalidOnPurpose(req)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()

			// The caller still reads the bodies, and the marker never leaves.
			if b, _ := io.ReadAll(resp.Body); string(b) != c.body {
				t.Errorf("response body = %q, want %q", b, c.body)
			}
			if string(gotBody) != c.reqBody {
				t.Errorf("the server got the body %q, want %q", gotBody, c.reqBody)
			}
			if got.Header.Get(invalidRequestHeader) != "" {
				t.Errorf("%s was sent to the server", invalidRequestHeader)
			}

			errs := rec.take()
			for _, e := range errs {
				t.Log(e)
			}
			switch {
			case c.wantErr == "" && len(errs) > 0:
				t.Errorf("want no contract error, got:\n%s", strings.Join(errs, "\n"))
			case c.wantErr != "" && len(errs) == 0:
				t.Errorf("want a contract error mentioning %q, got none", c.wantErr)
			case c.wantErr != "" && !strings.Contains(strings.Join(errs, "\n"), c.wantErr):
				t.Errorf("want a contract error mentioning %q, got:\n%s", c.wantErr, strings.Join(errs, "\n"))
			}
		})
	}

	t.Run("coverage", func(t *testing.T) {
		cov := newContractCoverage()
		client := &http.Client{Transport: &contractTransport{tb: &recordingTB{TB: t}, next: fake, spec: spec, coverage: cov}}
		status, contentType, body, headers = 200, jsonType, goodUser, etag
		req, _ := http.NewRequest("GET", "http://roster.test/api/v1/users/"+userID, nil)
		req.Header.Set("Authorization", "Bearer rst_test")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := cov.exercised(), []string{"GET /api/v1/users/{id} 200"}; !slices.Equal(got, want) {
			t.Errorf("exercised = %v, want %v", got, want)
		}
		missing := cov.missing()
		if slices.Contains(missing, "GET /api/v1/users/{id} 200") {
			t.Errorf("missing() lists an exercised status: %v", missing)
		}
		for _, want := range []string{"GET /api/v1/users/{id} 404", "POST /api/v1/users 201", "GET /readyz 503"} {
			if !slices.Contains(missing, want) {
				t.Errorf("missing() = %v, want it to list %s", missing, want)
			}
		}
	})
}
