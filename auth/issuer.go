package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
)

// Issuer signs Roster's own access tokens with the Keyring's current key.
type Issuer struct {
	keys *Keyring
	url  string // iss and aud: ROSTER_PUBLIC_URL
	ttl  time.Duration
	now  func() time.Time
}

// DefaultAccessTokenTTL is how long an access token lives; a refresh token
// gets the next one.
const DefaultAccessTokenTTL = 15 * time.Minute

// NewIssuer returns an Issuer for the service at publicURL.
func NewIssuer(keys *Keyring, publicURL string, ttl time.Duration) *Issuer {
	if ttl <= 0 {
		ttl = DefaultAccessTokenTTL
	}
	return &Issuer{keys: keys, url: publicURL, ttl: ttl, now: time.Now}
}

// URL is the issuer identifier.
func (i *Issuer) URL() string { return i.url }

// AccessToken is a signed JWT for u: iss, aud, sub, tid, roles, amr
// (RFC 8176), auth_time, iat, exp and a jti. It returns the token and its
// lifetime in seconds.
func (i *Issuer) AccessToken(ctx context.Context, u *roster.User, amr []string, authTime time.Time) (string, int, error) {
	key, err := i.keys.Signer(ctx)
	if err != nil {
		return "", 0, err
	}
	now := i.now()
	tok, err := jwt.NewBuilder().
		Issuer(i.url).
		Audience([]string{i.url}).
		Subject(u.ID).
		IssuedAt(now).
		Expiration(now.Add(i.ttl)).
		JwtID(newKeyID()).
		Claim("tid", u.TenantID).
		Claim("roles", []string{u.Role}).
		Claim("amr", amr).
		Claim("auth_time", authTime.Unix()).
		Build()
	if err != nil {
		return "", 0, fmt.Errorf("build access token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key))
	if err != nil {
		return "", 0, fmt.Errorf("sign access token: %w", err)
	}
	return string(signed), int(i.ttl.Seconds()), nil
}

// Verifier returns a JWTVerifier for the tokens this Issuer signs.
func (i *Issuer) Verifier(ctx context.Context) (*JWTVerifier, error) {
	return NewJWTVerifier(ctx, JWTConfig{Issuer: i.url, Audience: i.url, Lookup: i.keys.Lookup})
}
