package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// Authentication method references (RFC 8176) of a passkey assertion: a
// hardware-secured key, a test of user presence, and "mfa" when the
// authenticator verified the user (PIN or biometric) as well.
const (
	AMRHardwareKey  = "hwk"
	AMRUserPresence = "user"
)

// errPasskeyRefused is the one answer to a passkey sign-in that fails,
// whatever the reason: unknown tenant or credential, a wrong signature, a
// counter gone backwards, a locked or deactivated account.
func errPasskeyRefused() error {
	return roster.Errorf(roster.EUNAUTHORIZED, "the passkey was not accepted, or the account cannot sign in")
}

// parseAssertion parses the PublicKeyCredential JSON of an assertion.
// EINVALID naming "credential".
func parseAssertion(credential []byte) (*protocol.ParsedCredentialAssertionData, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, errCredential("is not a PublicKeyCredential from navigator.credentials.get: " + webauthnProblem(err))
	}
	return parsed, nil
}

// verifyAssertion checks parsed against the ceremony sd and the passkey p
// of user, as go-webauthn does (origin, RP id, challenge, signature, user
// handle, flags). It returns the use to record, nil when the assertion is
// not the passkey's (a wrong signature, or a wrong user): a counter that
// did not advance is a use with a clone warning.
func (pk *Passkeys) verifyAssertion(sd webauthn.SessionData, a *roster.PasskeyAttempt, parsed *protocol.ParsedCredentialAssertionData, discoverable bool) *roster.PasskeyUse {
	if a.Passkey == nil {
		return nil
	}
	user := newWebAuthnUser(a.Login.User, a.Passkeys)
	var (
		cred *webauthn.Credential
		err  error
	)
	if discoverable {
		cred, err = pk.wa.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if !bytes.Equal(userHandle, user.WebAuthnID()) {
				return nil, protocol.ErrBadRequest.WithDetails("the user handle is not the passkey's user")
			}
			return user, nil
		}, sd, parsed)
	} else {
		cred, err = pk.wa.ValidateLogin(user, sd, parsed)
	}
	if err != nil {
		return nil
	}
	flags := parsed.Response.AuthenticatorData.Flags
	return &roster.PasskeyUse{
		SignCount:      cred.Authenticator.SignCount,
		CloneWarning:   cred.Authenticator.CloneWarning,
		BackupEligible: flags.HasBackupEligible(),
		BackedUp:       flags.HasBackupState(),
		UserVerified:   flags.HasUserVerified(),
	}
}

