package flow

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
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
	tenants  Tenants
	issuer   *auth.Issuer
	mfa      *MFA

	// throttle counts failed sign-ins per account and address in the
	// database, under a per-process ceiling on all attempts. Second
	// factors and passkeys pass only the ceiling here: a second factor is
	// tried only after the password, and the 5-try burn of a challenge and
	// the lockout (both in the database) bound the guessing.
	throttle *throttle

	// SSO finds the connection that routes a user's domain, for the
	// sso_required policy; nil finds none.
	SSO SSODomains

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

// Tenants resolves a tenant named by id or slug and reads its policy; a
// roster.TenantService is one.
type Tenants interface {
	Policies
	FindTenantID(ctx context.Context, tenant string) (string, error)
}

// refreshTokenPrefix marks refresh tokens.
const refreshTokenPrefix = "rrt_"

// NewSignIn returns a SignIn for the tenants and their policies in tenants,
// throttled by rate (zero fields take DefaultSignInRate's) with the
// failures counted in failures. Users with a second factor pass it
// through mfa.
func NewSignIn(users roster.UserService, logins roster.LoginService, sessions roster.SessionService,
	tenants Tenants, issuer *auth.Issuer, mfa *MFA, failures roster.SignInFailureService, rate SignInRate) *SignIn {
	return &SignIn{
		users:        users,
		logins:       logins,
		sessions:     sessions,
		tenants:      tenants,
		issuer:       issuer,
		mfa:          mfa,
		throttle:     newThrottle(rate, failures),
		StepUpMaxAge: roster.DefaultStepUpMaxAge,
		Now:          time.Now,
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
// VerifyMFA. Failures, of a known or an unknown user, count against the
// account and the address (SignInRate). ETOOMANY when the address is over
// its ceiling of attempts or the account or address over its failures,
// EUNAUTHORIZED for any failure.
func (s *SignIn) Login(ctx context.Context, ip, tenant, username, password string) (*roster.Tokens, *roster.MFARequired, error) {
	if err := s.throttle.attempt("login", ip); err != nil {
		return nil, nil, err
	}
	now := s.Now()
	tenantID, err := s.tenants.FindTenantID(ctx, tenant)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		// No tenant, no account to guess at: only the ceiling applies.
		auth.DummyVerify(password)
		return nil, nil, errBadCredentials()
	} else if err != nil {
		return nil, nil, err
	}
	key := roster.SignInFailureKey{TenantID: tenantID, Address: ip}
	l, err := s.logins.FindLogin(ctx, tenantID, username)
	userID := ""
	switch {
	case roster.ErrorCode(err) == roster.ENOTFOUND:
		// An unknown user is throttled and counted as a known one is, so
		// the answers do not tell which users exist.
		key.Account = unknownAccount(username)
	case err != nil:
		return nil, nil, err
	default:
		key.Account, userID = l.User.ID, l.User.ID
	}
	policy, err := s.tenants.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.refuseNetwork(ctx, policy, tenantID, userID, roster.SignInPassword); err != nil {
		return nil, nil, err
	}
	if err := s.throttle.check(ctx, key, now); err != nil {
		if roster.ErrorCode(err) == roster.ETOOMANY {
			return nil, nil, s.refuse(ctx, tenantID, userID, roster.SignInPassword, roster.ReasonRateLimited, err)
		}
		return nil, nil, err
	}
	if l == nil || l.PasswordHash == "" {
		auth.DummyVerify(password)
		reason := roster.ReasonUnknownUser
		if l != nil {
			reason = roster.ReasonNoPassword
		}
		if err := s.refuse(ctx, tenantID, userID, roster.SignInPassword, reason, nil); err != nil {
			return nil, nil, err
		}
		return nil, nil, s.failed(ctx, key, now)
	}
	ok, _, err := auth.VerifyPassword(l.PasswordHash, password)
	if err != nil || !ok {
		if err := recordFailure(ctx, s.logins, l.User, policy, roster.SignInPassword, roster.ReasonWrongPassword); err != nil {
			return nil, nil, err
		}
		return nil, nil, s.failed(ctx, key, now)
	}
	if err := l.CannotSignInYet(); err != nil {
		// Unconfirmed or awaiting approval: inactive, told why once the
		// password is right.
		return nil, nil, s.refuse(ctx, tenantID, userID, roster.SignInPassword, roster.ReasonDeactivated, err)
	}
	if !l.User.Active {
		return nil, nil, s.refuse(ctx, tenantID, userID, roster.SignInPassword, roster.ReasonDeactivated, errBadCredentials())
	}
	if l.Locked(now) {
		return nil, nil, s.refuse(ctx, tenantID, userID, roster.SignInPassword, roster.ReasonLocked, errBadCredentials())
	}
	if err := s.requireSSO(ctx, policy, l.User); err != nil {
		if roster.ErrorCode(err) == roster.EFORBIDDEN {
			return nil, nil, s.refuse(ctx, tenantID, userID, roster.SignInPassword, roster.ReasonSSORequired, err)
		}
		return nil, nil, err
	}
	withUsableFactors(policy, l)
	if len(l.MFAMethods) > 0 {
		if s.mfa == nil {
			// Fail closed: without the second-factor step, a user with a
			// second factor gets no token from a password alone.
			return nil, nil, roster.Errorf(roster.EUNAVAILABLE, "sign-in with a second factor is not available")
		}
		return s.challengeAfter(ctx, l, roster.SignInPassword, []string{AMRPassword}, now)
	}
	amr := []string{AMRPassword}
	if err := s.logins.RecordLogin(ctx, l.User.TenantID, l.User.ID, roster.SignInPassword, amr); err != nil {
		return nil, nil, err
	}
	tokens, err := s.issue(ctx, l.User, policy, amr, now, "")
	return tokens, nil, err
}

// refuse records a failed sign-in attempt by method at the tenant's user
// (none: "") that nothing else records, and answers answer; an attempt
// that could not be recorded fails with that error instead.
func (s *SignIn) refuse(ctx context.Context, tenantID, userID, method, reason string, answer error) error {
	err := s.logins.RecordSignIn(ctx, tenantID, roster.SignInAttempt{UserID: userID, Method: method,
		Result: roster.SignInFailed, Reason: reason})
	if err != nil {
		return err
	}
	return answer
}

// challengeAfter starts the second factor of l's sign-in, whose first
// (method, amr) passed at authTime, and records that it did.
func (s *SignIn) challengeAfter(ctx context.Context, l *roster.Login, method string, amr []string, authTime time.Time) (*roster.Tokens, *roster.MFARequired, error) {
	challenge, err := s.challenge(ctx, l, amr, authTime)
	if err != nil {
		return nil, nil, err
	}
	err = s.logins.RecordSignIn(ctx, l.User.TenantID, roster.SignInAttempt{UserID: l.User.ID, Method: method,
		Result: roster.SignInMFARequired, AMR: amr})
	if err != nil {
		return nil, nil, err
	}
	return nil, challenge, nil
}

// recordFailure counts a failed attempt of u, at a password or a factor,
// towards the lockout of policy, and records a sign-in's (by method, not
// "") in the history.
func recordFailure(ctx context.Context, logins roster.LoginService, u *roster.User, policy *roster.SecurityPolicy, method, reason string) error {
	_, err := logins.RecordLoginFailure(ctx, u.TenantID, u.ID, policy.Lockout.MaxAttempts, policy.LockFor(), method, reason)
	return err
}

// failed counts a failed password against the throttle and answers it.
func (s *SignIn) failed(ctx context.Context, key roster.SignInFailureKey, now time.Time) error {
	if err := s.throttle.fail(ctx, key, now); err != nil {
		return err
	}
	return errBadCredentials()
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
	u, policy, err := s.activeUser(ctx, t.TenantID, t.UserID)
	if err != nil {
		return nil, err
	}
	if why := policy.SessionExpired(s.Now(), t.SessionStartedAt, t.SessionSeenAt); why != "" {
		if _, err := s.sessions.EndSessions(ctx, t.TenantID, t.UserID, sessionPolicyActor, t.FamilyID, ""); err != nil {
			return nil, err
		}
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "%s", why)
	}
	return s.issue(ctx, u, policy, t.AMR, t.AuthTime, t.FamilyID)
}

