package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/store"
)

var testDSN string

func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(m, &testDSN))
}

// scimEnv is the whole HTTP service (REST and SCIM, wired by app.New as
// roster serve wires it) on the package's test database, with two tenants.
type scimEnv struct {
	t   testing.TB // the test (or fuzz input) in progress
	URL string
	DB  *store.DB

	A, B tenant
}

type tenant struct {
	ID, AdminID string
	SCIM, Admin string // token secrets
}

func newSCIMEnv(t testing.TB, options ...func(*scim.Server)) *scimEnv {
	t.Helper()
	db, err := store.Open(context.Background(), testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := app.New(context.Background(), db, app.Config{
		PublicURL:     "http://roster.test",
		EncryptionKey: []byte("roster-scim-tests-encryption-key"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	// The SCIM middleware reads its settings at each request.
	for _, option := range options {
		option(a.SCIM)
	}
	ts := httptest.NewServer(a.Handler)
	t.Cleanup(ts.Close)
	e := &scimEnv{t: t, URL: ts.URL, DB: db}
	e.A, e.B = e.newTenant(), e.newTenant()
	return e
}

func (e *scimEnv) newTenant() tenant {
	secret := func(role string, scopes []string) (string, *roster.APIToken) {
		s, prefix, hash, err := auth.NewAPIToken()
		if err != nil {
			e.t.Fatal(err)
		}
		return s, &roster.APIToken{Name: role, Role: role, Scopes: scopes, Prefix: prefix, Hash: hash}
	}
	adminSecret, adminTok := secret(roster.RoleAdmin, nil)
	scimSecret, scimTok := secret(roster.RoleAdmin, []string{string(roster.PermSCIMProvision)})
	b := &roster.Bootstrap{
		Tenant:     &roster.Tenant{Name: "SCIM " + adminTok.Prefix[4:]},
		Admin:      &roster.User{Email: "admin-" + strings.ToLower(adminTok.Prefix[4:]) + "@example.com", Role: roster.RoleAdmin, Active: true},
		AdminToken: adminTok,
		SCIMToken:  scimTok,
	}
	if err := store.NewTenantService(e.DB).CreateTenant(context.Background(), b); err != nil {
		e.t.Fatal(err)
	}
	return tenant{ID: b.Tenant.ID, AdminID: b.Admin.ID, SCIM: scimSecret, Admin: adminSecret}
}

// reply is a finished request.
type reply struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// call sends body (a string is sent as is, anything else as JSON) with the
// token and returns the decoded answer. It checks the SCIM media type of
// every answer with a body.
func (e *scimEnv) call(method, path, token string, body any, headers ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(path, "/scim/") && !strings.HasPrefix(ct, "application/scim+json") {
			e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			e.t.Fatalf("%s %s: %d, body is not a JSON object: %s", method, path, resp.StatusCode, raw)
		}
	}
	return r
}

// must fails the test unless the reply has the status.
func (r reply) must(t *testing.T, status int) reply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// wantSCIMError fails unless r is a SCIM error with status and, when given,
// scimType.
func wantSCIMError(t *testing.T, r reply, status int, scimType string) {
	t.Helper()
	r.must(t, status)
	schemas, _ := r.Body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Fatalf("not a SCIM error: %s", r.Raw)
	}
	if r.Body["status"] != strconv.Itoa(status) {
		t.Fatalf("status field %v, want %q: %s", r.Body["status"], strconv.Itoa(status), r.Raw)
	}
	if scimType != "" && r.Body["scimType"] != scimType {
		t.Fatalf("scimType %v, want %s: %s", r.Body["scimType"], scimType, r.Raw)
	}
	if detail, _ := r.Body["detail"].(string); detail == "" {
		t.Fatalf("SCIM error without detail: %s", r.Raw)
	}
}

// str reads a string at a dotted path of a decoded object.
func str(m map[string]any, path string) string {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}
