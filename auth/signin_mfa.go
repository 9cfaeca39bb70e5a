package auth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Authentication method references (RFC 8176) of Roster's tokens.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	// AMRRecoveryCode marks a sign-in whose second factor was a recovery
	// code. RFC 8176 registers no value for it and allows others; a relying
	// party can tell such a session (its owner has lost their device) from
	// one with the device at hand.
	AMRRecoveryCode = "recovery_code"
	// AMRSMS marks a code sent by text message (RFC 8176). A code sent by
	// email has no value of its own there and counts as "otp".
	AMRSMS = "sms"
)

// mfaTokenPrefix marks the token of a sign-in awaiting its second factor.
const mfaTokenPrefix = "rmt_"

// MFARequired answers the right password of a user with a second factor:
// no token yet, but a challenge to pass within ExpiresIn seconds.
type MFARequired struct {
	Token     string   // shown once; only its hash is stored
	Methods   []string // what may pass it: the verified methods, and recovery_code while unused codes remain
	Default   string   // the method to offer first, "" when none is set
	ExpiresIn int
}

// challenge starts the second-factor step of l's sign-in, whose password
// was checked at authTime.
func (s *SignIn) challenge(ctx context.Context, l *roster.Login, authTime time.Time) (*MFARequired, error) {
	return s.challengeAfter(ctx, l, []string{AMRPassword}, authTime)
}

// challengeAfter starts the second-factor step of l's sign-in, whose
// first factor (amr) passed at authTime.
func (s *SignIn) challengeAfter(ctx context.Context, l *roster.Login, amr []string, authTime time.Time) (*MFARequired, error) {
	token, err := newOpaqueToken(mfaTokenPrefix)
	if err != nil {
		return nil, err
	}
	err = s.mfa.store.CreateMFAChallenge(ctx, &roster.MFAChallenge{
		TenantID:  l.User.TenantID,
		UserID:    l.User.ID,
		TokenHash: HashAPIToken(token), // 238 random bits: a fast hash is as safe as a slow one
		AMR:       amr,
		AuthTime:  authTime,
		ExpiresAt: s.mfa.Now().Add(s.mfa.ChallengeTTL),
	})
	if err != nil {
		return nil, err
	}
	methods := slices.Clone(l.MFAMethods)
	if l.RecoveryCodes > 0 {
		methods = append(methods, roster.MFARecoveryCode)
	}
	return &MFARequired{Token: token, Methods: methods, Default: l.MFADefault, ExpiresIn: int(s.mfa.ChallengeTTL.Seconds())}, nil
}

// VerifyMFA passes the second factor of a sign-in with a TOTP code, a code
// sent by SendChallengeCode (method sms or email) or a recovery code, and answers as Login does for a user without one. The
// challenge is spent by a right code; MaxAttempts wrong ones end it, and
// each counts as a failed sign-in towards the account's lockout. EINVALID
// naming "method" for a method that cannot be used here; EUNAUTHORIZED for
// a wrong code, and for an unknown, expired or ended challenge.
func (s *SignIn) VerifyMFA(ctx context.Context, ip, mfaToken, method, code string) (*Tokens, error) {
	if ok, wait := s.perIP.Allow("mfa-verify/" + ip); !ok {
		return nil, tooManyAttempts(wait)
	}
	m := s.mfa
	if m == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "sign-in with a second factor is not available")
	}
	factor, err := factorAMR(method)
	if err != nil {
		return nil, err
	}
	if !isMFAToken(mfaToken) {
		return nil, errChallengeGone()
	}
	recoveryHash := m.recoveryCodeHash(method, code)
	now := m.Now()
	var (
		attempt       roster.MFAAttempt
		passed, wrong bool
	)
	err = m.store.AttemptMFAChallenge(ctx, HashAPIToken(mfaToken), method, recoveryHash,
		func(a *roster.MFAAttempt) (roster.MFAVerdict, error) {
			attempt = *a
			c, l := a.Challenge, a.Login
			if ok, wait := s.perAccountMFA.Allow(c.TenantID + "/" + c.UserID); !ok {
				return roster.MFAVerdict{}, tooManyAttempts(wait)
			}
			if !now.Before(c.ExpiresAt) || c.FailedAttempts >= m.MaxAttempts || !l.User.Active || l.Locked(now) {
				return roster.MFAVerdict{Burn: true}, nil
			}
			v, err := m.check(a, c.TenantID, c.UserID, method, code, recoveryHash, now)
			if err != nil {
				return v, err
			}
			passed, wrong = v.Passed, !v.Passed
			v.Burn = wrong && c.FailedAttempts+1 >= m.MaxAttempts
			return v, nil
		})
	if err != nil {
		return nil, err
	}
	return s.concludeMFA(ctx, attempt, passed, wrong, func(amr []string) []string {
		return append(slices.Clone(amr), factor, AMRMFA)
	}, "the code is wrong")
}

// concludeMFA ends a second-factor attempt the store has judged: neither
// passed nor wrong means the challenge is gone; wrong counts toward the
// account's lockout and answers refusal; passed issues the session's
// tokens, with the methods addAMR makes of those already passed.
func (s *SignIn) concludeMFA(ctx context.Context, attempt roster.MFAAttempt, passed, wrong bool,
	addAMR func(amr []string) []string, refusal string) (*Tokens, error) {
	if !passed && !wrong {
		return nil, errChallengeGone()
	}
	u := attempt.Login.User
	policy, err := s.policies.SecurityPolicy(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	if wrong {
		if err := s.recordFailure(ctx, u, policy); err != nil {
			return nil, err
		}
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "%s", refusal)
	}
	if err := s.creds.RecordLogin(ctx, u.TenantID, u.ID); err != nil {
		return nil, err
	}
	return s.issue(ctx, u, policy, addAMR(attempt.Challenge.AMR), attempt.Challenge.AuthTime, "")
}

// factorAMR returns the RFC 8176 method a second factor adds to a session.
// EINVALID naming "method" for one that cannot be used to sign in.
func factorAMR(method string) (string, error) {
	switch method {
	case roster.MFATOTP:
		return AMROTP, nil
	case roster.MFARecoveryCode:
		return AMRRecoveryCode, nil
	case roster.MFASMS:
		return AMRSMS, nil
	case roster.MFAEmail:
		return AMROTP, nil
	}
	return "", roster.Invalid(roster.FieldError{Field: "method", Message: "must be totp, sms, email or recovery_code"})
}

// isMFAToken reports whether token looks like an mfa_token at all.
func isMFAToken(token string) bool {
	return strings.HasPrefix(token, mfaTokenPrefix)
}

// errChallengeGone answers a second-factor attempt with no challenge to
// pass.
func errChallengeGone() error {
	return roster.Errorf(roster.EUNAUTHORIZED, "the mfa_token is unknown, expired or used up: sign in again")
}
