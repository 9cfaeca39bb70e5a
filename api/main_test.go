package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
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
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/internal/pgtest"
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
	logs   *syncBuffer

	A, B tenantCreds

	signingKey jwk.Key  // the identity provider's private key
	app        *app.App // the service under test, as roster serve builds it
	signIn     *flow.SignIn
	mfa        *flow.MFA

	invitations *flow.Invitations
	passkeys    *flow.Passkeys
}

// tenantCreds is a tenant and API tokens of each role in it.
type tenantCreds struct {
	ID        string
	AdminID   string
	Admin     string // admin API token, acting for AdminID
	Developer string
	Viewer    string
	SCIM      string // admin role narrowed to the scim:provision scope
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvWithDSN(t, testDSN)
}

func newTestEnvWithDSN(t *testing.T, dsn string) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	e := &testEnv{t: t, DB: db, logs: &syncBuffer{}}
	jwksURL := e.startIdentityProvider()
	a, err := app.New(ctx, db, app.Config{
		PublicURL: testPublicURL,
		// One key for the package: the signing keys in the shared database
		// were sealed with it.
		EncryptionKey: testEncryptionKey,
		JWT:           &auth.JWTConfig{JWKSURL: jwksURL, Issuer: testIssuer, Audience: testAudience},
		Log:           slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
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
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.signingKey, err = jwk.Import(raw); err != nil {
		e.t.Fatal(err)
	}
	_ = e.signingKey.Set(jwk.KeyIDKey, "idp-key-1")
	_ = e.signingKey.Set(jwk.AlgorithmKey, jwa.RS256())
	pub, err := e.signingKey.PublicKey()
	if err != nil {
		e.t.Fatal(err)
	}
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	e.t.Cleanup(idp.Close)
	return idp.URL
}

// jwt returns a token signed by the IdP; mutate edits its claims.
func (e *testEnv) jwt(tenantID string, roles []string, mutate func(b *jwt.Builder)) string {
	b := jwt.NewBuilder().Issuer(testIssuer).Audience([]string{testAudience}).Subject("idp-user-1").
		IssuedAt(time.Now()).Expiration(time.Now().Add(5*time.Minute)).
		Claim("tid", tenantID).Claim("roles", roles)
	if mutate != nil {
		mutate(b)
	}
	tok, err := b.Build()
	if err != nil {
		e.t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), e.signingKey))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(signed)
}

func (e *testEnv) newTenant() tenantCreds {
	t := e.t
	ctx := context.Background()
	adminSecret, adminToken := newSecretToken(t, "admin", roster.RoleAdmin, nil)
	scimSecret, scimToken := newSecretToken(t, "scim", roster.RoleAdmin, []string{string(roster.PermSCIMProvision)})
	b := &roster.Bootstrap{
		Tenant:     &roster.Tenant{Name: "Tenant " + adminToken.Prefix[4:]},
		Admin:      &roster.User{Email: "admin-" + strings.ToLower(adminToken.Prefix[4:]) + "@example.com", Role: roster.RoleAdmin, Active: true},
		AdminToken: adminToken,
		SCIMToken:  scimToken,
	}
	if err := store.NewTenantService(e.DB).CreateTenant(ctx, b); err != nil {
		t.Fatal(err)
	}
	c := tenantCreds{ID: b.Tenant.ID, AdminID: b.Admin.ID, Admin: adminSecret, SCIM: scimSecret}
	c.Developer = e.token(c.ID, roster.RoleDeveloper, nil)
	c.Viewer = e.token(c.ID, roster.RoleViewer, nil)
	return c
}

// token creates an API token in a tenant and returns its secret.
func (e *testEnv) token(tenantID, role string, mutate func(*roster.APIToken)) string {
	secret, tok := newSecretToken(e.t, role, role, nil)
	if mutate != nil {
		mutate(tok)
	}
	err := store.NewTokenService(e.DB).CreateToken(context.Background(), tenantID, roster.Actor{Type: roster.ActorSystem, ID: "test"}, tok)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func newSecretToken(t *testing.T, name, role string, scopes []string) (string, *roster.APIToken) {
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	return secret, &roster.APIToken{Name: name, Role: role, Scopes: scopes, Prefix: prefix, Hash: hash}
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

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
		rows, err := db.Query(`SELECT t::text FROM ` + table + ` t`)
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
