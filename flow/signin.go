package flow

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/internal/ratelimit"
)

var _ roster.SignInFlow = (*SignIn)(nil)

// SignIn checks passwords and second factors and hands out Roster's own
// tokens: a short-lived access JWT and a rotating refresh token. Lockout
// thresholds, token lifetimes and whether MFA is required come from each
// tenant's security policy.
type SignIn struct {
	users    roster.UserService
	logins   roster.LoginService
	sessions roster.SessionService
	policies Policies
	issuer   *auth.Issuer
	mfa      *MFA

	perIP      *ratelimit.Limiter
	perAccount *ratelimit.Limiter
	// perAccountMFA counts second-factor codes: more than passwords, since
	// each sign-in may take a few, and the 5-try burn of a challenge and
	// the lockout already bound guessing.
	perAccountMFA *ratelimit.Limiter

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

// refreshTokenPrefix marks refresh tokens.
const refreshTokenPrefix = "rrt_"

// NewSignIn returns a SignIn for the tenants' policies in policies,
// allowing each address 30 and each account 10 attempts a minute. Users
// with a second factor pass it through mfa.
func NewSignIn(users roster.UserService, logins roster.LoginService, sessions roster.SessionService,
	policies Policies, issuer *auth.Issuer, mfa *MFA) *SignIn {
	return &SignIn{
		users:         users,
		logins:        logins,
		sessions:      sessions,
		policies:      policies,
		issuer:        issuer,
		mfa:           mfa,
		perIP:         ratelimit.New(0.5, 30),
		perAccount:    ratelimit.New(10.0/60, 10),
		perAccountMFA: ratelimit.New(30.0/60, 30),
		StepUpMaxAge:  roster.DefaultStepUpMaxAge,
		Now:           time.Now,
	}
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
func (s *SignIn) Login(ctx context.Context, ip, tenant, username, password string) (*roster.Tokens, *roster.MFARequired, error) {
	account := strings.ToLower(tenant) + "/" + strings.ToLower(username)
	for _, limit := range []struct {
		l   *ratelimit.Limiter
		key string
	}{{s.perIP, ip}, {s.perAccount, account}} {
		if ok, wait := limit.l.Allow(limit.key); !ok {
			return nil, nil, tooManyAttempts(wait)
		}
	}
	l, err := s.logins.FindLogin(ctx, tenant, username)
	if roster.ErrorCode(err) == roster.ENOTFOUND || (err == nil && l.PasswordHash == "") {
		auth.DummyVerify(password)
		return nil, nil, errBadCredentials()
	} else if err != nil {
		return nil, nil, err
	}
	policy, err := s.policies.SecurityPolicy(ctx, l.User.TenantID)
	if err != nil {
		return nil, nil, err
	}
	ok, _, err := auth.VerifyPassword(l.PasswordHash, password)
	if err != nil || !ok {
		if err := recordFailure(ctx, s.logins, l.User, policy); err != nil {
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
		challenge, err := s.challenge(ctx, l, []string{AMRPassword}, now)
		return nil, challenge, err
	}
	if err := s.logins.RecordLogin(ctx, l.User.TenantID, l.User.ID); err != nil {
		return nil, nil, err
	}
	tokens, err := s.issue(ctx, l.User, policy, []string{AMRPassword}, now, "")
	return tokens, nil, err
}

// recordFailure counts a failed attempt of u, at a password or a factor,
// towards the lockout of policy.
func recordFailure(ctx context.Context, logins roster.LoginService, u *roster.User, policy *roster.SecurityPolicy) error {
	_, err := logins.RecordLoginFailure(ctx, u.TenantID, u.ID, policy.Lockout.MaxAttempts, policy.LockFor())
	return err
}

// tooManyAttempts is the answer to an address or account over its rate.
func tooManyAttempts(wait time.Duration) error {
	return &roster.Error{Code: roster.ETOOMANY, Message: "too many sign-in attempts: try again later", RetryAfter: wait}
}

// Refresh spends a refresh token and issues the next access and refresh
// tokens. A refresh token used twice revokes its whole family: one of the
// two users of it is a thief. EUNAUTHORIZED.
func (s *SignIn) Refresh(ctx context.Context, refreshToken string) (*roster.Tokens, error) {
	if !strings.HasPrefix(refreshToken, refreshTokenPrefix) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "invalid refresh token")
	}
	t, err := s.sessions.UseRefreshToken(ctx, auth.HashAPIToken(refreshToken))
	if err != nil {
		return nil, err
	}
	u, err := s.users.FindUserByID(ctx, t.TenantID, t.UserID)
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
	return s.sessions.RevokeRefreshFamily(ctx, auth.HashAPIToken(refreshToken))
}

// issue stores a new refresh token in family ("" starts a new one) and
// signs an access token of that session, with the lifetimes of policy.
func (s *SignIn) issue(ctx context.Context, u *roster.User, policy *roster.SecurityPolicy, amr []string, authTime time.Time, family string) (*roster.Tokens, error) {
	refresh, err := auth.NewOpaqueToken(refreshTokenPrefix)
	if err != nil {
		return nil, err
	}
	rt := &roster.RefreshToken{
		TenantID: u.TenantID, FamilyID: family, UserID: u.ID, Hash: auth.HashAPIToken(refresh),
		AMR: amr, AuthTime: authTime, ExpiresAt: s.Now().Add(policy.RefreshTokenTTL()),
	}
	if err := s.sessions.CreateRefreshToken(ctx, rt); err != nil {
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
func (s *SignIn) access(ctx context.Context, u *roster.User, policy *roster.SecurityPolicy, amr []string, authTime time.Time, session string) (*roster.Tokens, error) {
	g := auth.Grant{AMR: amr, AuthTime: authTime, Session: session, TTL: policy.AccessTokenTTL()}
	enrolmentOnly := policy.MFARequired && !slices.Contains(amr, AMRMFA)
	if enrolmentOnly {
		g.Scopes = []string{string(roster.PermMFAEnroll)}
	}
	access, expiresIn, err := s.issuer.AccessToken(ctx, u, g)
	if err != nil {
		return nil, err
	}
	return &roster.Tokens{AccessToken: access, ExpiresIn: expiresIn, EnrolmentOnly: enrolmentOnly}, nil
}