// sessionPolicyActor is who ends the sessions the tenant's session limits
// end.
var sessionPolicyActor = roster.Actor{Type: roster.ActorSystem, ID: "session-policy"}

// issueFor issues the tokens of a session of the user, who must still be
// active: a federated sign-in's one-time code. EUNAUTHORIZED.
func (s *SignIn) issueFor(ctx context.Context, tenantID, userID string, amr []string, authTime time.Time, family string) (*roster.Tokens, error) {
	u, policy, err := s.activeUser(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, policy, amr, authTime, family)
}

// activeUser returns the user of a session, who must still be active, and
// their tenant's policy. EUNAUTHORIZED.
func (s *SignIn) activeUser(ctx context.Context, tenantID, userID string) (*roster.User, *roster.SecurityPolicy, error) {
	u, err := s.users.FindUserByID(ctx, tenantID, userID)
	if roster.ErrorCode(err) == roster.ENOTFOUND || (err == nil && !u.Active) {
		return nil, nil, roster.Errorf(roster.EUNAUTHORIZED, "the user can no longer sign in")
	} else if err != nil {
		return nil, nil, err
	}
	policy, err := s.tenants.SecurityPolicy(ctx, u.TenantID)
	if err != nil {
		return nil, nil, err
	}
	return u, policy, nil
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
	if max := policy.Session.MaxSessions; family == "" && max != nil {
		by := sessionPolicyActor
		by.RequestID = roster.RequestIDFromContext(ctx)
		if _, err := s.sessions.EndOldestSessions(ctx, u.TenantID, u.ID, by, *max); err != nil {
			return nil, err
		}
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
