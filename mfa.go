package roster

import (
	"context"
	"slices"
	"time"
)

// MFA method types: what a user enrols as a second factor.
const (
	MFATOTP    = "totp"
	MFASMS     = "sms"
	MFAEmail   = "email"
	MFAPasskey = "passkey"
)

// MFARecoveryCode is the way past a second-factor challenge for a user who
// has lost their device: a single-use code, not a method one enrols.
const MFARecoveryCode = "recovery_code"

// MFAMethods returns the method types, in the order lists show them.
func MFAMethods() []string {
	return []string{MFATOTP, MFASMS, MFAEmail, MFAPasskey}
}

// IsMFAMethod reports whether m is a method type.
func IsMFAMethod(m string) bool {
	return slices.Contains(MFAMethods(), m)
}

// Audit actions of second factors. Their details name the method, never a
// secret or a code.
const (
	ActionMFAEnrolling            = "mfa.enrolling"
	ActionMFAEnabled              = "mfa.enabled"
	ActionMFARemoved              = "mfa.removed"
	ActionMFAReset                = "mfa.reset"
	ActionMFADefaultChanged       = "mfa.default_changed"
	ActionMFARecoveryCodesCreated = "mfa.recovery_codes_created"
	ActionMFARecoveryCodeUsed     = "mfa.recovery_code_used"
	ActionMFAChallengeStarted     = "mfa.challenge_started"
	ActionMFAChallengeFailed      = "mfa.challenge_failed"
	ActionMFASteppedUp            = "mfa.stepped_up"
)

// MFAMethod is one enrolled or enrolling method of a user.
type MFAMethod struct {
	Type string

	// Secret is the sealed TOTP secret in use, nil until an enrolment is
	// confirmed. PendingSecret is the sealed secret of an enrolment awaiting
	// its first code: a user replacing their authenticator keeps the old one
	// working until the new one has proved itself.
	Secret        []byte
	PendingSecret []byte

	Target string // the phone number or address, for sms and email

	// PendingTarget is the number or address an SMS or email enrolment
	// awaiting its code was sent to, and Code that code; Target, when
	// verified, stays in use meanwhile.
	PendingTarget string
	Code          *MFACode

	Verified   bool
	LastStep   int64 // the last TOTP step used; only later steps are accepted
	CreatedAt  time.Time
	VerifiedAt *time.Time
	LastUsedAt *time.Time
}

// MFAStatus is a user's second factors, secrets left out.
type MFAStatus struct {
	Methods                []string    // the verified method types
	Default                string      // "" when there is none
	Enrolled               []MFAMethod // every method row, verified or not, without secrets
	RecoveryCodesRemaining int
}

// Enabled reports whether the user has a verified second factor.
func (st *MFAStatus) Enabled() bool {
	return len(st.Methods) > 0
}

// PasskeyMethod is the user's passkeys shown as one method among their
// second factors, since passkeys have no method row of their own:
// created with the first, last used with the latest used. ok is false
// when the user has none.
func PasskeyMethod(passkeys []*Passkey) (m MFAMethod, ok bool) {
	if len(passkeys) == 0 {
		return MFAMethod{}, false
	}
	m = MFAMethod{Type: MFAPasskey, Verified: true, CreatedAt: passkeys[0].CreatedAt}
	for _, p := range passkeys {
		if p.LastUsedAt != nil && (m.LastUsedAt == nil || p.LastUsedAt.After(*m.LastUsedAt)) {
			m.LastUsedAt = p.LastUsedAt
		}
	}
	return m, true
}

// MFAChallenge is a sign-in whose password was right and whose second factor
// is due. Only a hash of its token is stored.
type MFAChallenge struct {
	ID             string
	TenantID       string
	UserID         string
	TokenHash      []byte
	AMR            []string // the methods already passed
	AuthTime       time.Time
	CreatedAt      time.Time
	ExpiresAt      time.Time
	FailedAttempts int
	Code           *MFACode // the code last sent by SMS or email, nil when none
}

