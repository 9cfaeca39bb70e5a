package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rosterhq/roster"
)

const (
	defaultLeeway = 30 * time.Second

	// forcedRefreshInterval bounds how often a token with an unknown kid may
	// make us fetch the JWKS, so a stream of forged kids cannot hammer the IdP.
	forcedRefreshInterval = 30 * time.Second

	// fetchTimeout bounds a JWKS fetch, both at startup and when a request
	// waits for a forced refresh.
	fetchTimeout = 10 * time.Second

	// The IdP's Cache-Control decides when the JWKS is fetched again, kept
	// within these bounds.
	minJWKSInterval = 5 * time.Minute
	maxJWKSInterval = 24 * time.Hour

	maxJWKSBytes = 1 << 20

	// jwx leaves bounding the input to the caller. Entra tokens carrying
	// many groups run to a few KiB.
	maxTokenBytes = 16 << 10
)

// JWTConfig configures a JWTVerifier. At least one of JWKSURL and Keys must
// provide keys.
type JWTConfig struct {
	JWKSURL  string  // ROSTER_JWKS_URL; may be empty when only static keys are used
	Issuer   string  // ROSTER_JWT_ISSUER, required
	Audience string  // ROSTER_JWT_AUDIENCE, required
	Keys     jwk.Set // optional static keys; only their public halves are used
	// Lookup, when set, finds keys that change at run time (Roster's own,
	// from its Keyring); it returns nil for an unknown kid.
	Lookup     func(ctx context.Context, kid string) (jwk.Key, error)
	HTTPClient *http.Client     // optional, for fetching the JWKS
	Clock      func() time.Time // optional, for tests
	Leeway     time.Duration    // clock skew allowed, default 30s
	Logger     *slog.Logger     // optional; JWKS fetch failures are logged here
}

