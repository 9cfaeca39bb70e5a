package testkit

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// IdentityProvider serves a JWKS with one RSA key and signs JWTs with it,
// as an external identity provider would.
type IdentityProvider struct {
	URL      string // of its JWKS
	Issuer   string
	Audience string
	key      jwk.Key
}

// StartIdentityProvider starts one, stopped when the test ends.
func StartIdentityProvider(tb testing.TB, issuer, audience string) *IdentityProvider {
	tb.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		tb.Fatal(err)
	}
	_ = key.Set(jwk.KeyIDKey, "idp-key-1")
	_ = key.Set(jwk.AlgorithmKey, jwa.RS256())
	pub, err := key.PublicKey()
	if err != nil {
		tb.Fatal(err)
	}
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	tb.Cleanup(srv.Close)
	return &IdentityProvider{URL: srv.URL, Issuer: issuer, Audience: audience, key: key}
}

// Sign returns a JWT for subject in tenantID with roles, valid for five
// minutes; mutate, when not nil, edits its claims.
func (p *IdentityProvider) Sign(tb testing.TB, tenantID string, roles []string, mutate func(b *jwt.Builder)) string {
	tb.Helper()
	b := jwt.NewBuilder().Issuer(p.Issuer).Audience([]string{p.Audience}).Subject("idp-user-1").
		IssuedAt(time.Now()).Expiration(time.Now().Add(5*time.Minute)).
		Claim("tid", tenantID).Claim("roles", roles)
	if mutate != nil {
		mutate(b)
	}
	tok, err := b.Build()
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), p.key))
	if err != nil {
		tb.Fatal(err)
	}
	return string(signed)
}
