package auth

import (
	"context"
	"fmt"
	"strings"
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

// NewIssuer returns an Issuer for the service at publicURL whose tokens
// live ttl unless a Grant says otherwise; 0 means the default policy's.
func NewIssuer(keys *Keyring, publicURL string, ttl time.Duration) *Issuer {
	if ttl <= 0 {
		ttl = roster.DefaultSecurityPolicy().AccessTokenTTL()
	}
	return &Issuer{keys: keys, url: publicURL, ttl: ttl, now: time.Now}
}

// URL is the issuer identifier.
func (i *Issuer) URL() string { return i.url }

// Grant is what an access token says of its user's session.
type Grant struct {
	AMR      []string  // RFC 8176 methods the user passed
	AuthTime time.Time // when they passed them
	Session  string    // the refresh token family, as "sid"; "" for none
	Scopes   []string  // narrow the user's role, as "scope"; none for all it grants
	TTL      time.Duration
}

// AccessToken is a signed JWT for u: iss, aud, sub, tid, roles, amr
// (RFC 8176), auth_time, iat, exp, a jti and, when the grant has them, sid
// and scope. It returns the token and its lifetime in seconds.
func (i *Issuer) AccessToken(ctx context.Context, u *roster.User, g Grant) (string, int, error) {
	key, err := i.keys.Signer(ctx)
	if err != nil {
		return "", 0, err
	}
	ttl := g.TTL
	if ttl <= 0 {
		ttl = i.ttl
	}
	now := i.now()
	b := jwt.NewBuilder().
		Issuer(i.url).
		Audience([]string{i.url}).
		Subject(u.ID).
		IssuedAt(now).
		Expiration(now.Add(ttl)).
		JwtID(newKeyID()).
		Claim("tid", u.TenantID).
		Claim("roles", []string{u.Role}).
		Claim("amr", g.AMR).
		Claim("auth_time", g.AuthTime.Unix())
	if g.Session != "" {
		b = b.Claim("sid", g.Session)
	}
	if len(g.Scopes) > 0 {
		b = b.Claim("scope", strings.Join(g.Scopes, " "))
	}
	tok, err := b.Build()
	if err != nil {
		return "", 0, fmt.Errorf("build access token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key))
	if err != nil {
		return "", 0, fmt.Errorf("sign access token: %w", err)
	}
	return string(signed), int(ttl.Seconds()), nil
}

// Verifier returns a JWTVerifier for the tokens this Issuer signs.
func (i *Issuer) Verifier(ctx context.Context) (*JWTVerifier, error) {
	return NewJWTVerifier(ctx, JWTConfig{Issuer: i.url, Audience: i.url, Lookup: i.keys.Lookup})
}