// passkeyAMR is the amr a session gets from a passkey assertion, after
// those of amr: mfa when the authenticator verified the user, or when the
// passkey comes second to a password.
func passkeyAMR(amr []string, userVerified bool) []string {
	out := slices.Clone(amr)
	refs := []string{AMRHardwareKey, AMRUserPresence}
	if userVerified || slices.Contains(amr, AMRPassword) {
		refs = append(refs, AMRMFA)
	}
	for _, ref := range refs {
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

// BeginLogin starts a passwordless sign-in to the tenant (id or slug): the
// request options for navigator.credentials.get, discoverable (no
// allowCredentials), user verification preferred. An unknown tenant gets
// options all the same, which no answer can pass, so that the answer does
// not tell which tenants exist. ETOOMANY when the address is over its
// rate.
func (pk *Passkeys) BeginLogin(ctx context.Context, ip, tenant string) (json.RawMessage, error) {
	// Its own ceiling: beginning stores a ceremony, but is no attempt, and
	// must not eat into the address's sign-in attempts.
	if err := pk.signIn.throttle.attempt("passkey-begin", ip); err != nil {
		return nil, err
	}
	assertion, sd, err := pk.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	tenantID, err := pk.signIn.tenants.FindTenantID(ctx, tenant)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return optionsJSON(assertion)
	} else if err != nil {
		return nil, err
	}
	ws := &roster.WebAuthnSession{TenantID: tenantID, Kind: roster.WebAuthnLogin}
	return pk.storeCeremony(ctx, ws, sd, assertion)
}

// FinishLogin checks the answer to a passwordless sign-in begun for the
// tenant and answers as a password sign-in does: tokens whose amr is
// hwk and user, with mfa when the authenticator verified the user. An
// assertion without user verification is one factor: a user with another
// second factor gets an MFA challenge for it. A wrong signature or a
// counter gone backwards (recorded as a clone warning, audited) counts as
// a failed sign-in towards the lockout. EINVALID naming "credential" for
// a malformed answer; EUNAUTHORIZED for any failure; ETOOMANY over the
// rates.
func (pk *Passkeys) FinishLogin(ctx context.Context, ip, tenant string, credential []byte) (*roster.Tokens, *roster.MFARequired, error) {
	s := pk.signIn
	if err := s.throttle.attempt("passkey", ip); err != nil {
		return nil, nil, err
	}
	parsed, err := parseAssertion(credential)
	if err != nil {
		return nil, nil, err
	}
	tenantID, err := pk.signIn.tenants.FindTenantID(ctx, tenant)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, nil, errPasskeyRefused()
	} else if err != nil {
		return nil, nil, err
	}
	sd, err := pk.takeCeremony(ctx, tenantID, roster.WebAuthnLogin, "", parsed.Response.CollectedClientData.Challenge, errPasskeyRefused())
	if err != nil {
		return nil, nil, err
	}
	policy, err := s.tenants.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.refuseNetwork(ctx, policy, tenantID, "", roster.SignInPasskey); err != nil {
		return nil, nil, err
	}
	now := s.Now()
	var (
		login   roster.Login
		use     *roster.PasskeyUse
		passed  bool
		refused string // why a passkey that was not even checked is refused
	)
	err = pk.store.AttemptPasskey(ctx, tenantID, "", parsed.RawID, map[string]any{"passwordless": true},
		func(a *roster.PasskeyAttempt) (roster.PasskeyVerdict, error) {
			login = *a.Login
			switch {
			case !a.Login.User.Active:
				refused = roster.ReasonDeactivated
			case a.Login.Locked(now):
				refused = roster.ReasonLocked
			case !policy.AllowsMethod(roster.MFAPasskey):
				refused = roster.ReasonPasskeyRefused
			}
			if refused != "" {
				return roster.PasskeyVerdict{}, nil
			}
			use = pk.verifyAssertion(sd, a, parsed, true)
			passed = use != nil && !use.CloneWarning
			return roster.PasskeyVerdict{Passed: passed, Use: use}, nil
		})
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		// A passkey of no one's: no user's history to put it in.
		return nil, nil, s.refuse(ctx, tenantID, "", roster.SignInPasskey, roster.ReasonPasskeyRefused, errPasskeyRefused())
	} else if err != nil {
		return nil, nil, err
	}
	u := login.User
	switch {
	case refused != "":
		return nil, nil, s.refuse(ctx, tenantID, u.ID, roster.SignInPasskey, refused, errPasskeyRefused())
	case !passed:
		if err := recordFailure(ctx, s.logins, u, policy, roster.SignInPasskey, roster.ReasonPasskeyRefused); err != nil {
			return nil, nil, err
		}
		return nil, nil, errPasskeyRefused()
	}
	amr := passkeyAMR(nil, use.UserVerified)
	others := slices.DeleteFunc(slices.Clone(login.MFAMethods), func(m string) bool { return m == roster.MFAPasskey })
	if !use.UserVerified && len(others) > 0 && s.mfa != nil {
		login.MFAMethods = others
		return s.challengeAfter(ctx, &login, roster.SignInPasskey, amr, now)
	}
	if err := s.logins.RecordLogin(ctx, u.TenantID, u.ID, roster.SignInPasskey, amr); err != nil {
		return nil, nil, err
	}
	tokens, err := s.issue(ctx, u, policy, amr, now, "")
	return tokens, nil, err
}

