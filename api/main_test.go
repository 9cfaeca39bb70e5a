package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/internal/testtenant"
	"github.com/rosterhq/roster/store"
)

var testDSN string

func TestMain(m *testing.M) {
	code := pgtest.Run(m, &testDSN)
	// Every status the contract documents must be one some test produced,
	// so that the spec cannot promise what the code never does. (A -run
	// selection exercises less; the check is for the whole suite.)
	if missing := apiContractCoverage.missing(); code == 0 && len(missing) > 0 && !isFiltered() {
		fmt.Fprintf(os.Stderr, "FAIL: documented responses no test produced:\n  %s\n", strings.Join(missing, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// isFiltered reports whether the run selects tests with -run or -skip.
func isFiltered() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return true
		}
	}
	return false
}

// testEncryptionKey seals the package's secrets at rest.
var testEncryptionKey = []byte("roster-api-tests-encryption-key!")

const (
	testPublicURL = "http://roster.test"
	testIssuer    = "https://idp.example.test"
	testAudience  = "roster-api"
)

// testEnv is the real Roster service (REST and SCIM, wired by app.New as
// roster serve wires it) on the package's test database, with an identity
// provider's JWKS and two tenants to tell apart.
type testEnv struct {
	t      *testing.T
	URL    string
	routes chi.Routes // what URL serves
	DB     *store.DB
	client *http.Client
	logs   *testkit.SyncBuffer

	A, B tenantCreds

	idp    *testkit.IdentityProvider
	app    *app.App // the service under test, as roster serve builds it
	signIn *flow.SignIn
	mfa    *flow.MFA

	invitations *flow.Invitations
	passkeys    *flow.Passkeys
}

// tenantCreds is a tenant and API tokens of each role in it.
type tenantCreds = testtenant.Tenant

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvWithDSN(t, testDSN)
}

// withSignUp opens sign-up, as ROSTER_SIGNUP=open does.
func withSignUp(c *app.Config) { c.SignUp = true }

func newTestEnvWithDSN(t *testing.T, dsn string, options ...func(*app.Config)) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	e := &testEnv{t: t, DB: db, logs: &testkit.SyncBuffer{}}
	jwksURL := e.startIdentityProvider()
	cfg := app.Config{
		PublicURL: testPublicURL,
		// One key for the package: the signing keys in the shared database
		// were sealed with it.
		EncryptionKey: testEncryptionKey,
		JWT:           &auth.JWTConfig{JWKSURL: jwksURL, Issuer: testIssuer, Audience: testAudience},
		Log:           slog.New(slog.NewJSONHandler(e.logs, nil)),
	}
	for _, o := range options {
		o(&cfg)
	}
	a, err := app.New(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.app, e.signIn, e.mfa, e.invitations, e.passkeys = a, a.SignIn, a.MFA, a.Invitations, a.Passkeys
	e.routes = a.Handler.(chi.Routes)
	ts := httptest.NewServer(a.Handler)
	t.Cleanup(ts.Close)
	e.URL = ts.URL
	e.client = &http.Client{Transport: newContractTransport(t, http.DefaultTransport)}
	e.A, e.B = e.newTenant(), e.newTenant()
	t.Cleanup(e.cancelQueuedMail)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", e.logs.String())
		}
	})
	return e
}

// startIdentityProvider serves a JWKS with one RSA key, as an IdP would.
func (e *testEnv) startIdentityProvider() string {
	e.idp = testkit.StartIdentityProvider(e.t, testIssuer, testAudience)
	return e.idp.URL
}

// jwt returns a token signed by the IdP; mutate edits its claims.
func (e *testEnv) jwt(tenantID string, roles []string, mutate func(b *jwt.Builder)) string {
	return e.idp.Sign(e.t, tenantID, roles, mutate)
}

func (e *testEnv) newTenant() tenantCreds {
	return testtenant.NewTenant(e.t, e.DB)
}

// token creates an API token in a tenant and returns its secret.
func (e *testEnv) token(tenantID, role string, mutate func(*roster.APIToken)) string {
	return testtenant.CreateToken(e.t, e.DB, tenantID, role, mutate)
}

// response is a finished request: status, headers and the decoded body.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Object decodes the body as a JSON object.
func (r response) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// request describes one call; Body is JSON-encoded unless it is a string.
type request struct {
	Method, Path, Token string
	Body                any
	Header              map[string]string
	Invalid             bool // the request breaks the contract on purpose
}

func (e *testEnv) do(req request) response {
	t := e.t
	t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	r, err := http.NewRequest(req.Method, e.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		r.Header.Set(k, v)
	}
	if req.Invalid {
		r.Header.Set(invalidRequestHeader, "1")
	}
	resp, err := e.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// wantProblem fails unless r is a problem+json answer with status, naming
// field when field is not empty.
func wantProblem(t *testing.T, r response, status int, field string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var p struct {
		Status int
		Detail string
		Errors []roster.FieldError
	}
	r.JSON(t, &p)
	if p.Status != status || p.Detail == "" {
		t.Fatalf("problem %s lacks status or detail", r.Body)
	}
	if field == "" {
		return
	}
	for _, f := range p.Errors {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("problem %s does not name field %q", r.Body, field)
}

// jwtSegment decodes one base64url JSON segment of a JWT.
func jwtSegment(seg string) (map[string]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}

// dumpTables is every row of the tables as text, to look for secrets that
// must not be stored in the clear.
func dumpTables(t *testing.T, tables ...string) string {
	t.Helper()
	db := openTestDB(t)
	var dump strings.Builder
	for _, table := range tables {
		// Without audit_events.txid: a transaction counter, not data, and
		// six digits long, like a one-time code, which tests look for.
		rows, err := db.Query(`SELECT (to_jsonb(t) - 'txid')::text FROM ` + table + ` t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(row + "\n")
		}
		rows.Close()
	}
	return dump.String()
}
