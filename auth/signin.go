package auth

import (
	"context"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/ratelimit"
)

// SignIn checks passwords and hands out Roster's own tokens: a short-lived
// access JWT and a rotating refresh token.
type SignIn struct {
	creds  roster.CredentialService
	issuer *Issuer
	mfa    *MFA // nil: users with a second factor cannot sign in

	perIP      *ratelimit.Limiter
	perAccount *ratelimit.Limiter

	// LockAfter failed attempts lock an account for LockFor.
	LockAfter  int
	LockFor    time.Duration
	RefreshTTL time.Duration
	now        func() time.Time
}

// Sign-in defaults.
const (
	DefaultLockAfter  = 10
	DefaultLockFor    = 15 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour

	refreshTokenPrefix = "rrt_"
)

// NewSignIn returns a SignIn with the default lockout, allowing each
// address 30 and each account 10 attempts a minute. Users with a second
// factor pass it through mfa.
func NewSignIn(creds roster.CredentialService, issuer *Issuer, mfa *MFA) *SignIn {
	return &SignIn{
		creds:      creds,
		issuer:     issuer,
		mfa:        mfa,
		perIP:      ratelimit.New(0.5, 30),
		perAccount: ratelimit.New(10.0/60, 10),
		LockAfter:  DefaultLockAfter,
		LockFor:    DefaultLockFor,
		RefreshTTL: DefaultRefreshTTL,
		now:        time.Now,
	}
}

// Tokens is what a successful sign-in or refresh returns.
type Tokens struct {
	AccessToken  string
	ExpiresIn    int
	RefreshToken string
}

// errBadCredentials is the one answer to a failed sign-in, whatever the
// reason: unknown tenant or user, wrong password, no password, locked or
// deactivated account. A caller cannot tell them apart, by the answer or by
// its timing.
func errBadCredentials() error {
	return roster.Errorf(roster.EUNAUTHORIZED, "the tenant, user name or password is wrong, or the account cannot sign in")
}

// Login checks a password. A user without a second factor gets tokens; one
// with a second factor gets an MFA challenge instead, to pass with
// VerifyMFA. ETOOMANY when the address or the account is over its rate,
// EUNAUTHORIZED for any failure.
func (s *SignIn) Login(ctx context.Context, ip, tenant, username, password string) (*Tokens, *MFARequired, error) {
	account := strings.ToLower(tenant) + "/" + strings.ToLower(username)
	for _, limit := range []struct {
		l   *ratelimit.Limiter
		key string
	}{{s.perIP, ip}, {s.perAccount, account}} {
		if ok, wait := limit.l.Allow(limit.key); !ok {
			return nil, nil, &roster.Error{Code: roster.ETOOMANY, Message: "too many sign-in attempts: try again later", RetryAfter: wait}
		}
	}
	l, err := s.creds.FindLogin(ctx, tenant, username)
	if roster.ErrorCode(err) == roster.ENOTFOUND || (err == nil && l.PasswordHash == "") {
		DummyVerify(password)
		return nil, nil, errBadCredentials()
	} else if err != nil {
		return nil, nil, err
	}
	ok, _, err := VerifyPassword(l.PasswordHash, password)
	if err != nil || !ok {
		if _, ferr := s.creds.RecordLoginFailure(ctx, l.User.TenantID, l.User.ID, s.LockAfter, s.LockFor); ferr != nil {
			return nil, nil, ferr
		}
		return nil, nil, errBadCredentials()
	}
	now := s.now()
	if !l.User.Active || l.Locked(now) {
		return nil, nil, errBadCredentials()
	}
	if len(l.MFAMethods) > 0 {
		if s.mfa == nil {
			// Fail closed: without the second-factor step, a user with a
			// second factor gets no token from a password alone.
			return nil, nil, roster.Errorf(roster.EUNAVAILABLE, "sign-in with a second factor is not available")
		}
		challenge, err := s.challenge(ctx, l, now)
		return nil, challenge, err
	}
	if err := s.creds.RecordLogin(ctx, l.User.TenantID, l.User.ID); err != nil {
		return nil, nil, err
	}
	tokens, err := s.issue(ctx, l.User, []string{AMRPassword}, now, "")
	return tokens, nil, err
}

// Refresh spends a refresh token and issues the next access and refresh
// tokens. A refresh token used twice revokes its whole family: one of the
// two users of it is a thief. EUNAUTHORIZED.
func (s *SignIn) Refresh(ctx context.Context, users roster.UserService, refreshToken string) (*Tokens, error) {
	if !strings.HasPrefix(refreshToken, refreshTokenPrefix) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "invalid refresh token")
	}
	t, err := s.creds.UseRefreshToken(ctx, HashAPIToken(refreshToken))
	if err != nil {
		return nil, err
	}
	u, err := users.FindUserByID(ctx, t.TenantID, t.UserID)
	if roster.ErrorCode(err) == roster.ENOTFOUND || (err == nil && !u.Active) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the user can no longer sign in")
	} else if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, t.AMR, t.AuthTime, t.FamilyID)
}

// Logout revokes the session the refresh token belongs to.
func (s *SignIn) Logout(ctx context.Context, refreshToken string) error {
	return s.creds.RevokeRefreshFamily(ctx, HashAPIToken(refreshToken))
}

// issue signs an access token and stores a new refresh token in family
// ("" starts a new one).
func (s *SignIn) issue(ctx context.Context, u *roster.User, amr []string, authTime time.Time, family string) (*Tokens, error) {
	access, expiresIn, err := s.issuer.AccessToken(ctx, u, amr, authTime)
	if err != nil {
		return nil, err
	}
	refresh, err := newOpaqueToken(refreshTokenPrefix)
	if err != nil {
		return nil, err
	}
	err = s.creds.CreateRefreshToken(ctx, &roster.RefreshToken{
		TenantID: u.TenantID, FamilyID: family, UserID: u.ID, Hash: HashAPIToken(refresh),
		AMR: amr, AuthTime: authTime, ExpiresAt: s.now().Add(s.RefreshTTL),
	})
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, ExpiresIn: expiresIn, RefreshToken: refresh}, nil
}
