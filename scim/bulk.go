package scim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

const (
	bulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	bulkErrorSchema    = "urn:ietf:params:scim:api:messages:2.0:Error"
	bulkMediaType      = "application/scim+json"
	bulkRefPrefix      = "bulkId:"
	bulkEndpoint       = "/Bulk"

	bulkInvalidSyntax = "invalidSyntax"
	bulkInvalidValue  = "invalidValue"
)

// bulkHandler serves /Bulk (RFC 7644 §3.7). Each operation becomes an
// in-process sub-request to next, so it meets exactly the validation,
// authentication, authorization and store of a direct request.
//
// A bulk request is not a transaction: each operation stands alone and is
// committed when it succeeds (RFC 7644 §3.7 leaves atomicity out), so a
// later failure never undoes an earlier success. The response tells the
// client which operations took effect.
type bulkHandler struct {
	next           http.Handler // serves /Users, /Groups ... (paths relative to the SCIM root)
	maxOperations  int          // advertised in ServiceProviderConfig bulk.maxOperations
	maxPayloadSize int64        // advertised in ServiceProviderConfig bulk.maxPayloadSize, in bytes
}

// newBulkHandler returns the /Bulk handler. Limits that are not positive
// fall back to the ones /ServiceProviderConfig advertises.
func newBulkHandler(next http.Handler, maxOperations int, maxPayloadSize int64) http.Handler {
	if maxOperations <= 0 {
		maxOperations = maxBulkOperations
	}
	if maxPayloadSize <= 0 {
		maxPayloadSize = maxBulkPayload
	}
	return &bulkHandler{next: next, maxOperations: maxOperations, maxPayloadSize: maxPayloadSize}
}

