package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "https://roster.example.com/api"
	testTenant   = "5b0e5c2e-8f3a-4c8e-9d55-0c7a3d1f2b61"
	testUser     = "0f9b6a9e-3c1d-4d2b-a7c4-6b8f0e1d2c3a"
)

// testClock is the verifier's clock; tests move it to expire tokens and to
// get past the forced-refresh rate limit.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// idp serves a JWKS that a test can change while the verifier runs.
type idp struct {
	mu    sync.Mutex
	keys  []jwk.Key
	extra []string // raw JSON keys, for key types jwx cannot parse
	hits  atomic.Int32
}

func (p *idp) publish(keys ...jwk.Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = keys
}

func (p *idp) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	raw := make([]json.RawMessage, 0, len(p.keys)+len(p.extra))
	for _, k := range p.keys {
		b, err := json.Marshal(k)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		raw = append(raw, b)
	}
	for _, e := range p.extra {
		raw = append(raw, json.RawMessage(e))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": raw})
}

// testKey is a private signing key and its public JWK as the IdP publishes it.
type testKey struct {
	alg  jwa.SignatureAlgorithm
	kid  string
	raw  crypto.Signer
	priv jwk.Key
	pub  jwk.Key
}

func newTestKey(t *testing.T, alg jwa.SignatureAlgorithm, kid string) testKey {
	t.Helper()
	var raw crypto.Signer
	var err error
	switch alg {
	case jwa.RS256():
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.ES256():
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.EdDSA():
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key type for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	priv := mustJWK(t, raw, kid)
	pub, err := priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: alg, kid: kid, raw: raw, priv: priv, pub: pub}
}

func mustJWK(t *testing.T, raw any, kid string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// withMeta returns k with "alg" and "use" set, as most IdPs publish keys.
func withMeta(t *testing.T, k jwk.Key, alg jwa.SignatureAlgorithm) jwk.Key {
	t.Helper()
	k, err := k.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.KeyUsageKey, "sig"); err != nil {
		t.Fatal(err)
	}
	return k
}

type claims map[string]any

func validClaims(now time.Time) claims {
	return claims{
		"iss":       testIssuer,
		"aud":       []string{testAudience},
		"sub":       testUser,
		"tid":       testTenant,
		"iat":       now,
		"nbf":       now.Add(-time.Minute),
		"exp":       now.Add(time.Hour),
		"roles":     []string{"admin", "viewer"},
		"scope":     "users:read users:write",
		"amr":       []string{"pwd", "otp"},
		"auth_time": now.Add(-5 * time.Minute).Unix(),
	}
}

func (c claims) with(name string, v any) claims {
	out := make(claims, len(c))
	for k, val := range c {
		out[k] = val
	}
	out[name] = v
	return out
}

func (c claims) without(name string) claims {
	out := make(claims, len(c))
	for k, val := range c {
		if k != name {
			out[k] = val
		}
	}
	return out
}