// MFACode is a one-time code sent by SMS or email. Only its hash is kept.
type MFACode struct {
	Method    string // sms or email
	Hash      []byte // the CodeHasher HMAC of the code
	SentAt    time.Time
	ExpiresAt time.Time
	Attempts  int // wrong tries at this code
}

// MFAAttempt is one try at a second factor as the check of it sees it: read
// in the transaction that records the outcome, rows locked.
type MFAAttempt struct {
	Challenge *MFAChallenge // the sign-in's challenge; nil for a step-up
	Login     *Login        // the user's sign-in state
	TOTP      *MFAMethod    // for a TOTP code: the user's verified TOTP method, nil when none

	// RecoveryCodeUnused is, for a recovery code, whether an unused code of
	// the user has the hash given.
	RecoveryCodeUnused bool
}

// ChallengeOpen reports whether the sign-in's challenge can still be
// passed at now: not expired, fewer than maxAttempts wrong tries, and its
// user active and not locked. An attempt at a challenge that is not open
// ends it.
func (a *MFAAttempt) ChallengeOpen(now time.Time, maxAttempts int) bool {
	c, l := a.Challenge, a.Login
	return c != nil && now.Before(c.ExpiresAt) && c.FailedAttempts < maxAttempts && l.User.Active && !l.Locked(now)
}

// MaskMFATarget is the phone number (for sms) or address (for email) a
// code goes to, as answers, logs and the audit trail show it: enough for
// its owner to recognise, too little to give it away.
func MaskMFATarget(method, target string) string {
	if method == MFASMS {
		return MaskPhone(target)
	}
	return MaskEmail(target)
}

// MFAVerdict is what the check of an attempt decides.
type MFAVerdict struct {
	Passed bool
	Step   int64 // the step a TOTP code matched: the method's next last step
	Burn   bool  // a failure that ends the challenge
}

