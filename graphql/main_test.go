package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"

	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/internal/testtenant"
	"github.com/rosterhq/roster/store"
)

var testDSN string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &testDSN)) }

const (
	testPublicURL = "http://roster.test"
	goodPassword  = "correct horse battery staple"
)

// testEnv is the whole service, wired by app.New as roster serve wires
// it, on the package's database, with two tenants to tell apart.
type testEnv struct {
	t       testing.TB
	DB      *store.DB
	app     *app.App
	handler http.Handler
	logs    *testkit.SyncBuffer
	idp     *testkit.IdentityProvider // an external identity provider the service trusts
	A, B    testtenant.Tenant
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvOn(t, testDSN, app.Config{})
}

func newTestEnvOn(t testing.TB, dsn string, cfg app.Config) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newTestEnvWithDB(t, db, cfg)
}

func newTestEnvWithDB(t testing.TB, db *store.DB, cfg app.Config) *testEnv {
	t.Helper()
	e := &testEnv{t: t, DB: db, logs: &testkit.SyncBuffer{}}
	cfg.PublicURL = testPublicURL
	// One key for the package: the signing keys in the shared database
	// were sealed with it.
	cfg.EncryptionKey = []byte("roster-graphql-tests-encrypt-key")
	cfg.Log = slog.New(slog.NewJSONHandler(e.logs, nil))
	e.idp = testkit.StartIdentityProvider(t, "https://idp.example.test", "roster-api")
	cfg.JWT = &auth.JWTConfig{JWKSURL: e.idp.URL, Issuer: e.idp.Issuer, Audience: e.idp.Audience}
	a, err := app.New(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.app, e.handler = a, a.Handler
	e.A, e.B = testtenant.NewTenant(t, db), testtenant.NewTenant(t, db)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", e.logs.String())
		}
	})
	return e
}

// token creates an API token in a tenant and returns its secret.
func (e *testEnv) token(tenantID, role string, scopes []string) string {
	return testtenant.CreateToken(e.t, e.DB, tenantID, role, func(tok *roster.APIToken) { tok.Scopes = scopes })
}

// client is a GraphQL client of the service, through its router, with
// the credential token.
func (e *testEnv) client(token string) *client.Client {
	c := client.New(e.handler, client.Path("/graphql"))
	if token != "" {
		return client.New(e.handler, client.Path("/graphql"), client.AddHeader("Authorization", "Bearer "+token))
	}
	return c
}

// gqlError is a GraphQL error as the service answers it.
type gqlError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code   string              `json:"code"`
		Limit  string              `json:"limit"`
		Fields []roster.FieldError `json:"fields"`
	} `json:"extensions"`
}

// query runs a GraphQL operation with the client library and decodes its
// data into out (when not nil), failing the test on any error.
func (e *testEnv) query(token, q string, out any, vars ...any) {
	e.t.Helper()
	if out == nil {
		out = &map[string]any{}
	}
	if err := e.client(token).Post(q, out, variables(vars)...); err != nil {
		e.t.Fatalf("%s: %v", firstLine(q), err)
	}
}

// fail runs an operation that must fail, and returns its errors.
func (e *testEnv) fail(token, q string, vars ...any) []gqlError {
	e.t.Helper()
	resp, err := e.client(token).RawPost(q, variables(vars)...)
	if err != nil {
		// gqlgen's client refuses 4xx answers; read their errors anyway.
		_, body, ok := strings.Cut(err.Error(), ": ")
		if !ok || !strings.HasPrefix(err.Error(), "http 4") {
			e.t.Fatalf("%s: %v", firstLine(q), err)
		}
		resp = &client.Response{}
		if jerr := json.Unmarshal([]byte(body), resp); jerr != nil {
			e.t.Fatalf("%s: %v", firstLine(q), err)
		}
	}
	var errs []gqlError
	if len(resp.Errors) == 0 || json.Unmarshal(resp.Errors, &errs) != nil || len(errs) == 0 {
		e.t.Fatalf("%s: want errors, got data %v", firstLine(q), resp.Data)
	}
	return errs
}

// wantCode runs an operation that must fail with code, naming field when
// field is not "".
func (e *testEnv) wantCode(token, code, field, q string, vars ...any) gqlError {
	e.t.Helper()
	errs := e.fail(token, q, vars...)
	got := errs[0]
	if got.Extensions.Code != code {
		e.t.Fatalf("%s: code %q (%s), want %q", firstLine(q), got.Extensions.Code, got.Message, code)
	}
	if field != "" && !namesField(got, field) {
		e.t.Fatalf("%s: fields %v do not name %q", firstLine(q), got.Extensions.Fields, field)
	}
	return got
}

func namesField(err gqlError, field string) bool {
	for _, f := range err.Extensions.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func variables(vars []any) []client.Option {
	var opts []client.Option
	for i := 0; i+1 < len(vars); i += 2 {
		opts = append(opts, client.Var(vars[i].(string), vars[i+1]))
	}
	return opts
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	line, _, _ := strings.Cut(q, "\n")
	return line
}

// httpDo sends a raw request to the router, for what a client library
// would not send.
func (e *testEnv) httpDo(method, path, token, contentType string, body []byte, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// createUser creates a user with a password by GraphQL and returns its id.
func (e *testEnv) createUser(token, email string) string {
	e.t.Helper()
	var out struct {
		CreateUser struct{ User struct{ ID string } } `json:"createUser"`
	}
	e.query(token, `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`, &out,
		"in", map[string]any{"email": email, "password": goodPassword})
	return out.CreateUser.User.ID
}

// signIn signs a user in with their password and returns their access
// token: a Roster JWT with a fresh password sign-in.
func (e *testEnv) signIn(tenantID, email string) string {
	e.t.Helper()
	tok, mfa, err := e.app.SignIn.Login(context.Background(), "192.0.2.1", tenantID, email, goodPassword)
	if err != nil || mfa != nil {
		e.t.Fatalf("sign in %s: %v %v", email, err, mfa)
	}
	return tok.AccessToken
}

// signedInUser creates a user in tenant A and signs them in: their id
// and access token.
func (e *testEnv) signedInUser(email string) (string, string) {
	e.t.Helper()
	return e.signedInUserIn(e.A, email)
}

// signedInUserIn is signedInUser in tenant c.
func (e *testEnv) signedInUserIn(c testtenant.Tenant, email string) (string, string) {
	e.t.Helper()
	id := e.createUser(c.Admin, email)
	return id, e.signIn(c.ID, email)
}

// uniqueEmail is an address no other test uses.
func uniqueEmail(t *testing.T, prefix string) string {
	return fmt.Sprintf("%s-%s@example.com", prefix, strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())))
}
