package flow

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rosterhq/roster"
)

// RequireStepUp returns nil when p may do an action of rule. The sign-in
// of a user's JWT, Roster's own or the identity provider's, is judged by
// its amr and auth_time claims. EFORBIDDEN for an API token the rule does
// not let through; ESTEPUP when the sign-in is too old or too weak, its
// message saying what would do.
func (s *SignIn) RequireStepUp(ctx context.Context, p *roster.Principal, rule roster.StepUpRule) error {
	if p.Kind == roster.PrincipalAPIToken {
		if rule.APITokens {
			return nil
		}
		return roster.Errorf(roster.EFORBIDDEN, "an API token cannot do this: it needs the user's own recent sign-in")
	}
	recent := !p.AuthTime.IsZero() && s.Now().Sub(p.AuthTime) <= s.StepUpMaxAge
	if recent && slices.Contains(p.AMR, AMRMFA) {
		return nil
	}
	within := "within the last " + maxAgeText(s.StepUpMaxAge)
	var st *roster.MFAStatus // nil when the token names no Roster user
	if p.UserID != "" && s.mfa != nil {
		var err error
		st, err = s.mfa.store.FindMFAStatus(ctx, p.TenantID, p.UserID)
		if err != nil && roster.ErrorCode(err) != roster.ENOTFOUND {
			return err
		}
	}
	if st != nil {
		policy, err := s.tenants.SecurityPolicy(ctx, p.TenantID)
		if err != nil {
			return err
		}
		st.Methods = usableFactors(policy, st.Methods)
	}
	hasMFA := st != nil && len(st.Methods) > 0
	if st != nil && !hasMFA && rule.PasswordWithoutMFA {
		// A federated sign-in is the first factor of a user who has no
		// password: without it, no SSO user could enrol a second factor.
		if recent && (slices.Contains(p.AMR, AMRPassword) || slices.Contains(p.AMR, AMRFederated)) {
			return nil
		}
		if slices.Contains(p.AMR, AMRFederated) {
			return roster.Errorf(roster.ESTEPUP, "this needs a sign-in %s: sign in again at your identity provider, with force_authn=true at GET /api/v1/auth/sso/start", within)
		}
		return roster.Errorf(roster.ESTEPUP, "this needs a sign-in with your password %s: sign in again", within)
	}
	own := s.issuer != nil && p.Issuer == s.issuer.URL()
	switch {
	case !own:
		return roster.Errorf(roster.ESTEPUP, "this needs a sign-in with a second factor %s: sign in again with one at your identity provider", within)
	case hasMFA && slices.Equal(st.Methods, []string{roster.MFAPasskey}):
		return roster.Errorf(roster.ESTEPUP, "this needs a sign-in with a second factor %s: step up with a passkey at POST /api/v1/auth/step-up/passkey/begin", within)
	case hasMFA:
		return roster.Errorf(roster.ESTEPUP, "this needs a sign-in with a second factor %s: step up at POST /api/v1/auth/step-up", within)
	}
	return roster.Errorf(roster.ESTEPUP, "this needs a sign-in with a second factor %s: enrol one at POST /api/v1/me/mfa/totp, then step up", within)
}

