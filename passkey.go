package roster

import (
	"context"
	"encoding/json"
	"time"
)

// Audit actions of passkeys. Their details name the passkey, never key
// material.
const (
	ActionPasskeyRegistered   = "passkey.registered"
	ActionPasskeyRenamed      = "passkey.renamed"
	ActionPasskeyRemoved      = "passkey.removed"
	ActionPasskeyCloneWarning = "passkey.clone_warning"
	ActionPasskeySignIn       = "passkey.sign_in"
)

// WebAuthn ceremony kinds: what a stored ceremony may finish.
const (
	WebAuthnRegistration = "registration"
	WebAuthnLogin        = "login"
	WebAuthnMFA          = "mfa"
	WebAuthnStepUp       = "step_up"
)

// Passkey is a WebAuthn credential of a user. Nothing in it is secret: the
// private key never leaves the authenticator.
type Passkey struct {
	ID              string
	TenantID        string
	UserID          string
	CredentialID    []byte
	PublicKey       []byte // COSE, as the authenticator sent it
	AttestationType string
	AAGUID          string // "" when the authenticator gave none (all zeros)
	SignCount       uint32
	CloneWarning    bool
	BackupEligible  bool
	BackedUp        bool
	UserVerified    bool
	Transports      []string
	Name            string
	CreatedAt       time.Time
	LastUsedAt      *time.Time
	UseCount        int64
}

// WebAuthnSession is a ceremony begun and not yet finished: the challenge
// sent to the browser and what the library needs to check the answer.
type WebAuthnSession struct {
	ID             string
	TenantID       string
	Kind           string
	UserID         string // "" for a discoverable sign-in
	MFAChallengeID string // the sign-in a second-factor ceremony belongs to
	Challenge      string // base64url, as the client data carries it
	Data           json.RawMessage
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// PasskeyUse is the outcome of a verified assertion, to be recorded on the
// passkey: the new counter and flags, or a clone warning.
type PasskeyUse struct {
	SignCount      uint32
	CloneWarning   bool // the counter did not advance: the assertion is refused
	BackedUp       bool
	UserVerified   bool
	BackupEligible bool
}

// PasskeyAttempt is what the check of an assertion sees, rows locked.
type PasskeyAttempt struct {
	Login    *Login
	Passkey  *Passkey
	Passkeys []*Passkey // every passkey of the user, the one used among them
	// Policy is the tenant's security policy, read in the transaction;
	// set for a sign-in's second factor only.
	Policy *SecurityPolicy
}

// PasskeyVerdict is what the check of an assertion decides: Use is
// recorded when the signature was right (Passed, or a clone warning);
// Passed says whether the assertion signs the user in.
type PasskeyVerdict struct {
	Passed bool
	Use    *PasskeyUse
}

// PasskeyService stores passkeys and WebAuthn ceremonies. Every method is
// scoped to a tenant; another tenant's user or passkey is ENOTFOUND. Each
// change is audited in its transaction.
type PasskeyService interface {
	// CreateWebAuthnSession stores s (ID and CreatedAt are set), and drops
	// some expired ceremonies.
	CreateWebAuthnSession(ctx context.Context, s *WebAuthnSession) error

	// TakeWebAuthnSession deletes and returns the tenant's ceremony of kind
	// with this challenge, bound to userID ("" for one bound to no user).
	// ENOTFOUND when there is none. The caller checks its expiry.
	TakeWebAuthnSession(ctx context.Context, tenantID, kind, userID, challenge string) (*WebAuthnSession, error)

	// FindPasskeys returns the user's passkeys, oldest first. ENOTFOUND
	// for an unknown user.
	FindPasskeys(ctx context.Context, tenantID, userID string) ([]*Passkey, error)

	// FindPasskeysOfUsers returns the passkeys of each of the users, keyed
	// by user id, oldest first, in one read; users without any are left
	// out.
	FindPasskeysOfUsers(ctx context.Context, tenantID string, userIDs []string) (map[string][]*Passkey, error)

	// CreatePasskey stores p (ID and CreatedAt are set) and makes passkey
	// one of the user's verified methods. ENOTFOUND; ECONFLICT when the
	// credential is registered already.
	CreatePasskey(ctx context.Context, tenantID string, by Actor, p *Passkey) error

	// RenamePasskey changes a passkey's name and returns it. ENOTFOUND.
	RenamePasskey(ctx context.Context, tenantID string, by Actor, userID, id, name string) (*Passkey, error)

	// DeletePasskey deletes a passkey and returns it. With the user's last
	// passkey, passkey stops being one of their methods, and when no method
	// is left the recovery codes go too. When notice is not nil, the mail it
	// makes for the user (its To is set to their address) is put in the
	// email outbox in the same transaction. ENOTFOUND.
	DeletePasskey(ctx context.Context, tenantID string, by Actor, userID, id string, notice func(p *Passkey) Email) (*Passkey, error)

	// DeleteAllPasskeys deletes every passkey of the user, as DeletePasskey
	// deletes the last. ENOTFOUND when the user has none.
	DeleteAllPasskeys(ctx context.Context, tenantID string, by Actor, userID string) error

	// AttemptPasskey runs check on an assertion by the tenant's credential
	// with this id, the user's row and the passkey's locked; userID, when
	// not "", must own it. The verdict's Use is recorded in the same
	// transaction (a clone warning audited), and a pass audited as
	// passkey.sign_in with details. ENOTFOUND when no such credential
	// exists; check's error as it is, with nothing recorded.
	AttemptPasskey(ctx context.Context, tenantID, userID string, credentialID []byte, details map[string]any, check func(*PasskeyAttempt) (PasskeyVerdict, error)) error

	// BeginPasskeyMFA runs begin on the sign-in with this mfa_token hash,
	// rows locked as for AttemptMFAChallenge, with the tenant's security
	// policy and the user's passkeys, and stores the ceremony it returns.
	// EUNAUTHORIZED for an unknown token; begin's error as it is.
	BeginPasskeyMFA(ctx context.Context, tokenHash []byte, begin func(a *MFAAttempt, policy *SecurityPolicy, passkeys []*Passkey) (*WebAuthnSession, error)) error

	// AttemptPasskeyMFA runs check on an assertion that answers the
	// second factor of the sign-in with this mfa_token hash, rows locked
	// as for AttemptMFAChallenge, with the ceremony begun for it (taken,
	// so it works once; nil when there is none) and p.Policy set. A pass spends the
	// challenge; a failure counts against it, or ends it when burn is
	// set. EUNAUTHORIZED for an unknown token; check's error as it is.
	AttemptPasskeyMFA(ctx context.Context, tokenHash []byte, challenge string, credentialID []byte, check func(a *MFAAttempt, s *WebAuthnSession, p *PasskeyAttempt) (v PasskeyVerdict, burn bool, err error)) error
}