// BeginMFA starts a passkey ceremony as the second factor of the sign-in
// with this mfa_token: request options listing the user's passkeys. EINVALID
// naming "method" when the user has none or the tenant's policy does not
// allow passkeys; EUNAUTHORIZED for an unknown, expired or ended challenge.
func (pk *Passkeys) BeginMFA(ctx context.Context, mfaToken string) (json.RawMessage, error) {
	m := pk.mfa
	if !auth.IsOpaqueToken(mfaToken, mfaTokenPrefix) {
		return nil, errChallengeGone()
	}
	now := m.Now()
	var assertion *protocol.CredentialAssertion
	err := pk.store.BeginPasskeyMFA(ctx, auth.HashAPIToken(mfaToken), func(a *roster.MFAAttempt, policy *roster.SecurityPolicy, passkeys []*roster.Passkey) (*roster.WebAuthnSession, error) {
		c, l := a.Challenge, a.Login
		if !a.ChallengeOpen(now, m.MaxAttempts) {
			return nil, errChallengeGone()
		}
		if !policy.AllowsMethod(roster.MFAPasskey) {
			return nil, errPasskeyFactorNotAllowed()
		}
		if len(passkeys) == 0 || slices.Contains(c.AMR, AMRHardwareKey) {
			// A passkey that signed in without verifying the user cannot
			// also be the second factor of that sign-in.
			return nil, roster.Invalid(roster.FieldError{Field: "method", Message: "passkey is not a second factor this sign-in can use"})
		}
		var (
			sd  *webauthn.SessionData
			err error
		)
		assertion, sd, err = pk.wa.BeginLogin(newWebAuthnUser(l.User, passkeys), webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return nil, err
		}
		ws := &roster.WebAuthnSession{}
		return ws, pk.fillCeremony(ws, sd)
	})
	if err != nil {
		return nil, err
	}
	return optionsJSON(assertion)
}

// FinishMFA passes the second factor of a sign-in with a passkey
// assertion answering BeginMFA, and answers as VerifyMFA does: amr adds
// hwk, user and mfa. A refused assertion counts against the challenge and
// towards the lockout. EINVALID naming "credential" for a malformed
// answer, or "method" when the tenant's policy no longer allows passkeys
// (nothing counted); EUNAUTHORIZED for a refused one, no ceremony begun,
// or an unknown, expired or ended challenge.
func (pk *Passkeys) FinishMFA(ctx context.Context, ip, mfaToken string, credential []byte) (*roster.Tokens, error) {
	s, m := pk.signIn, pk.mfa
	if err := s.throttle.attempt("mfa-verify", ip); err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(credential)
	if err != nil {
		return nil, err
	}
	if !auth.IsOpaqueToken(mfaToken, mfaTokenPrefix) {
		return nil, errChallengeGone()
	}
	now := m.Now()
	var (
		attempt       roster.MFAAttempt
		passed, wrong bool
	)
	err = pk.store.AttemptPasskeyMFA(ctx, auth.HashAPIToken(mfaToken), parsed.Response.CollectedClientData.Challenge, parsed.RawID,
		func(a *roster.MFAAttempt, ws *roster.WebAuthnSession, pa *roster.PasskeyAttempt) (roster.PasskeyVerdict, bool, error) {
			attempt = *a
			c := a.Challenge
			if !a.ChallengeOpen(now, m.MaxAttempts) {
				return roster.PasskeyVerdict{}, true, nil
			}
			if !pa.Policy.AllowsMethod(roster.MFAPasskey) {
				// The policy changed since the ceremony began.
				return roster.PasskeyVerdict{}, false, errPasskeyFactorNotAllowed()
			}
			if ws == nil {
				return roster.PasskeyVerdict{}, false, roster.Errorf(roster.EUNAUTHORIZED,
					"no passkey ceremony is in progress for this sign-in: begin one at POST /api/v1/auth/mfa/passkey/begin")
			}
			sd, err := pk.sessionData(ws, errChallengeGone())
			var use *roster.PasskeyUse
			if err == nil {
				use = pk.verifyAssertion(sd, pa, parsed, false)
			}
			passed = use != nil && !use.CloneWarning
			wrong = !passed
			return roster.PasskeyVerdict{Passed: passed, Use: use}, wrong && c.FailedAttempts+1 >= m.MaxAttempts, nil
		})
	if err != nil {
		return nil, err
	}
	return s.concludeMFA(ctx, attempt, passed, wrong, func(amr []string) []string {
		return passkeyAMR(amr, false)
	}, "the passkey was not accepted")
}
