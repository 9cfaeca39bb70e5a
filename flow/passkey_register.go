package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// BeginRegistration starts registering a passkey for the user: the
// creation options for navigator.credentials.create, a discoverable
// credential and user verification preferred, the user's passkeys
// excluded. ENOTFOUND; ECONFLICT when the tenant's policy does not allow
// passkeys.
func (pk *Passkeys) BeginRegistration(ctx context.Context, tenantID, userID string) (json.RawMessage, error) {
	if err := pk.mfa.allowed(ctx, tenantID, roster.MFAPasskey); err != nil {
		return nil, err
	}
	user, err := pk.webauthnUserOf(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	creation, sd, err := pk.wa.BeginRegistration(user,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithExclusions(descriptors(user.passkeys)))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	ws := &roster.WebAuthnSession{TenantID: tenantID, Kind: roster.WebAuthnRegistration, UserID: userID}
	return pk.storeCeremony(ctx, ws, sd, creation)
}

// errCredential is an EINVALID naming "credential".
func errCredential(msg string) error {
	return roster.Invalid(roster.FieldError{Field: "credential", Message: msg})
}

// webauthnProblem describes why go-webauthn refused a credential, in its
// own words (they name a check, never a secret).
func webauthnProblem(err error) string {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Details != "" {
		return perr.Details
	}
	return "could not be verified"
}

// FinishRegistration checks the authenticator's answer to a registration
// begun for the user and stores the passkey, named name ("" for the
// authenticator's vendor name, or "Passkey"). EINVALID naming "name", or
// "credential" for an answer that is malformed, fails verification or
// answers no registration of the user in progress (they work once, for
// CeremonyTTL); ECONFLICT when the passkey is registered already or the
// tenant's policy does not allow passkeys; ENOTFOUND.
func (pk *Passkeys) FinishRegistration(ctx context.Context, tenantID string, by roster.Actor, userID string, name *string, credential []byte) (*roster.Passkey, error) {
	if name != nil {
		n, err := PasskeyName(*name)
		if err != nil {
			return nil, err
		}
		name = &n
	}
	if err := pk.mfa.allowed(ctx, tenantID, roster.MFAPasskey); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, errCredential("is not a PublicKeyCredential from navigator.credentials.create: " + webauthnProblem(err))
	}
	errGone := errCredential("answers no passkey registration in progress: begin one again")
	sd, err := pk.takeCeremony(ctx, tenantID, roster.WebAuthnRegistration, userID, parsed.Response.CollectedClientData.Challenge, errGone)
	if err != nil {
		return nil, err
	}
	user, err := pk.webauthnUserOf(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	cred, err := pk.wa.CreateCredential(user, sd, parsed)
	if err != nil {
		return nil, errCredential(webauthnProblem(err))
	}
	p := &roster.Passkey{
		UserID:          userID,
		CredentialID:    cred.ID,
		PublicKey:       cred.PublicKey,
		AttestationType: cred.AttestationType,
		SignCount:       cred.Authenticator.SignCount,
		BackupEligible:  cred.Flags.BackupEligible,
		BackedUp:        cred.Flags.BackupState,
		UserVerified:    cred.Flags.UserVerified,
		Transports:      []string{},
	}
	if id, err := uuid.FromBytes(cred.Authenticator.AAGUID); err == nil && id != uuid.Nil {
		p.AAGUID = id.String()
	}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	switch {
	case name != nil:
		p.Name = *name
	case auth.AuthenticatorName(p.AAGUID) != "":
		p.Name = auth.AuthenticatorName(p.AAGUID)
	default:
		p.Name = "Passkey"
	}
	if err := pk.store.CreatePasskey(ctx, tenantID, by, p); err != nil {
		return nil, err
	}
	return p, nil
}
