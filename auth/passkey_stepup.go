package auth

import (
	"context"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rosterhq/roster"
)

// ownUser returns EFORBIDDEN unless p is a user signed in to Roster
// itself: the only kind of session a step-up can raise.
func (pk *Passkeys) ownUser(p *roster.Principal) error {
	if p.Kind != roster.PrincipalUser || p.Issuer != pk.signIn.issuer.URL() || p.UserID == "" {
		return roster.Errorf(roster.EFORBIDDEN,
			"only a Roster sign-in steps up here: API tokens cannot, and an identity provider's token steps up at that provider")
	}
	return nil
}

// BeginStepUp starts a passkey ceremony that raises p's session (RFC 9470
// step-up): request options listing the user's passkeys. EFORBIDDEN as
// StepUp; ECONFLICT when the user has no passkey.
func (pk *Passkeys) BeginStepUp(ctx context.Context, p *roster.Principal) (*protocol.CredentialAssertion, error) {
	if err := pk.ownUser(p); err != nil {
		return nil, err
	}
	u, err := pk.users.FindUserByID(ctx, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	passkeys, err := pk.store.FindPasskeys(ctx, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	if len(passkeys) == 0 {
		return nil, roster.Errorf(roster.ECONFLICT, "you have no passkey")
	}
	assertion, sd, err := pk.wa.BeginLogin(newWebAuthnUser(u, passkeys), webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	ws := &roster.WebAuthnSession{TenantID: p.TenantID, Kind: roster.WebAuthnStepUp, UserID: p.UserID}
	if err := pk.storeCeremony(ctx, ws, sd); err != nil {
		return nil, err
	}
	return assertion, nil
}

// FinishStepUp checks a passkey assertion answering BeginStepUp and, as
// StepUp does, answers a new access token of p's session whose auth_time
// is now and whose amr adds hwk, user and mfa (mfa only when the
// authenticator verified the user or the session began with a password). EFORBIDDEN as StepUp;
// EINVALID naming "credential" for a malformed or refused assertion (a
// refused one counts towards the lockout) or one that answers no
// step-up in progress; ETOOMANY when over the rate or while the account
// is locked.
func (pk *Passkeys) FinishStepUp(ctx context.Context, p *roster.Principal, credential []byte) (*Tokens, error) {
	s := pk.signIn
	if err := pk.ownUser(p); err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(credential)
	if err != nil {
		return nil, err
	}
	if ok, wait := s.perAccount.Allow("step-up/" + p.TenantID + "/" + p.UserID); !ok {
		return nil, &roster.Error{Code: roster.ETOOMANY, Message: "too many step-up attempts: try again later", RetryAfter: wait}
	}
	errGone := errCredential("answers no passkey step-up in progress: begin one again")
	ws, err := pk.store.TakeWebAuthnSession(ctx, p.TenantID, roster.WebAuthnStepUp, p.UserID, parsed.Response.CollectedClientData.Challenge)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errGone
	} else if err != nil {
		return nil, err
	}
	sd, err := pk.sessionData(ws, errGone)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var (
		login            roster.Login
		use              *roster.PasskeyUse
		passed, isLocked bool
	)
	err = pk.store.AttemptPasskey(ctx, p.TenantID, p.UserID, parsed.RawID, map[string]any{"step_up": true},
		func(a *roster.PasskeyAttempt) (roster.PasskeyVerdict, error) {
			login = *a.Login
			if a.Login.Locked(now) {
				isLocked = true
				return roster.PasskeyVerdict{}, nil
			}
			use = pk.verifyAssertion(sd, a, parsed, false)
			passed = use != nil && !use.CloneWarning
			return roster.PasskeyVerdict{Passed: passed, Use: use}, nil
		})
	refused := errCredential("was not accepted: it is not a passkey of yours, or its signature is wrong")
	switch {
	case roster.ErrorCode(err) == roster.ENOTFOUND:
		return nil, refused
	case err != nil:
		return nil, err
	case isLocked:
		return nil, &roster.Error{Code: roster.ETOOMANY, Message: "the account is locked after too many failed attempts: try again later",
			RetryAfter: login.LockedUntil.Sub(now)}
	}
	policy, err := s.policies.SecurityPolicy(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	if !passed {
		if err := s.recordFailure(ctx, login.User, policy); err != nil {
			return nil, err
		}
		return nil, refused
	}
	return s.access(ctx, login.User, policy, passkeyAMR(p.AMR, use.UserVerified), now, p.SessionID)
}