// MFAService stores second factors and sign-in challenges. Every method is
// scoped to a tenant; another tenant's user is ENOTFOUND. Each change is
// audited in its transaction.
type MFAService interface {
	// FindMFAStatus returns a user's second factors. ENOTFOUND.
	FindMFAStatus(ctx context.Context, tenantID, userID string) (*MFAStatus, error)

	// FindMFAStatuses returns the second factors of each of the users,
	// keyed by user id, in one read; ids of no user of the tenant are left
	// out.
	FindMFAStatuses(ctx context.Context, tenantID string, userIDs []string) (map[string]*MFAStatus, error)

	// SetPendingTOTP stores sealed as the user's TOTP secret awaiting
	// confirmation, replacing any other awaiting it; a verified TOTP stays
	// in use meanwhile. ENOTFOUND.
	SetPendingTOTP(ctx context.Context, tenantID string, by Actor, userID string, sealed []byte) error

	// ConfirmTOTP runs check on the user's TOTP method, its row locked. When
	// check returns a step, the pending secret becomes the one in use with
	// that step as its last, and TOTP joins the user's verified methods (as
	// the default when there was none). ENOTFOUND; ECONFLICT when no TOTP
	// enrolment awaits confirmation; check's error as it is.
	ConfirmTOTP(ctx context.Context, tenantID string, by Actor, userID string, check func(m *MFAMethod) (step int64, err error)) error

	// RemoveMFAMethod removes one method of the user, verified or not. When
	// no verified method is left, the recovery codes go too. ENOTFOUND when
	// the user or the method does not exist.
	RemoveMFAMethod(ctx context.Context, tenantID string, by Actor, userID, method string) error

	// ResetMFA removes every method, recovery code and open challenge of
	// the user. ENOTFOUND.
	ResetMFA(ctx context.Context, tenantID string, by Actor, userID string) error

	// SetMFADefault makes method the one sign-in offers first. ENOTFOUND;
	// ECONFLICT when it is not a verified method of the user.
	SetMFADefault(ctx context.Context, tenantID string, by Actor, userID, method string) error

	// ReplaceRecoveryCodes stores the hashes as the user's recovery codes,
	// replacing any earlier ones. ENOTFOUND; ECONFLICT when the user has no
	// verified method.
	ReplaceRecoveryCodes(ctx context.Context, tenantID string, by Actor, userID string, hashes [][]byte) error

	// SetEnrolmentCode runs issue on the user's method of this type (sms
	// or email), its row locked, nil when there is none; the code issue
	// returns becomes the one awaiting confirmation for target, replacing
	// any earlier one. Nothing is sent here: the caller sends the code
	// after, then calls RecordEnrolmentCodeSent or WithdrawEnrolmentCode.
	// ENOTFOUND; issue's error as it is, with nothing stored.
	SetEnrolmentCode(ctx context.Context, tenantID, userID, method, target string, issue func(m *MFAMethod) (*MFACode, error)) error

	// RecordEnrolmentCodeSent audits, as mfa.enrolling, a code of the
	// user's method sent to target.
	RecordEnrolmentCodeSent(ctx context.Context, tenantID string, by Actor, userID, method, target string) error

	// WithdrawEnrolmentCode drops the code awaiting confirmation for the
	// user's method when its hash is still codeHash (it could not be
	// sent), and the method with it when it was never verified.
	WithdrawEnrolmentCode(ctx context.Context, tenantID, userID, method string, codeHash []byte) error

	// ConfirmCode runs check on the code awaiting confirmation for the
	// user's method of this type (sms or email), its row locked. When check
	// passes, the pending target becomes the method's, verified, and the
	// method joins the user's verified methods (as the default when there
	// was none), audited as mfa.enabled; a failure counts against the code.
	// ENOTFOUND; ECONFLICT when no code awaits; check's error as it is.
	ConfirmCode(ctx context.Context, tenantID string, by Actor, userID, method string, check func(m *MFAMethod) (passed bool, err error)) error

	// SetChallengeCode runs issue on the challenge with this token hash,
	// rows locked as for AttemptMFAChallenge, with the user's verified
	// method of this type (nil when none), and stores the code it returns
	// on the challenge, replacing any earlier one. Nothing is sent here.
	// EUNAUTHORIZED for an unknown token; issue's error as it is, with
	// nothing stored.
	SetChallengeCode(ctx context.Context, tokenHash []byte, method string, issue func(a *MFAAttempt, m *MFAMethod) (*MFACode, error)) error

	// WithdrawChallengeCode drops the code of the tenant's challenge with
	// this token hash when its hash is still codeHash: it could not be
	// sent.
	WithdrawChallengeCode(ctx context.Context, tenantID string, tokenHash, codeHash []byte) error

	// CreateMFAChallenge stores c, whose TokenHash, AMR, AuthTime and
	// ExpiresAt the caller has set, and drops the user's expired ones.
	CreateMFAChallenge(ctx context.Context, c *MFAChallenge) error

	// AttemptMFAChallenge runs check on one try at the second factor of the
	// challenge with this token hash, method being totp, sms, email (the
	// code sent on the challenge) or recovery_code
	// (recoveryCodeHash the hash of the code typed), and records the verdict
	// in the same transaction: a pass spends the challenge, the recovery
	// code and the TOTP step; a failure counts against the challenge, or
	// ends it when the verdict burns it. EUNAUTHORIZED for an unknown
	// token; check's error as it is, with nothing recorded.
	AttemptMFAChallenge(ctx context.Context, tokenHash []byte, method string, recoveryCodeHash []byte, check func(*MFAAttempt) (MFAVerdict, error)) error

	// AttemptStepUp runs check on one try at a second factor of a signed-in
	// user raising their session (a step-up), method and recoveryCodeHash
	// as for AttemptMFAChallenge, and records a pass in the same
	// transaction: the TOTP step or the recovery code is spent, audited as
	// mfa.stepped_up. A failure records nothing. ENOTFOUND; check's error as
	// it is.
	AttemptStepUp(ctx context.Context, tenantID string, by Actor, userID, method string, recoveryCodeHash []byte, check func(*MFAAttempt) (MFAVerdict, error)) error
}
