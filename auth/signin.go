package auth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/ratelimit"
)

// SignIn checks passwords and hands out Roster's own tokens: a short-lived
// access JWT and a rotating refresh token. Lockout thresholds, token
// lifetimes and whether MFA is required come from each tenant's security
// policy.
type SignIn struct {
	creds    roster.CredentialService
	policies Policies
	issuer   *Issuer
	mfa      *MFA // nil: users with a second factor cannot sign in

	perIP      *ratelimit.Limiter
	perAccount *ratelimit.Limiter
	// perAccountMFA counts second-factor codes: more than passwords, since
	// each sign-in may take a few, and the 5-try burn of a challenge and
	// the lockout already bound guessing.
	perAccountMFA *ratelimit.Limiter

	// Passwords holds the rules every tenant's passwords follow; each
	// tenant's policy sets the minimum length and the common-password check.
	Passwords *PasswordPolicy
	// StepUpMaxAge is how recent a sign-in must be for the actions that
	// need a step-up.
	StepUpMaxAge time.Duration
	// Now is the clock sign-in times (auth_time) and their age are read from.
	Now func() time.Time
}

// Policies reads tenants' security policies; a roster.TenantService is one.
type Policies interface {
	SecurityPolicy(ctx context.Context, tenantID string) (*roster.SecurityPolicy, error)
}

// Sign-in defaults.
const (
	DefaultStepUpMaxAge = 10 * time.Minute

	refreshTokenPrefix = "rrt_"
)

// NewSignIn returns a SignIn for the tenants' policies in policies,
// allowing each address 30 and each account 10 attempts a minute. Users
// with a second factor pass it through mfa.
func NewSignIn(creds roster.CredentialService, policies Policies, issuer *Issuer, mfa *MFA) *SignIn {
	return &SignIn{
		creds:         creds,
		policies:      policies,
		issuer:        issuer,
		mfa:           mfa,
		perIP:         ratelimit.New(0.5, 30),
		perAccount:    ratelimit.New(10.0/60, 10),
		perAccountMFA: ratelimit.New(30.0/60, 30),
		Passwords:     NewPasswordPolicy(),
		StepUpMaxAge:  DefaultStepUpMaxAge,
		Now:           time.Now,
	}
}

// Tokens is what a successful sign-in or refresh returns.
type Tokens struct {
	AccessToken  string
	ExpiresIn    int
	RefreshToken string // "" after a step-up, which keeps the session's

	// EnrolmentOnly says the access token can only enrol a second factor
	// (or step up): the tenant requires MFA and the session passed none.
	EnrolmentOnly bool
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
			return nil, nil, tooManyAttempts(wait)
		}
	}
	l, err := s.creds.FindLogin(ctx, tenant, username)
	if roster.ErrorCode(err) == roster.ENOTFOUND || (err == nil && l.PasswordHash == "") {
		DummyVerify(password)
		return nil, nil, errBadCredentials()
	} else if err != nil {
		return nil, nil, err
	}
	policy, err := s.policies.SecurityPolicy(ctx, l.User.TenantID)
	if err != nil {
		return nil, nil, err
	}
	ok, _, err := VerifyPassword(l.PasswordHash, password)
	if err != nil || !ok {
		if err := s.recordFailure(ctx, l.User, policy); err != nil {
			return nil, nil, err
		}
		return nil, nil, errBadCredentials()
	}
	now := s.Now()
	if !l.User.Active || l.Locked(now) {
		return nil, nil, errBadCredentials()
	}
	withUsableFactors(policy, l)
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
	tokens, err := s.issue(ctx, l.User, policy, []string{AMRPassword}, now, "")
	return tokens, nil, err
}

// recordFailure counts a failed sign-in of u towards the lockout of
// policy.
func (s *SignIn) recordFailure(ctx context.Context, u *roster.User, policy *roster.SecurityPolicy) error {
	_, err := s.creds.RecordLoginFailure(ctx, u.TenantID, u.ID, policy.Lockout.MaxAttempts, policy.LockFor())
	return err
}

// tooManyAttempts is the answer to an address or account over its rate.
func tooManyAttempts(wait time.Duration) error {
	return &roster.Error{Code: roster.ETOOMANY, Message: "too many sign-in attempts: try again later", RetryAfter: wait}
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
	policy, err := s.policies.SecurityPolicy(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, policy, t.AMR, t.AuthTime, t.FamilyID)
}

// Logout revokes the session the refresh token belongs to.
func (s *SignIn) Logout(ctx context.Context, refreshToken string) error {
	return s.creds.RevokeRefreshFamily(ctx, HashAPIToken(refreshToken))
}

// issue stores a new refresh token in family ("" starts a new one) and
// signs an access token of that session, with the lifetimes of policy.
func (s *SignIn) issue(ctx context.Context, u *roster.User, policy *roster.SecurityPolicy, amr []string, authTime time.Time, family string) (*Tokens, error) {
	refresh, err := newOpaqueToken(refreshTokenPrefix)
	if err != nil {
		return nil, err
	}
	rt := &roster.RefreshToken{
		TenantID: u.TenantID, FamilyID: family, UserID: u.ID, Hash: HashAPIToken(refresh),
		AMR: amr, AuthTime: authTime, ExpiresAt: s.Now().Add(policy.RefreshTokenTTL()),
	}
	if err := s.creds.CreateRefreshToken(ctx, rt); err != nil {
		return nil, err
	}
	tokens, err := s.access(ctx, u, policy, amr, authTime, rt.FamilyID)
	if err != nil {
		return nil, err
	}
	tokens.RefreshToken = refresh
	return tokens, nil
}

// access signs an access token for a session. Where the tenant requires
// MFA, a session that passed none gets an enrolment-only token: this is
// decided at each issue, so a refresh follows the policy of the moment.
func (s *SignIn) access(ctx context.Context, u *roster.User, policy *roster.SecurityPolicy, amr []string, authTime time.Time, session string) (*Tokens, error) {
	g := Grant{AMR: amr, AuthTime: authTime, Session: session, TTL: policy.AccessTokenTTL()}
	enrolmentOnly := policy.MFARequired && !slices.Contains(amr, AMRMFA)
	if enrolmentOnly {
		g.Scopes = []string{string(roster.PermMFAEnroll)}
	}
	access, expiresIn, err := s.issuer.AccessToken(ctx, u, g)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, ExpiresIn: expiresIn, EnrolmentOnly: enrolmentOnly}, nil
}