// maxAgeText writes d for people: "10 minutes", "90 seconds".
func maxAgeText(d time.Duration) string {
	if d%time.Minute == 0 {
		if d == time.Minute {
			return "minute"
		}
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return fmt.Sprintf("%d seconds", int(d.Seconds()))
}

// ownUser returns EFORBIDDEN unless p is a user signed in to Roster
// itself: the only kind of session a step-up can raise.
func (s *SignIn) ownUser(p *roster.Principal) error {
	if p.Kind != roster.PrincipalUser || p.Issuer != s.issuer.URL() || p.UserID == "" {
		return roster.Errorf(roster.EFORBIDDEN,
			"only a Roster sign-in steps up here: API tokens cannot, and an identity provider's token steps up at that provider")
	}
	return nil
}

// stepUpLimit returns ETOOMANY when p's user is over the failures of the
// sign-in throttle: a step-up guesses at the same account.
func (s *SignIn) stepUpLimit(ctx context.Context, p *roster.Principal) error {
	err := s.throttle.check(ctx, stepUpKey(p), s.Now())
	if e, ok := err.(*roster.Error); ok && e.Code == roster.ETOOMANY {
		e.Message = "too many step-up attempts: try again later"
	}
	return err
}

// stepUpFailed counts a refused step-up against p's account, for the
// throttle as for the lockout.
func (s *SignIn) stepUpFailed(ctx context.Context, p *roster.Principal, u *roster.User, policy *roster.SecurityPolicy) error {
	if err := recordFailure(ctx, s.logins, u, policy, "", ""); err != nil {
		return err
	}
	return s.throttle.fail(ctx, stepUpKey(p), s.Now())
}

// stepUpKey is the throttle's key of p's step-ups: the account alone (a
// signed-in session's address says nothing an account does not).
func stepUpKey(p *roster.Principal) roster.SignInFailureKey {
	return roster.SignInFailureKey{TenantID: p.TenantID, Account: p.UserID}
}

// StepUp raises the session of p with a second factor of p's user: a TOTP
// code later than the last one used, or an unused recovery code, which it
// spends. It answers a new access token of the same session whose
// auth_time is now and whose amr adds the factor and "mfa"; the session's
// refresh token stays as it was (Tokens.RefreshToken is ""). EFORBIDDEN
// unless p is a Roster user token; EINVALID naming "method" as VerifyMFA
// does, or "code" for a wrong code, which counts towards the lockout;
// ECONFLICT when the user has no such factor; ETOOMANY when over the rate
// or while the account is locked.
func (s *SignIn) StepUp(ctx context.Context, p *roster.Principal, by roster.Actor, method, code string) (*roster.Tokens, error) {
	if err := s.ownUser(p); err != nil {
		return nil, err
	}
	m := s.mfa
	if m == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "step-up is not available")
	}
	factor, err := factorAMR(method)
	if err != nil {
		return nil, err
	}
	if method == roster.MFASMS || method == roster.MFAEmail {
		return nil, roster.Invalid(roster.FieldError{Field: "method", Message: "step-up with " + method + " codes is not available yet: use totp or recovery_code"})
	}
	if err := s.stepUpLimit(ctx, p); err != nil {
		return nil, err
	}
	recoveryHash := m.recoveryCodeHash(method, code)
	now, totpNow := s.Now(), m.Now()
	var (
		login           roster.Login
		passed, missing bool
	)
	err = m.store.AttemptStepUp(ctx, p.TenantID, by, p.UserID, method, recoveryHash,
		func(a *roster.MFAAttempt) (roster.MFAVerdict, error) {
			login = *a.Login
			switch {
			case a.Login.Locked(now):
				return roster.MFAVerdict{}, nil
			case method == roster.MFATOTP && a.TOTP == nil, method == roster.MFARecoveryCode && a.Login.RecoveryCodes == 0:
				missing = true
				return roster.MFAVerdict{}, nil
			}
			v, err := m.check(a, p.TenantID, p.UserID, method, code, recoveryHash, totpNow)
			passed = v.Passed
			return v, err
		})
	switch {
	case err != nil:
		return nil, err
	case login.Locked(now):
		return nil, login.CheckUnlocked(now)
	case missing && method == roster.MFATOTP:
		return nil, roster.Errorf(roster.ECONFLICT, "you have no verified TOTP authenticator")
	case missing:
		return nil, roster.Errorf(roster.ECONFLICT, "you have no unused recovery codes")
	}
	policy, err := s.tenants.SecurityPolicy(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	if !passed {
		if err := s.stepUpFailed(ctx, p, login.User, policy); err != nil {
			return nil, err
		}
		return nil, roster.Invalid(roster.FieldError{Field: "code", Message: "is wrong, or already used"})
	}
	amr := slices.Clone(p.AMR)
	for _, ref := range []string{factor, AMRMFA} {
		if !slices.Contains(amr, ref) {
			amr = append(amr, ref)
		}
	}
	return s.access(ctx, login.User, policy, amr, now, p.SessionID)
}