// JWTVerifier verifies bearer JWTs (RS256, ES256 or EdDSA) against an issuer,
// an audience, and keys from a JWKS URL and/or a static set, and turns them
// into Principals. It is safe for concurrent use.
type JWTVerifier struct {
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
	logger   *slog.Logger

	static jwk.Set // public keys; nil when none
	lookup func(ctx context.Context, kid string) (jwk.Key, error)

	jwksURL string
	cache   *jwk.Cache // nil without a JWKS URL
	remote  *httprc.ResourceBase[jwk.Set]

	refreshMu   sync.Mutex
	lastRefresh time.Time // of the last forced refresh, by the Clock

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// NewJWTVerifier returns a verifier for cfg. With a JWKS URL it fetches the
// key set once, waiting at most a few seconds, and keeps it fresh in the
// background until Close. A JWKS that cannot be fetched now does not fail
// the call: the IdP may be briefly down, and Verify reports EUNAVAILABLE
// until the keys arrive. It returns an error for an incomplete or invalid
// configuration.
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("auth: JWT issuer is required (ROSTER_JWT_ISSUER)")
	}
	if cfg.Audience == "" {
		return nil, errors.New("auth: JWT audience is required (ROSTER_JWT_AUDIENCE)")
	}
	if cfg.JWKSURL == "" && cfg.Lookup == nil && (cfg.Keys == nil || cfg.Keys.Len() == 0) {
		return nil, errors.New("auth: no JWT keys: set a JWKS URL (ROSTER_JWKS_URL) or static keys")
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("auth: JWT leeway %s is negative", cfg.Leeway)
	}

	v := &JWTVerifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   cfg.Leeway,
		now:      cfg.Clock,
		logger:   cfg.Logger,
		jwksURL:  cfg.JWKSURL,
		lookup:   cfg.Lookup,
	}
	if v.leeway == 0 {
		v.leeway = defaultLeeway
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.logger == nil {
		v.logger = slog.New(slog.DiscardHandler)
	}

	if cfg.Keys != nil && cfg.Keys.Len() > 0 {
		// PublicSetOf refuses symmetric keys, so an HMAC secret can never
		// end up verifying tokens.
		pub, err := jwk.PublicSetOf(cfg.Keys)
		if err != nil {
			return nil, fmt.Errorf("auth: static JWT keys: %w", err)
		}
		for i := range pub.Len() {
			k, _ := pub.Key(i)
			if kid, _ := k.KeyID(); kid == "" {
				return nil, fmt.Errorf("auth: static JWT key %d has no kid", i)
			}
		}
		v.static = pub
	}

	if cfg.JWKSURL != "" {
		if err := v.startJWKS(ctx, cfg.HTTPClient); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (v *JWTVerifier) startJWKS(ctx context.Context, client *http.Client) error {
	u, err := url.Parse(v.jwksURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("auth: JWKS URL %q is not an http(s) URL", v.jwksURL)
	}

	hc := http.Client{}
	if client != nil {
		hc = *client
	}
	if hc.Timeout == 0 {
		hc.Timeout = fetchTimeout
	}

	// The first background fetch reports its failure here, so startup need
	// not wait out the whole timeout when the IdP is down.
	firstErr := make(chan error, 1)
	sink := errsink.NewFunc(func(ctx context.Context, err error) {
		v.logger.LogAttrs(ctx, slog.LevelWarn, "auth: JWKS fetch failed",
			slog.String("url", v.jwksURL), slog.String("error", err.Error()))
		select {
		case firstErr <- err:
		default:
		}
	})

	// The cache outlives ctx, which may only cover startup; Close stops it.
	cache, err := jwk.NewCache(context.WithoutCancel(ctx),
		httprc.NewClient(httprc.WithWorkers(1), httprc.WithErrorSink(sink)))
	if err != nil {
		return fmt.Errorf("auth: start JWKS cache: %w", err)
	}
	v.cache = cache

	err = cache.Register(ctx, v.jwksURL,
		jwk.WithHTTPClient(jwk.WrapHTTPClientDefaults(&hc)),
		jwk.WithWaitReady(false),
		jwk.WithMinInterval(minJWKSInterval),
		jwk.WithMaxInterval(maxJWKSInterval),
		jwk.WithMaxFetchBodySize(maxJWKSBytes),
		// One key of a type jwx cannot parse must not take the others down.
		jwk.WithStrictKeySetParsing(false),
	)
	if err == nil {
		v.remote, err = cache.LookupResource(ctx, v.jwksURL)
	}
	if err != nil {
		_ = v.Close()
		return fmt.Errorf("auth: register JWKS URL: %w", err)
	}

	wctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	go func() {
		select {
		case <-firstErr:
			cancel()
		case <-wctx.Done():
		}
	}()
	_ = v.remote.Ready(wctx)
	return nil
}

// Close stops the background JWKS refresh, if any. Verify keeps working
// with the keys it already has.
func (v *JWTVerifier) Close() error {
	if v.cache == nil {
		return nil
	}
	v.closeOnce.Do(func() {
		v.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := v.cache.Shutdown(ctx); err != nil {
			v.closeErr = fmt.Errorf("auth: stop JWKS cache: %w", err)
		}
	})
	return v.closeErr
}

// Verify checks the compact JWS raw and returns the Principal it names.
// It returns an EUNAUTHORIZED error for any token it does not accept, and
// EUNAVAILABLE when the token needs keys from a JWKS that could not be
// fetched yet.
func (v *JWTVerifier) Verify(ctx context.Context, raw string) (*roster.Principal, error) {
	if raw == "" {
		return nil, unauthorized("missing token")
	}
	if len(raw) > maxTokenBytes {
		return nil, unauthorized("token too large")
	}

	msg, err := jws.Parse([]byte(raw), jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, unauthorized("malformed token")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	if hdr == nil {
		return nil, unauthorized("malformed token")
	}
	alg, ok := hdr.Algorithm()
	if !ok || !allowedAlgorithm(alg) {
		return nil, unauthorized("unsupported token algorithm")
	}
	if _, ok := hdr.Critical(); ok {
		return nil, unauthorized("unsupported critical token header")
	}
	kid, _ := hdr.KeyID()
	if kid == "" {
		return nil, unauthorized("token has no key id")
	}

	key, err := v.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if !keyFits(key, alg) {
		return nil, unauthorized("signing key does not match token algorithm")
	}

	tok, err := jwt.Parse([]byte(raw),
		jwt.WithKey(alg, key),
		jwt.WithValidate(true),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAcceptableSkew(v.leeway),
		jwt.WithClock(jwt.ClockFunc(v.now)),
	)
	if err != nil {
		return nil, parseError(err)
	}
	return principalOf(tok)
}

func allowedAlgorithm(alg jwa.SignatureAlgorithm) bool {
	switch alg {
	case jwa.RS256(), jwa.ES256(), jwa.EdDSA():
		return true
	}
	return false
}

// keyFits reports whether key may verify alg: the right type and curve, and
// no "alg" or "use" on the key that says otherwise.
func keyFits(key jwk.Key, alg jwa.SignatureAlgorithm) bool {
	if ka, ok := key.Algorithm(); ok && ka.String() != alg.String() {
		return false
	}
	if use, ok := key.KeyUsage(); ok && use != "sig" {
		return false
	}
	switch alg {
	case jwa.RS256():
		_, ok := key.(jwk.RSAPublicKey)
		return ok
	case jwa.ES256():
		k, ok := key.(jwk.ECDSAPublicKey)
		if !ok {
			return false
		}
		crv, _ := k.Crv()
		return crv == jwa.P256()
	case jwa.EdDSA():
		k, ok := key.(jwk.OKPPublicKey)
		if !ok {
			return false
		}
		crv, _ := k.Crv()
		return crv == jwa.Ed25519()
	}
	return false
}

// key finds the key with kid: first among the static keys, then in the
// JWKS, which it refreshes once when kid is not there, so keys the IdP
// rotated in are picked up.
func (v *JWTVerifier) key(ctx context.Context, kid string) (jwk.Key, error) {
	if v.static != nil {
		if k, ok := v.static.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	if v.lookup != nil {
		k, err := v.lookup(ctx, kid)
		if err != nil {
			return nil, roster.Errorf(roster.EUNAVAILABLE, "signing keys are unavailable")
		}
		if k != nil {
			return k, nil
		}
	}
	if v.remote == nil {
		return nil, unauthorized("unknown signing key")
	}
	if set := v.remote.Resource(); set != nil {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	v.forceRefresh(ctx)
	set := v.remote.Resource()
	if set == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "signing keys are unavailable")
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, unauthorized("unknown signing key")
}

// forceRefresh fetches the JWKS now unless it did so in the last
// forcedRefreshInterval. Callers arriving during a refresh wait for it, then
// find the new keys.
func (v *JWTVerifier) forceRefresh(ctx context.Context) {
	v.refreshMu.Lock()
	defer v.refreshMu.Unlock()
	if v.closed.Load() {
		return
	}
	now := v.now()
	if !v.lastRefresh.IsZero() && now.Sub(v.lastRefresh) < forcedRefreshInterval {
		return
	}
	v.lastRefresh = now

	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	if _, err := v.cache.Refresh(ctx, v.jwksURL); err != nil {
		v.logger.LogAttrs(ctx, slog.LevelWarn, "auth: JWKS refresh failed",
			slog.String("url", v.jwksURL), slog.String("error", err.Error()))
	}
}

// parseError maps a jwt.Parse failure to a caller-safe rejection.
func parseError(err error) *roster.Error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return unauthorized("token expired")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return unauthorized("token not yet valid")
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return unauthorized("token issued in the future")
	case errors.Is(err, jwt.InvalidIssuerError()):
		return unauthorized("wrong token issuer")
	case errors.Is(err, jwt.InvalidAudienceError()):
		return unauthorized("wrong token audience")
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return unauthorized("token has no expiry")
	case errors.Is(err, jws.VerificationError()), errors.Is(err, jws.VerifyError()):
		return unauthorized("invalid token signature")
	}
	return unauthorized("malformed token")
}

func principalOf(tok jwt.Token) (*roster.Principal, error) {
	sub, _ := tok.Subject()
	if sub == "" {
		return nil, unauthorized("token has no subject")
	}
	tid, err := claimTenant(tok)
	if err != nil {
		return nil, err
	}
	p := &roster.Principal{
		Kind:     roster.PrincipalUser,
		TenantID: tid,
		Subject:  sub,
	}
	if id, err := uuid.Parse(sub); err == nil && len(sub) == 36 {
		p.UserID = id.String()
	}
	if p.Roles, err = claimStrings(tok, "roles", false); err != nil {
		return nil, unauthorized("invalid roles claim")
	}
	// Okta and Entra put scopes in "scp"; RFC 8693 names it "scope".
	// Scopes that are not Roster permissions (openid, profile...) are the
	// IdP's business and narrow nothing here.
	for _, name := range []string{"scope", "scp"} {
		scopes, err := claimStrings(tok, name, true)
		if err != nil {
			return nil, unauthorized("invalid " + name + " claim")
		}
		for _, s := range scopes {
			if roster.IsPermission(roster.Permission(s)) {
				p.Scopes = append(p.Scopes, s)
			}
		}
	}
	if p.AMR, err = claimStrings(tok, "amr", false); err != nil {
		return nil, unauthorized("invalid amr claim")
	}
	if p.AuthTime, err = claimTime(tok, "auth_time"); err != nil {
		return nil, unauthorized("invalid auth_time claim")
	}
	p.Issuer, _ = tok.Issuer()
	sid, err := claimStrings(tok, "sid", false)
	if err != nil || len(sid) > 1 {
		return nil, unauthorized("invalid sid claim")
	}
	if len(sid) == 1 {
		p.SessionID = sid[0]
	}
	return p, nil
}

// claimTenant returns the "tid" claim in canonical form. Only the
// hyphenated form is accepted, so one tenant has one spelling.
func claimTenant(tok jwt.Token) (string, error) {
	const name = "tid"
	var v any
	if !tok.Has(name) || tok.Get(name, &v) != nil || v == nil || v == "" {
		return "", unauthorized("token has no tenant")
	}
	s, ok := v.(string)
	if !ok || len(s) != 36 {
		return "", unauthorized("token tenant is not a valid id")
	}
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil {
		return "", unauthorized("token tenant is not a valid id")
	}
	return id.String(), nil
}

// claimStrings reads a claim that is an array of strings or a single
// string; split says whether a single string is a space-separated list
// (RFC 8693 "scope") or one value.
func claimStrings(tok jwt.Token, name string, split bool) ([]string, error) {
	if !tok.Has(name) {
		return nil, nil
	}
	var v any
	if err := tok.Get(name, &v); err != nil {
		return nil, fmt.Errorf("claim %s: %w", name, err)
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if split {
			return strings.Fields(v), nil
		}
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim %s: element of type %T", name, e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("claim %s: type %T", name, v)
}

// claimTime reads a NumericDate claim; the zero time when absent.
func claimTime(tok jwt.Token, name string) (time.Time, error) {
	if !tok.Has(name) {
		return time.Time{}, nil
	}
	var v any
	if err := tok.Get(name, &v); err != nil {
		return time.Time{}, fmt.Errorf("claim %s: %w", name, err)
	}
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int64:
		f = float64(n)
	case interface{ Float64() (float64, error) }: // json.Number, when jwx is set to use numbers
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}, fmt.Errorf("claim %s: %w", name, err)
		}
	default:
		return time.Time{}, fmt.Errorf("claim %s: type %T", name, v)
	}
	// Past year 5000 is nonsense, and would overflow below.
	if math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("claim %s: %v out of range", name, f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

func unauthorized(msg string) *roster.Error {
	return &roster.Error{Code: roster.EUNAUTHORIZED, Message: msg}
}
