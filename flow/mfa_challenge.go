package flow

import (
	"context"
	"slices"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
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

// challenge starts the second-factor step of l's sign-in, whose first
// factor (amr) passed at authTime.
func (s *SignIn) challenge(ctx context.Context, l *roster.Login, amr []string, authTime time.Time) (*roster.MFARequired, error) {
	token, err := auth.NewOpaqueToken(mfaTokenPrefix)
	if err != nil {
		return nil, err
	}
	err = s.mfa.store.CreateMFAChallenge(ctx, &roster.MFAChallenge{
		TenantID:  l.User.TenantID,
		UserID:    l.User.ID,
		TokenHash: auth.HashAPIToken(token), // 238 random bits: a fast hash is as safe as a slow one
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
	return &roster.MFARequired{Token: token, Methods: methods, Default: l.MFADefault, ExpiresIn: int(s.mfa.ChallengeTTL.Seconds())}, nil
}

// VerifyMFA passes the second factor of a sign-in with a TOTP code, a code
// sent by SendChallengeCode (method sms or email) or a recovery code, and
// answers as Login does for a user without one. The challenge is spent by
// a right code; MaxAttempts wrong ones end it, and each counts as a failed
// sign-in towards the account's lockout. EINVALID naming "method" for a
// method that cannot be used here; EUNAUTHORIZED for a wrong code, and for
// an unknown, expired or ended challenge.
func (s *SignIn) VerifyMFA(ctx context.Context, ip, mfaToken, method, code string) (*roster.Tokens, error) {
	if err := s.throttle.attempt("mfa-verify", ip); err != nil {
		return nil, err
	}
	m := s.mfa
	if m == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "sign-in with a second factor is not available")
	}
	factor, err := factorAMR(method)
	if err != nil {
		return nil, err
	}
	if !auth.IsOpaqueToken(mfaToken, mfaTokenPrefix) {
		return nil, errChallengeGone()
	}
	recoveryHash := m.recoveryCodeHash(method, code)
	now := m.Now()
	var (
		attempt       roster.MFAAttempt
		passed, wrong bool
	)
	err = m.store.AttemptMFAChallenge(ctx, auth.HashAPIToken(mfaToken), method, recoveryHash,
		func(a *roster.MFAAttempt) (roster.MFAVerdict, error) {
			attempt = *a
			c := a.Challenge
			if !a.ChallengeOpen(now, m.MaxAttempts) {
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
	addAMR func(amr []string) []string, refusal string) (*roster.Tokens, error) {
	if !passed && !wrong {
		return nil, errChallengeGone()
	}
	u := attempt.Login.User
	policy, err := s.tenants.SecurityPolicy(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	if wrong {
		if err := recordFailure(ctx, s.logins, u, policy, roster.SignInMFA, roster.ReasonWrongCode); err != nil {
			return nil, err
		}
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "%s", refusal)
	}
	amr := addAMR(attempt.Challenge.AMR)
	if err := s.logins.RecordLogin(ctx, u.TenantID, u.ID, roster.SignInMFA, amr); err != nil {
		return nil, err
	}
	return s.issue(ctx, u, policy, amr, attempt.Challenge.AuthTime, "")
}

// SendChallengeCode sends a one-time code for the sign-in awaiting its
// second factor, by method (sms or email), to the user's verified target,
// and binds it to the challenge; VerifyMFA then takes it. The code is
// stored first and sent after, with no row locked; a code that could not
// be sent is withdrawn, so the next may be asked for at once. EINVALID
// naming "method" for another method or one the user has not verified;
// EUNAUTHORIZED for an unknown, expired or ended challenge; ETOOMANY
// within CodeResendAfter of the last code; EUNAVAILABLE when no sender is
// configured or the code could not be sent.
func (s *SignIn) SendChallengeCode(ctx context.Context, mfaToken, method string) (*roster.CodeSent, error) {
	m := s.mfa
	if m == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "sign-in with a second factor is not available")
	}
	if method != roster.MFASMS && method != roster.MFAEmail {
		return nil, roster.Invalid(roster.FieldError{Field: "method", Message: "must be sms or email"})
	}
	if !auth.IsOpaqueToken(mfaToken, mfaTokenPrefix) {
		return nil, errChallengeGone()
	}
	tokenHash := auth.HashAPIToken(mfaToken)
	now := m.Now()
	var (
		out      outgoingCode
		tenantID string
	)
	err := m.store.SetChallengeCode(ctx, tokenHash, method, func(a *roster.MFAAttempt, mm *roster.MFAMethod) (*roster.MFACode, error) {
		tenantID = a.Challenge.TenantID
		if !a.ChallengeOpen(now, m.MaxAttempts) {
			return nil, errChallengeGone()
		}
		if mm == nil || !slices.Contains(a.Login.MFAMethods, method) {
			return nil, roster.Invalid(roster.FieldError{Field: "method", Message: method + " is not a verified method of the user"})
		}
		if err := m.canSend(method); err != nil {
			return nil, roster.Errorf(roster.EUNAVAILABLE, "%s", roster.ErrorMessage(err))
		}
		var err error
		out, err = m.newCode(method, mm.Target, a.Challenge.Code)
		return out.stored, err
	})
	if err != nil {
		return nil, err
	}
	if err := m.deliver(ctx, out); err != nil {
		if werr := m.store.WithdrawChallengeCode(ctx, tenantID, tokenHash, out.stored.Hash); werr != nil {
			m.Log.WarnContext(ctx, "could not withdraw an undelivered code", "err", werr)
		}
		return nil, err
	}
	return m.codeSent(out), nil
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

// errChallengeGone answers a second-factor attempt with no challenge to
// pass.
func errChallengeGone() error {
	return roster.Errorf(roster.EUNAUTHORIZED, "the mfa_token is unknown, expired or used up: sign in again")
}
