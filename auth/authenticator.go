package auth

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
)

// Authenticator turns a bearer credential into the caller's Principal.
type Authenticator struct {
	tokens roster.TokenService
	jwt    *JWTVerifier // an identity provider's; nil when none is configured
	log    *slog.Logger
	// Now is the clock expiries are judged by; tests move it.
	Now func() time.Time

	// Roster's own access tokens, told apart from the identity provider's
	// by their issuer. Their user must still exist and be active, and their
	// role is the user's role now, not when the token was signed.
	own       *JWTVerifier
	ownIssuer string
	// access resolves what roles and grants give, as the tenant defines
	// them: one indexed query per request, no cache, so that a change or a
	// grant's end applies at the next request on every replica.
	access roster.AccessService

	mu    sync.Mutex
	cache map[string]cachedToken // by token hash
	uses  map[string]*tokenUses  // by token id
}

// cachedToken is a verified API token, kept briefly so that a busy script
// costs one token lookup per cacheTTL instead of one per request.
type cachedToken struct {
	token     *roster.APIToken
	checkedAt time.Time
}

// tokenUses are a token's uses this process has not recorded yet.
type tokenUses struct {
	count    int64
	address  string
	recorded time.Time // when they were last written
}

const (
	// cacheTTL bounds how long a revoked token or a deactivated user's
	// token keeps working on a replica that has it cached.
	cacheTTL      = 5 * time.Second
	cacheMax      = 10_000
	touchInterval = time.Minute // a token's uses are written at most this often
)

// NewAuthenticator returns an Authenticator for API tokens in tokens and,
// when jwt is not nil, JWTs it verifies.
func NewAuthenticator(tokens roster.TokenService, jwt *JWTVerifier, log *slog.Logger) *Authenticator {
	return &Authenticator{
		tokens: tokens,
		jwt:    jwt,
		log:    log,
		Now:    time.Now,
		cache:  map[string]cachedToken{},
		uses:   map[string]*tokenUses{},
	}
}

// Authenticate verifies credential, the part of the Authorization header
// after "Bearer ". EUNAUTHORIZED for a missing, malformed, unknown, expired
// or revoked credential; EUNAVAILABLE when it cannot be checked right now.
func (a *Authenticator) Authenticate(ctx context.Context, credential string) (*roster.Principal, error) {
	switch {
	case credential == "":
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "a bearer token is required")
	case IsOpaqueToken(credential, TokenPrefix):
		return a.authenticateAPIToken(ctx, credential)
	case strings.Count(credential, ".") == 2:
		return a.authenticateJWT(ctx, credential)
	}
	return nil, roster.Errorf(roster.EUNAUTHORIZED, "invalid token")
}

// TrustOwnTokens makes the Authenticator accept the access tokens Roster
// signs itself, verified by v, and resolve every credential's roles with
// access.
func (a *Authenticator) TrustOwnTokens(issuer string, v *JWTVerifier, access roster.AccessService) {
	a.ownIssuer, a.own, a.access = issuer, v, access
}