func (c claims) token(t *testing.T) jwt.Token {
	t.Helper()
	tok := jwt.New()
	for k, v := range c {
		if err := tok.Set(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	return tok
}

func (c claims) json(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(c.token(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(t *testing.T, k testKey, c claims) string {
	t.Helper()
	return signAs(t, k.alg, k.priv, c)
}

func signAs(t *testing.T, alg jwa.SignatureAlgorithm, key jwk.Key, c claims) string {
	t.Helper()
	b, err := jwt.Sign(c.token(t), jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

type fixture struct {
	clock *testClock
	idp   *idp
	srv   *httptest.Server
	rsa   testKey
	ec    testKey
	ed    testKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		clock: &testClock{t: time.Now().Truncate(time.Second)},
		idp:   &idp{},
		rsa:   newTestKey(t, jwa.RS256(), "rsa-1"),
		ec:    newTestKey(t, jwa.ES256(), "ec-1"),
		ed:    newTestKey(t, jwa.EdDSA(), "ed-1"),
	}
	f.idp.publish(withMeta(t, f.rsa.pub, jwa.RS256()), f.ec.pub, withMeta(t, f.ed.pub, jwa.EdDSA()))
	f.srv = httptest.NewTLSServer(f.idp)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) config() JWTConfig {
	return JWTConfig{
		JWKSURL:    f.srv.URL + "/.well-known/jwks.json",
		Issuer:     testIssuer,
		Audience:   testAudience,
		HTTPClient: f.srv.Client(),
		Clock:      f.clock.Now,
	}
}

func (f *fixture) verifier(t *testing.T, cfg JWTConfig) *JWTVerifier {
	t.Helper()
	v, err := NewJWTVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewJWTVerifier: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return v
}

func wantPrincipal(t *testing.T, v *JWTVerifier, raw string) *roster.Principal {
	t.Helper()
	p, err := v.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

func wantError(t *testing.T, v *JWTVerifier, raw, code, msg string) {
	t.Helper()
	p, err := v.Verify(t.Context(), raw)
	if err == nil {
		t.Fatalf("Verify accepted the token: %+v", p)
	}
	var rerr *roster.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("Verify error %T %v, want *roster.Error", err, err)
	}
	if rerr.Code != code || rerr.Message != msg {
		t.Fatalf("Verify error code=%q message=%q, want code=%q message=%q", rerr.Code, rerr.Message, code, msg)
	}
}

func TestJWTVerifierAccepts(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, f.config())
	now := f.clock.Now()
	base := validClaims(now)

	full := &roster.Principal{
		Kind:     roster.PrincipalUser,
		TenantID: testTenant,
		Subject:  testUser,
		UserID:   testUser,
		Roles:    []string{"admin", "viewer"},
		Scopes:   []string{"users:read", "users:write"},
		AMR:      []string{"pwd", "otp"},
		AuthTime: now.Add(-5 * time.Minute),
	}
	minimal := &roster.Principal{
		Kind:     roster.PrincipalUser,
		TenantID: testTenant,
		Subject:  testUser,
		UserID:   testUser,
	}

	tests := []struct {
		name string
		raw  string
		want *roster.Principal
	}{
		{"RS256", sign(t, f.rsa, base), full},
		{"ES256", sign(t, f.ec, base), full},
		{"EdDSA", sign(t, f.ed, base), full},
		{
			"only required claims",
			sign(t, f.rsa, claims{"iss": testIssuer, "aud": testAudience, "sub": testUser, "tid": testTenant, "exp": now.Add(time.Minute)}),
			minimal,
		},
		{
			"one role as a string, scopes as an array",
			sign(t, f.ec, base.with("roles", "viewer").with("scope", []string{"users:read"})),
			&roster.Principal{
				Kind: roster.PrincipalUser, TenantID: testTenant, Subject: testUser, UserID: testUser,
				Roles: []string{"viewer"}, Scopes: []string{"users:read"}, AMR: []string{"pwd", "otp"},
				AuthTime: now.Add(-5 * time.Minute),
			},
		},
		{
			"subject that is not a Roster user id",
			sign(t, f.ed, base.with("sub", "00u1abcdEFGH")),
			&roster.Principal{
				Kind: roster.PrincipalUser, TenantID: testTenant, Subject: "00u1abcdEFGH",
				Roles: full.Roles, Scopes: full.Scopes, AMR: full.AMR, AuthTime: full.AuthTime,
			},
		},
		{
			"upper-case tenant id is canonicalised",
			sign(t, f.rsa, base.with("tid", strings.ToUpper(testTenant))),
			full,
		},
		{
			"audience among several",
			sign(t, f.rsa, base.with("aud", []string{"other", testAudience})),
			full,
		},
		{
			"expired within the leeway",
			sign(t, f.rsa, base.with("exp", now.Add(-20*time.Second))),
			full,
		},
		{
			"not yet valid within the leeway",
			sign(t, f.rsa, base.with("nbf", now.Add(20*time.Second)).with("iat", now.Add(20*time.Second))),
			full,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wantPrincipal(t, v, tt.raw)
			if !principalEqual(got, tt.want) {
				t.Fatalf("principal\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func principalEqual(a, b *roster.Principal) bool {
	return a.Kind == b.Kind && a.TenantID == b.TenantID && a.Subject == b.Subject &&
		a.UserID == b.UserID && a.TokenID == b.TokenID &&
		slices.Equal(a.Roles, b.Roles) && slices.Equal(a.Scopes, b.Scopes) &&
		slices.Equal(a.AMR, b.AMR) && a.AuthTime.Equal(b.AuthTime)
}

func TestJWTVerifierRejects(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, f.config())
	now := f.clock.Now()
	base := validClaims(now)
	const unauth = roster.EUNAUTHORIZED

	// Same kid as a published key, different key material.
	impostor := newTestKey(t, jwa.RS256(), "rsa-1")
	unpublished := newTestKey(t, jwa.ES256(), "ec-unpublished")

	noneToken := b64([]byte(`{"alg":"none","typ":"JWT","kid":"rsa-1"}`)) + "." + b64(base.json(t)) + "."

	// Algorithm confusion: HS256 keyed with the RSA public key as the
	// verifier's key store would hand it out.
	der, err := x509.MarshalPKIXPublicKey(f.rsa.raw.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, "rsa-1"); err != nil {
		t.Fatal(err)
	}
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		t.Fatal(err)
	}
	hs, err := jws.Sign(base.json(t), jws.WithKey(jwa.HS256(), pubPEM, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}

	rs384, err := jwt.Sign(base.token(t), jwt.WithKey(jwa.RS384(), mustJWK(t, f.rsa.raw, "rsa-1")))
	if err != nil {
		t.Fatal(err)
	}

	// A valid token whose payload is swapped for another tenant's.
	valid := strings.Split(sign(t, f.rsa, base), ".")
	other := b64(base.with("tid", "7d3f1c2a-9b8e-4f6d-a5c4-3b2a1f0e9d8c").json(t))
	tampered := valid[0] + "." + other + "." + valid[2]

	tests := []struct {
		name string
		raw  string
		msg  string
	}{
		{"empty", "", "missing token"},
		{"garbage", "not-a-jwt", "malformed token"},
		{"too large", strings.Repeat("a", maxTokenBytes+1), "token too large"},
		{"alg none", noneToken, "unsupported token algorithm"},
		{"HS256 keyed with the RSA public key", string(hs), "unsupported token algorithm"},
		{"RS384", string(rs384), "unsupported token algorithm"},
		{"no kid", signAs(t, jwa.RS256(), mustJWK(t, f.rsa.raw, ""), base), "token has no key id"},
		{"unknown kid", sign(t, unpublished, base), "unknown signing key"},
		{"known kid, other key", sign(t, impostor, base), "invalid token signature"},
		{"tampered payload", tampered, "invalid token signature"},
		{"RS256 header with an EC key's kid", signAs(t, jwa.RS256(), mustJWK(t, f.rsa.raw, "ec-1"), base), "signing key does not match token algorithm"},
		{"ES256 header with an RSA key's kid", signAs(t, jwa.ES256(), mustJWK(t, f.ec.raw, "rsa-1"), base), "signing key does not match token algorithm"},
		{"wrong issuer", sign(t, f.rsa, base.with("iss", "https://evil.example.com/")), "wrong token issuer"},
		{"no issuer", sign(t, f.rsa, base.without("iss")), "wrong token issuer"},
		{"wrong audience", sign(t, f.ec, base.with("aud", []string{"https://other.example.com"})), "wrong token audience"},
		{"no audience", sign(t, f.ec, base.without("aud")), "wrong token audience"},
		{"expired", sign(t, f.ed, base.with("exp", now.Add(-time.Minute))), "token expired"},
		{"not yet valid", sign(t, f.ed, base.with("nbf", now.Add(time.Minute))), "token not yet valid"},
		{"issued in the future", sign(t, f.ed, base.with("iat", now.Add(time.Minute))), "token issued in the future"},
		{"no exp", sign(t, f.rsa, base.without("exp")), "token has no expiry"},
		{"no tid", sign(t, f.rsa, base.without("tid")), "token has no tenant"},
		{"empty tid", sign(t, f.rsa, base.with("tid", "")), "token has no tenant"},
		{"tid not a UUID", sign(t, f.rsa, base.with("tid", "acme")), "token tenant is not a valid id"},
		{"tid a number", sign(t, f.rsa, base.with("tid", 42)), "token tenant is not a valid id"},
		{"tid the nil UUID", sign(t, f.rsa, base.with("tid", "00000000-0000-0000-0000-000000000000")), "token tenant is not a valid id"},
		{"tid UUID without hyphens", sign(t, f.rsa, base.with("tid", strings.ReplaceAll(testTenant, "-", ""))), "token tenant is not a valid id"},
		{"no sub", sign(t, f.rsa, base.without("sub")), "token has no subject"},
		{"roles not strings", sign(t, f.rsa, base.with("roles", []any{"admin", 1})), "invalid roles claim"},
		{"roles an object", sign(t, f.rsa, base.with("roles", map[string]any{"admin": true})), "invalid roles claim"},
		{"scope a number", sign(t, f.rsa, base.with("scope", 7)), "invalid scope claim"},
		{"amr an object", sign(t, f.rsa, base.with("amr", map[string]any{"pwd": true})), "invalid amr claim"},
		{"auth_time a string", sign(t, f.rsa, base.with("auth_time", "yesterday")), "invalid auth_time claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, v, tt.raw, unauth, tt.msg)
		})
	}
}

func TestJWTVerifierPicksUpRotatedKey(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, f.config())
	now := f.clock.Now()

	rotated := newTestKey(t, jwa.RS256(), "rsa-2")
	raw := sign(t, rotated, validClaims(now))

	f.idp.publish(withMeta(t, rotated.pub, jwa.RS256()), f.ec.pub)
	p := wantPrincipal(t, v, raw)
	if p.TenantID != testTenant {
		t.Fatalf("tenant %q, want %q", p.TenantID, testTenant)
	}
}

func TestJWTVerifierRateLimitsForcedRefresh(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, f.config())
	now := f.clock.Now()

	ghost := newTestKey(t, jwa.ES256(), "ghost")
	wantError(t, v, sign(t, ghost, validClaims(now)), roster.EUNAUTHORIZED, "unknown signing key")

	rotated := newTestKey(t, jwa.ES256(), "ec-2")
	raw := sign(t, rotated, validClaims(now))
	f.idp.publish(f.rsa.pub, rotated.pub)

	hits := f.idp.hits.Load()
	f.clock.Advance(forcedRefreshInterval - time.Second)
	wantError(t, v, raw, roster.EUNAUTHORIZED, "unknown signing key")
	wantError(t, v, sign(t, ghost, validClaims(now)), roster.EUNAUTHORIZED, "unknown signing key")
	if got := f.idp.hits.Load(); got != hits {
		t.Fatalf("JWKS fetched %d more times within the rate limit", got-hits)
	}

	f.clock.Advance(2 * time.Second)
	wantPrincipal(t, v, raw)
	if got := f.idp.hits.Load(); got != hits+1 {
		t.Fatalf("JWKS fetched %d times after the rate limit, want 1", got-hits)
	}
}

func TestJWTVerifierJWKSDownAtStart(t *testing.T) {
	// A port that refuses connections until the IdP comes up on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	f := newFixture(t)
	own := newTestKey(t, jwa.EdDSA(), "roster-1")
	static := jwk.NewSet()
	if err := static.AddKey(own.priv); err != nil { // a private key: only its public half is used
		t.Fatal(err)
	}
	cfg := f.config()
	cfg.JWKSURL = "http://" + addr + "/jwks.json"
	cfg.HTTPClient = nil
	cfg.Keys = static

	start := time.Now()
	v := f.verifier(t, cfg)
	if d := time.Since(start); d > fetchTimeout/2 {
		t.Fatalf("NewJWTVerifier waited %s for a JWKS that refuses connections", d)
	}
	now := f.clock.Now()
	idpToken := sign(t, f.rsa, validClaims(now))

	wantError(t, v, idpToken, roster.EUNAVAILABLE, "signing keys are unavailable")
	wantPrincipal(t, v, sign(t, own, validClaims(now)))

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(f.idp)
	if err := srv.Listener.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	// The failed refresh a moment ago holds the next one off.
	wantError(t, v, idpToken, roster.EUNAVAILABLE, "signing keys are unavailable")
	f.clock.Advance(forcedRefreshInterval)
	p := wantPrincipal(t, v, idpToken)
	if p.UserID != testUser {
		t.Fatalf("user %q, want %q", p.UserID, testUser)
	}
}

func TestJWTVerifierStaticKeysOnly(t *testing.T) {
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	own := newTestKey(t, jwa.RS256(), "roster-1")
	set := jwk.NewSet()
	if err := set.AddKey(own.priv); err != nil {
		t.Fatal(err)
	}
	v, err := NewJWTVerifier(t.Context(), JWTConfig{Issuer: testIssuer, Audience: testAudience, Keys: set, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	wantPrincipal(t, v, sign(t, own, validClaims(clock.Now())))
	stranger := newTestKey(t, jwa.RS256(), "rsa-9")
	wantError(t, v, sign(t, stranger, validClaims(clock.Now())), roster.EUNAUTHORIZED, "unknown signing key")
}

func TestJWTVerifierIgnoresUnparseableJWKSKeys(t *testing.T) {
	f := newFixture(t)
	f.idp.extra = []string{`{"kty":"AKP","alg":"ML-DSA-44","kid":"pq-1","pub":"AAAA"}`}
	v := f.verifier(t, f.config())
	now := f.clock.Now()

	wantPrincipal(t, v, sign(t, f.ec, validClaims(now)))
	pq := newTestKey(t, jwa.EdDSA(), "pq-1")
	wantError(t, v, sign(t, pq, validClaims(now)), roster.EUNAUTHORIZED, "signing key does not match token algorithm")
}

func TestJWTVerifierClose(t *testing.T) {
	f := newFixture(t)
	v, err := NewJWTVerifier(t.Context(), f.config())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	now := f.clock.Now()
	wantPrincipal(t, v, sign(t, f.rsa, validClaims(now)))
	start := time.Now()
	wantError(t, v, sign(t, newTestKey(t, jwa.ES256(), "late"), validClaims(now)), roster.EUNAUTHORIZED, "unknown signing key")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Verify after Close took %s", d)
	}
}

func TestJWTVerifierConcurrent(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, f.config())
	now := f.clock.Now()
	rotated := newTestKey(t, jwa.EdDSA(), "ed-2")
	f.idp.publish(f.rsa.pub, f.ec.pub, f.ed.pub, rotated.pub)
	tokens := []string{
		sign(t, f.rsa, validClaims(now)),
		sign(t, f.ec, validClaims(now)),
		sign(t, rotated, validClaims(now)),
	}

	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), tokens[i%len(tokens)]); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestNewJWTVerifierConfig(t *testing.T) {
	oct := jwk.NewSet()
	if err := oct.AddKey(mustJWK(t, []byte("0123456789abcdef0123456789abcdef"), "hmac-1")); err != nil {
		t.Fatal(err)
	}
	noKid := jwk.NewSet()
	ed := newTestKey(t, jwa.EdDSA(), "")
	if err := noKid.AddKey(ed.pub); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cfg  JWTConfig
		want string
	}{
		{"no issuer", JWTConfig{Audience: testAudience, JWKSURL: "https://idp.example.com/jwks"}, "issuer is required"},
		{"no audience", JWTConfig{Issuer: testIssuer, JWKSURL: "https://idp.example.com/jwks"}, "audience is required"},
		{"no keys", JWTConfig{Issuer: testIssuer, Audience: testAudience}, "no JWT keys"},
		{"empty key set", JWTConfig{Issuer: testIssuer, Audience: testAudience, Keys: jwk.NewSet()}, "no JWT keys"},
		{"negative leeway", JWTConfig{Issuer: testIssuer, Audience: testAudience, Keys: noKid, Leeway: -time.Second}, "negative"},
		{"not an http URL", JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSURL: "file:///etc/jwks.json"}, "not an http(s) URL"},
		{"symmetric static key", JWTConfig{Issuer: testIssuer, Audience: testAudience, Keys: oct}, "symmetric"},
		{"static key without kid", JWTConfig{Issuer: testIssuer, Audience: testAudience, Keys: noKid}, "has no kid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewJWTVerifier(t.Context(), tt.cfg)
			if err == nil {
				_ = v.Close()
				t.Fatal("NewJWTVerifier accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}
