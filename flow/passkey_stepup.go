package flow

import (
	"context"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rosterhq/roster"
)

// BeginStepUp starts a passkey ceremony that raises p's session (RFC 9470
// step-up): request options listing the user's passkeys. EFORBIDDEN as
// StepUp; ECONFLICT when the user has no passkey or the tenant's policy
// does not allow passkeys.
func (pk *Passkeys) BeginStepUp(ctx context.Context, p *roster.Principal) (json.RawMessage, error) {
	if err := pk.signIn.ownUser(p); err != nil {
		return nil, err
	}
	if _, err := pk.stepUpAllowed(ctx, p.TenantID); err != nil {
		return nil, err
	}
	user, err := pk.webauthnUserOf(ctx, p.TenantID, p.UserID)
	if err != nil {
		return nil, err
	}
	if len(user.passkeys) == 0 {
		return nil, roster.Errorf(roster.ECONFLICT, "you have no passkey")
	}
	assertion, sd, err := pk.wa.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	ws := &roster.WebAuthnSession{TenantID: p.TenantID, Kind: roster.WebAuthnStepUp, UserID: p.UserID}
	return pk.storeCeremony(ctx, ws, sd, assertion)
}

// FinishStepUp checks a passkey assertion answering BeginStepUp and, as
// StepUp does, answers a new access token of p's session whose auth_time
// is now and whose amr adds hwk, user and mfa (mfa only when the
// authenticator verified the user or the session began with a password). EFORBIDDEN as StepUp;
// EINVALID naming "credential" for a malformed or refused assertion (a
// refused one counts towards the lockout) or one that answers no
// step-up in progress; ECONFLICT when the tenant's policy no longer allows
// passkeys; ETOOMANY when over the rate or while the account is locked.
func (pk *Passkeys) FinishStepUp(ctx context.Context, p *roster.Principal, credential []byte) (*roster.Tokens, error) {
	s := pk.signIn
	if err := pk.signIn.ownUser(p); err != nil {
		return nil, err
	}
	policy, err := pk.stepUpAllowed(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(credential)
	if err != nil {
		return nil, err
	}
	if err := s.stepUpLimit(ctx, p); err != nil {
		return nil, err
	}
	errGone := errCredential("answers no passkey step-up in progress: begin one again")
	sd, err := pk.takeCeremony(ctx, p.TenantID, roster.WebAuthnStepUp, p.UserID, parsed.Response.CollectedClientData.Challenge, errGone)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var (
		login  roster.Login
		use    *roster.PasskeyUse
		passed bool
	)
	err = pk.store.AttemptPasskey(ctx, p.TenantID, p.UserID, parsed.RawID, map[string]any{"step_up": true},
		func(a *roster.PasskeyAttempt) (roster.PasskeyVerdict, error) {
			login = *a.Login
			if a.Login.Locked(now) {
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
	case login.Locked(now):
		return nil, login.CheckUnlocked(now)
	}
	if !passed {
		if err := s.stepUpFailed(ctx, p, login.User, policy); err != nil {
			return nil, err
		}
		return nil, refused
	}
	return s.access(ctx, login.User, policy, passkeyAMR(p.AMR, use.UserVerified), now, p.SessionID)
}

// stepUpAllowed returns the tenant's policy, or ECONFLICT when it does not
// allow passkeys.
func (pk *Passkeys) stepUpAllowed(ctx context.Context, tenantID string) (*roster.SecurityPolicy, error) {
	policy, err := pk.signIn.tenants.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if !policy.AllowsMethod(roster.MFAPasskey) {
		return nil, errPasskeyStepUpNotAllowed()
	}
	return policy, nil
}