// bulkRequest is the body of POST /Bulk.
type bulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors *int            `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

// bulkOperation is one operation of a bulk request.
type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

// bulkResponse is the body of a processed bulk request.
type bulkResponse struct {
	Schemas    []string     `json:"schemas"`
	Operations []bulkResult `json:"Operations"`
}

// bulkResult is the outcome of one operation; Response holds the SCIM
// error of a failed operation and nothing for a successful one.
type bulkResult struct {
	Location string          `json:"location,omitempty"`
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulkError is a SCIM error (RFC 7644 §3.12) for the whole bulk request or
// for one of its operations. Wrapping it adds context to the detail.
type bulkError struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *bulkError) Error() string { return e.Detail }

// bulkErrorBody is the JSON form of a SCIM error.
type bulkErrorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// asBulkError returns the SCIM error err carries, its detail being err's
// whole message; an error without one is a bug and stays undisclosed.
func asBulkError(err error) *bulkError {
	var be *bulkError
	if !errors.As(err, &be) {
		return &bulkError{Status: http.StatusInternalServerError, Detail: "internal error"}
	}
	return &bulkError{Status: be.Status, ScimType: be.ScimType, Detail: err.Error()}
}

func (e *bulkError) body() json.RawMessage {
	b, _ := json.Marshal(bulkErrorBody{
		Schemas: []string{bulkErrorSchema}, Status: strconv.Itoa(e.Status), ScimType: e.ScimType, Detail: e.Detail,
	}) // plain strings always marshal
	return b
}

func invalidSyntax(format string, args ...any) *bulkError {
	return &bulkError{Status: http.StatusBadRequest, ScimType: bulkInvalidSyntax, Detail: fmt.Sprintf(format, args...)}
}

func invalidValue(format string, args ...any) *bulkError {
	return &bulkError{Status: http.StatusBadRequest, ScimType: bulkInvalidValue, Detail: fmt.Sprintf(format, args...)}
}

// conflict is what RFC 7644 §3.7.1 answers for references it cannot resolve.
func conflict(format string, args ...any) *bulkError {
	return &bulkError{Status: http.StatusConflict, ScimType: bulkInvalidValue, Detail: fmt.Sprintf(format, args...)}
}

func (h *bulkHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeBulkError(w, &bulkError{Status: http.StatusMethodNotAllowed, Detail: "the Bulk endpoint accepts only POST"})
		return
	}
	req, err := h.readRequest(w, r)
	if err != nil {
		writeBulkError(w, asBulkError(err))
		return
	}
	p, err := planBulk(req.Operations)
	if err != nil {
		writeBulkError(w, asBulkError(err))
		return
	}
	results := newBulkRun(h.next, r, p, req.FailOnErrors).runAll()
	writeBulkJSON(w, http.StatusOK, bulkResponse{Schemas: []string{bulkResponseSchema}, Operations: results})
}

// readRequest reads and checks the envelope of a bulk request; the
// operations themselves are checked by planBulk.
func (h *bulkHandler) readRequest(w http.ResponseWriter, r *http.Request) (*bulkRequest, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	var req bulkRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, bulkDecodeError(err)
	}
	if !slices.ContainsFunc(req.Schemas, func(s string) bool { return strings.EqualFold(s, bulkRequestSchema) }) {
		return nil, invalidSyntax("schemas must contain %q", bulkRequestSchema)
	}
	if req.Operations == nil {
		return nil, invalidValue("Operations is required")
	}
	if len(req.Operations) > h.maxOperations {
		return nil, &bulkError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf(
			"The number of operations (%d) exceeds the maxOperations (%d).", len(req.Operations), h.maxOperations)}
	}
	if req.FailOnErrors != nil && *req.FailOnErrors < 0 {
		return nil, invalidValue("failOnErrors must not be negative")
	}
	return &req, nil
}

// readBody reads at most maxPayloadSize bytes: a bigger body is refused,
// not truncated.
func (h *bulkHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := &bulkError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf(
		"The size of the bulk operation exceeds the maxPayloadSize (%d bytes).", h.maxPayloadSize)}
	if r.ContentLength > h.maxPayloadSize {
		return nil, tooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxPayloadSize))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, invalidSyntax("the request body could not be read")
	}
	return body, nil
}

// bulkDecodeError describes malformed JSON without exposing Go type names.
func bulkDecodeError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return invalidSyntax("the request body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalidSyntax("%s must not be a JSON %s", typeErr.Field, typeErr.Value)
	default:
		return invalidSyntax("the request body is not a JSON bulk request")
	}
}

// bulkStep is an operation checked and ready to run.
type bulkStep struct {
	op   bulkOperation
	refs []string // bulkIds the path and data reference; unknown ones first, then in request order
	data any      // op.Data decoded, kept only when it holds references
}

// bulkPlan is a checked bulk request: its steps and where each bulkId is
// created.
type bulkPlan struct {
	steps []bulkStep
	posts map[string]int // bulkId -> index of the POST that creates it
}

// planBulk checks every operation before any runs, so a malformed request
// changes nothing.
func planBulk(ops []bulkOperation) (*bulkPlan, error) {
	p := &bulkPlan{steps: make([]bulkStep, len(ops)), posts: make(map[string]int)}
	for i, op := range ops {
		step, err := planStep(op)
		if err != nil {
			return nil, fmt.Errorf("operation %d: %w", i, err)
		}
		if step.op.Method == http.MethodPost {
			if j, dup := p.posts[step.op.BulkID]; dup {
				return nil, invalidValue("Operations[%d]: bulkId %q is already used by Operations[%d]", i, step.op.BulkID, j)
			}
			p.posts[step.op.BulkID] = i
		}
		p.steps[i] = step
	}
	for i := range p.steps {
		p.sortRefs(p.steps[i].refs)
	}
	return p, nil
}

// sortRefs orders references so that unknown ones fail before anything
// runs and forward references create their resources in request order.
func (p *bulkPlan) sortRefs(refs []string) {
	at := func(ref string) int {
		if j, ok := p.posts[ref]; ok {
			return j
		}
		return -1
	}
	slices.SortFunc(refs, func(a, b string) int {
		if c := at(a) - at(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

func planStep(op bulkOperation) (bulkStep, error) {
	op.Method = strings.ToUpper(op.Method)
	switch op.Method {
	case "":
		return bulkStep{}, invalidValue("method is required")
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return bulkStep{}, invalidValue("method %q is not one of POST, PUT, PATCH, DELETE", op.Method)
	}
	if err := checkBulkPath(op.Method, op.Path); err != nil {
		return bulkStep{}, err
	}
	if op.Method == http.MethodPost {
		if err := checkBulkID(op.BulkID); err != nil {
			return bulkStep{}, err
		}
	}
	return planData(op)
}

// planData decodes the data of POST, PUT and PATCH to find its references.
func planData(op bulkOperation) (bulkStep, error) {
	step := bulkStep{op: op}
	refs := map[string]bool{}
	eachBulkRef(op.Path, func(_, _ int, id string) { refs[id] = true })
	if op.Method == http.MethodDelete {
		step.op.Data = nil
	} else {
		if len(op.Data) == 0 || string(op.Data) == "null" {
			return bulkStep{}, invalidValue("data is required for %s", op.Method)
		}
		dec := json.NewDecoder(bytes.NewReader(op.Data))
		dec.UseNumber()
		var data any
		if err := dec.Decode(&data); err != nil {
			return bulkStep{}, invalidSyntax("data is not valid JSON")
		}
		if _, ok := data.(map[string]any); !ok {
			return bulkStep{}, invalidValue("data must be a JSON object")
		}
		before := len(refs)
		collectBulkRefs(data, refs)
		if len(refs) > before {
			step.data = data
		}
	}
	for id := range refs {
		step.refs = append(step.refs, id)
	}
	return step, nil
}

// checkBulkPath accepts only a resource type endpoint for POST and a single
// resource for the other methods, relative to the SCIM root, so that an
// operation cannot reach outside the SCIM tree or nest another /Bulk.
func checkBulkPath(method, p string) error {
	if p == "" {
		return invalidValue("path is required")
	}
	u, err := url.Parse(p)
	if err != nil || !strings.HasPrefix(p, "/") || u.Host != "" || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || path.Clean(u.Path) != u.Path {
		return invalidValue("path %q is not a path relative to the SCIM root, like /Users or /Users/{id}", p)
	}
	segments := strings.Split(u.Path[1:], "/")
	switch {
	case strings.EqualFold(segments[0], bulkEndpoint[1:]):
		return invalidValue("path must not be %s", bulkEndpoint)
	case method == http.MethodPost && (len(segments) != 1 || segments[0] == ""):
		return invalidValue("path %q of a POST must be a resource type endpoint, like /Users", p)
	case method != http.MethodPost && len(segments) != 2:
		return invalidValue("path %q of a %s must name one resource, like /Users/{id}", p, method)
	}
	return nil
}

// checkBulkID limits bulkIds to URI unreserved characters, so that a
// reference needs no escaping in a path and ends unambiguously inside a
// longer string, such as a PATCH filter.
func checkBulkID(id string) error {
	if id == "" {
		return invalidValue("bulkId is required for POST")
	}
	for i := 0; i < len(id); i++ {
		if !isBulkIDChar(id[i]) {
			return invalidValue("bulkId %q may only contain letters, digits, '-', '.', '_' and '~'", id)
		}
	}
	return nil
}

func isBulkIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// eachBulkRef calls fn with the byte range and bulkId of every
// "bulkId:<id>" in s that is not part of a longer word.
func eachBulkRef(s string, fn func(start, end int, id string)) {
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], bulkRefPrefix)
		if k < 0 {
			return
		}
		start := i + k
		end := start + len(bulkRefPrefix)
		for end < len(s) && isBulkIDChar(s[end]) {
			end++
		}
		if end > start+len(bulkRefPrefix) && (start == 0 || !isBulkIDChar(s[start-1])) {
			fn(start, end, s[start+len(bulkRefPrefix):end])
		}
		i = end
	}
}

// replaceBulkRefs replaces each reference in s with the escaped id it
// resolved to.
func replaceBulkRefs(s string, ids map[string]string, escape func(string) string) string {
	var b strings.Builder
	last := 0
	eachBulkRef(s, func(start, end int, ref string) {
		id, ok := ids[ref]
		if !ok {
			return
		}
		b.WriteString(s[last:start])
		b.WriteString(escape(id))
		last = end
	})
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// collectBulkRefs adds the bulkIds referenced by any string in v to refs.
func collectBulkRefs(v any, refs map[string]bool) {
	switch v := v.(type) {
	case string:
		eachBulkRef(v, func(_, _ int, id string) { refs[id] = true })
	case []any:
		for _, e := range v {
			collectBulkRefs(e, refs)
		}
	case map[string]any:
		for _, e := range v {
			collectBulkRefs(e, refs)
		}
	}
}

// substituteBulkRefs returns a copy of v with every reference replaced.
func substituteBulkRefs(v any, ids map[string]string) any {
	switch v := v.(type) {
	case string:
		return replaceBulkRefs(v, ids, func(id string) string { return id })
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substituteBulkRefs(e, ids)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = substituteBulkRefs(e, ids)
		}
		return out
	default:
		return v
	}
}

// body is the sub-request body: the data as sent, or with its references
// resolved.
func (s bulkStep) body(ids map[string]string) ([]byte, error) {
	if s.data == nil {
		return s.op.Data, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(substituteBulkRefs(s.data, ids)); err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	return buf.Bytes(), nil
}

type bulkState int

const (
	bulkPending bulkState = iota
	bulkRunning
	bulkDone
)

// bulkRun runs the steps of one bulk request.
type bulkRun struct {
	next       http.Handler
	parent     *http.Request
	routeBase  string // the SCIM root as next sees it in URL paths
	publicBase string // the SCIM root as the client addressed it, for locations
	plan       *bulkPlan
	state      []bulkState
	results    []*bulkResult     // nil for an operation that did not run
	ids        map[string]string // bulkId -> id of the resource its POST created
	stack      []int             // operations running, each waiting on the one after it
	cycles     map[int]string    // operation -> the circular reference it is part of
	failOn     int               // 0: no limit
	failures   int
}

func newBulkRun(next http.Handler, parent *http.Request, p *bulkPlan, failOnErrors *int) *bulkRun {
	r := &bulkRun{
		next:       next,
		parent:     parent,
		routeBase:  trimBulkEndpoint(parent.URL.Path),
		publicBase: trimBulkEndpoint(parent.URL.Path),
		plan:       p,
		state:      make([]bulkState, len(p.steps)),
		results:    make([]*bulkResult, len(p.steps)),
		ids:        make(map[string]string),
		cycles:     make(map[int]string),
	}
	// http.StripPrefix above /Bulk shortens URL.Path but not RequestURI,
	// which is what the client addressed.
	if u, err := url.ParseRequestURI(parent.RequestURI); err == nil {
		r.publicBase = trimBulkEndpoint(u.Path)
	}
	if failOnErrors != nil {
		r.failOn = *failOnErrors
	}
	return r
}

func trimBulkEndpoint(p string) string {
	p = strings.TrimSuffix(p, "/")
	if n := len(p) - len(bulkEndpoint); n >= 0 && strings.EqualFold(p[n:], bulkEndpoint) {
		return p[:n]
	}
	return p
}

// runAll runs the operations in request order and returns the results of
// those that ran, in request order.
func (r *bulkRun) runAll() []bulkResult {
	for i := range r.plan.steps {
		if r.stopped() {
			break
		}
		r.run(i)
	}
	out := make([]bulkResult, 0, len(r.results))
	for _, res := range r.results {
		if res != nil {
			out = append(out, *res)
		}
	}
	return out
}

// stopped reports whether failOnErrors is reached or the client is gone.
func (r *bulkRun) stopped() bool {
	return r.parent.Context().Err() != nil || (r.failOn > 0 && r.failures >= r.failOn)
}

// run runs operation i once, after the POSTs it references.
func (r *bulkRun) run(i int) {
	if r.state[i] != bulkPending || r.stopped() {
		return
	}
	r.state[i] = bulkRunning
	r.stack = append(r.stack, i)
	res := r.attempt(i)
	r.stack = r.stack[:len(r.stack)-1]
	r.state[i] = bulkDone
	if res == nil {
		return
	}
	r.results[i] = res
	if status, _ := strconv.Atoi(res.Status); status >= 400 {
		r.failures++
	}
}

func (r *bulkRun) attempt(i int) *bulkResult {
	ids, err := r.resolve(i)
	if r.stopped() {
		return nil
	}
	if err != nil {
		return r.failed(i, err)
	}
	return r.execute(i, ids)
}

// resolve maps each bulkId operation i references to the id its POST
// created, running a POST that comes later in the request first.
func (r *bulkRun) resolve(i int) (map[string]string, error) {
	refs := r.plan.steps[i].refs
	ids := make(map[string]string, len(refs))
	for _, ref := range refs {
		id, err := r.resolveRef(i, ref)
		if err != nil || r.stopped() {
			return nil, err
		}
		ids[ref] = id
	}
	return ids, nil
}

func (r *bulkRun) resolveRef(i int, ref string) (string, error) {
	j, ok := r.plan.posts[ref]
	if !ok {
		return "", invalidValue("bulkId %q is not defined by any POST operation of this request", ref)
	}
	if r.state[j] == bulkRunning {
		return "", r.cycle(j)
	}
	r.run(j)
	if id, ok := r.ids[ref]; ok {
		return id, nil
	}
	if detail, ok := r.cycles[i]; ok {
		return "", conflict("%s", detail)
	}
	return "", conflict("bulkId %q was not created: its POST operation failed", ref)
}

// cycle marks the operations of the stack from j upwards as one circular
// reference. RFC 7644 §3.7.1 lets a service provider answer 409 for it
// instead of creating the resources first and linking them afterwards.
func (r *bulkRun) cycle(j int) error {
	members := r.stack[slices.Index(r.stack, j):]
	names := make([]string, 0, len(members)+1)
	for _, k := range members {
		names = append(names, r.plan.steps[k].op.BulkID)
	}
	names = append(names, r.plan.steps[j].op.BulkID)
	detail := fmt.Sprintf("circular bulkId reference %s: create these resources first, then link them with PATCH",
		strings.Join(names, " -> "))
	for _, k := range members {
		r.cycles[k] = detail
	}
	return conflict("%s", detail)
}

// failed is the result of an operation that failed before it was sent.
func (r *bulkRun) failed(i int, err error) *bulkResult {
	op := r.plan.steps[i].op
	be := asBulkError(err)
	return &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(be.Status), Response: be.body()}
}

// execute sends operation i to next and records what it answered.
func (r *bulkRun) execute(i int, ids map[string]string) *bulkResult {
	step := r.plan.steps[i]
	target := replaceBulkRefs(step.op.Path, ids, url.PathEscape)
	body, err := step.body(ids)
	if err != nil {
		return r.failed(i, err)
	}
	req, err := r.subRequest(step.op, target, body)
	if err != nil {
		return r.failed(i, err)
	}
	rec := &bulkRecorder{header: http.Header{}}
	r.next.ServeHTTP(rec, req)
	res, id := r.outcome(step.op, target, rec)
	if step.op.Method == http.MethodPost && id != "" {
		r.ids[step.op.BulkID] = id
	}
	return res
}

// subRequest builds the request next would see if the client had sent the
// operation on its own: same context (principal, request id), same
// credentials, same URL shape.
func (r *bulkRun) subRequest(op bulkOperation, target string, body []byte) (*http.Request, error) {
	// A router mounted above /Bulk left its routing state in the context; a
	// chi router reuses what it finds there, so each sub-request starts from
	// a fresh one that routes target, as a mount at the SCIM root would.
	rctx := chi.NewRouteContext()
	rctx.RoutePath = target
	ctx := context.WithValue(r.parent.Context(), chi.RouteCtxKey, rctx)
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, op.Method, r.routeBase+target, rd)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", op.Method, target, err)
	}
	req.RequestURI = r.publicBase + target
	req.Host, req.RemoteAddr, req.TLS = r.parent.Host, r.parent.RemoteAddr, r.parent.TLS
	req.Proto, req.ProtoMajor, req.ProtoMinor = r.parent.Proto, r.parent.ProtoMajor, r.parent.ProtoMinor
	for _, name := range [...]string{"Authorization", "X-Request-Id", "Traceparent", "Tracestate",
		"User-Agent", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"} {
		if v, ok := r.parent.Header[name]; ok {
			req.Header[name] = slices.Clone(v)
		}
	}
	req.Header.Set("Accept", bulkMediaType)
	if body != nil {
		req.Header.Set("Content-Type", bulkMediaType)
	}
	if op.Version != "" && op.Method != http.MethodPost {
		req.Header.Set("If-Match", op.Version)
	}
	return req, nil
}

// bulkResource is what a result needs from a sub-response body.
type bulkResource struct {
	ID   string `json:"id"`
	Meta struct {
		Location string `json:"location"`
		Version  string `json:"version"`
	} `json:"meta"`
}

// outcome turns a sub-response into a result, and for a created resource
// also returns its id.
func (r *bulkRun) outcome(op bulkOperation, target string, rec *bulkRecorder) (*bulkResult, string) {
	status := rec.statusCode()
	res := &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(status)}
	var resource bulkResource
	_ = json.Unmarshal(rec.body.Bytes(), &resource) // a body that is not a resource has no id to report
	if status >= 400 {
		res.Response = bulkErrorResponse(status, rec.body.Bytes())
		if op.Method != http.MethodPost {
			res.Location = r.publicBase + target
		}
		return res, ""
	}
	res.Location = cmp.Or(rec.header.Get("Location"), resource.Meta.Location)
	if res.Location == "" && op.Method != http.MethodPost {
		res.Location = r.publicBase + target
	}
	res.Version = cmp.Or(rec.header.Get("ETag"), resource.Meta.Version)
	id := resource.ID
	if id == "" && res.Location != "" {
		id = path.Base(res.Location)
	}
	return res, id
}

// bulkErrorResponse is the SCIM error of a failed sub-response, made up
// when next answered something other than a JSON object.
func bulkErrorResponse(status int, body []byte) json.RawMessage {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
		return slices.Clone(trimmed)
	}
	return (&bulkError{Status: status, Detail: http.StatusText(status)}).body()
}

// bulkRecorder holds one sub-response.
type bulkRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bulkRecorder) Header() http.Header { return w.header }

func (w *bulkRecorder) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
}

func (w *bulkRecorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *bulkRecorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func writeBulkError(w http.ResponseWriter, e *bulkError) {
	writeBulkJSON(w, e.Status, json.RawMessage(e.body()))
}

func writeBulkJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, (&bulkError{Status: http.StatusInternalServerError, Detail: "internal error"}).body()
	}
	w.Header().Set("Content-Type", bulkMediaType)
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone
}