// authenticateJWT verifies a JWT with the verifier of its issuer. Reading
// the issuer before verifying only picks the verifier; nothing is trusted
// until the signature is checked.
func (a *Authenticator) authenticateJWT(ctx context.Context, raw string) (*roster.Principal, error) {
	if a.own != nil {
		if tok, err := jwt.ParseInsecure([]byte(raw)); err == nil {
			if iss, _ := tok.Issuer(); iss == a.ownIssuer {
				return a.authenticateOwn(ctx, raw)
			}
		}
	}
	if a.jwt == nil {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "invalid token")
	}
	p, err := a.jwt.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	// An identity provider's roles may name the tenant's custom roles.
	if a.access != nil && slices.ContainsFunc(p.Roles, func(r string) bool { return !roster.IsBuiltInRole(r) }) {
		if p.Granted, err = a.access.RolePermissions(ctx, p.TenantID, p.Roles); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (a *Authenticator) authenticateOwn(ctx context.Context, raw string) (*roster.Principal, error) {
	p, err := a.own.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	u, err := a.access.UserAccess(ctx, p.TenantID, p.UserID)
	switch {
	case roster.ErrorCode(err) == roster.ENOTFOUND:
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the token's user no longer exists")
	case err != nil:
		return nil, err
	case !u.Active:
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the token's user is deactivated")
	}
	p.Roles, p.Granted = slices.Concat([]string{u.Role}, u.Grants, u.TeamRoles), u.Permissions
	p.AdminTeams = u.AdminTeams
	return p, nil
}

func (a *Authenticator) authenticateAPIToken(ctx context.Context, secret string) (*roster.Principal, error) {
	hash := HashAPIToken(secret)
	now := a.Now()
	t, err := a.lookup(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	// The lookup matched on a hash already; comparing again in constant
	// time keeps a cached entry from being matched by anything else.
	current := subtle.ConstantTimeCompare(t.Hash, hash) == 1
	previous := len(t.PreviousHash) > 0 && subtle.ConstantTimeCompare(t.PreviousHash, hash) == 1
	switch {
	case !current && !previous:
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "invalid token")
	case !current && (t.PreviousExpiresAt == nil || !now.Before(*t.PreviousExpiresAt)):
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "token rotated: use its new secret")
	case t.RevokedAt != nil:
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "token revoked")
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "token expired")
	case !t.UserActive:
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the token's user is deactivated")
	}
	p := &roster.Principal{
		Kind:     roster.PrincipalAPIToken,
		TenantID: t.TenantID,
		Subject:  t.ID,
		TokenID:  t.ID,
		Roles:    []string{t.Role},
		Scopes:   t.Scopes,
	}
	if t.Kind == roster.TokenPersonal {
		// A personal key holds of its permissions (its scopes) those its
		// owner's role grants now: never more than its owner.
		p.Roles = []string{t.UserRole}
	}
	if t.UserID != nil {
		p.UserID = *t.UserID
	}
	a.recordUse(t, now, roster.ClientFromContext(ctx).Address)
	return p, nil
}

// Forget drops a token from the cache, so that its revocation takes effect
// here at once; other replicas see it within cacheTTL.
func (a *Authenticator) Forget(tokenID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, c := range a.cache {
		if c.token.ID == tokenID {
			delete(a.cache, key)
		}
	}
}

// lookup returns the token with this hash from the cache or the store.
func (a *Authenticator) lookup(ctx context.Context, hash []byte, now time.Time) (*roster.APIToken, error) {
	key := string(hash)
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Sub(c.checkedAt) >= 0 && now.Sub(c.checkedAt) < cacheTTL {
		return c.token, nil
	}
	t, err := a.tokens.FindTokenByHash(ctx, hash)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "invalid token")
	} else if err != nil {
		return nil, err
	}
	c = cachedToken{token: t, checkedAt: now}
	a.mu.Lock()
	if len(a.cache) >= cacheMax {
		clear(a.cache)
	}
	a.cache[key] = c
	a.mu.Unlock()
	return t, nil
}

// recordUse counts a use of t and writes the uses not yet recorded in the
// background, at most once a minute per token and process, so that
// authentication never waits on a write and a busy script costs one
// UPDATE a minute. A process that stops loses its last minute's count.
func (a *Authenticator) recordUse(t *roster.APIToken, now time.Time, address string) {
	a.mu.Lock()
	u, ok := a.uses[t.ID]
	if !ok {
		if len(a.uses) >= cacheMax {
			clear(a.uses)
		}
		u = &tokenUses{}
		if t.LastUsedAt != nil {
			u.recorded = *t.LastUsedAt // another process may have just written
		}
		a.uses[t.ID] = u
	}
	u.count++
	u.address = address
	if now.Sub(u.recorded) < touchInterval && now.Sub(u.recorded) >= 0 {
		a.mu.Unlock()
		return
	}
	use := roster.TokenUse{At: now.UTC(), Count: u.count, Address: u.address}
	u.count, u.recorded = 0, now
	a.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.tokens.TouchToken(ctx, t.TenantID, t.ID, use); err != nil {
			a.log.Warn("record token use", "token_id", t.ID, "err", err)
		}
	}()
}
