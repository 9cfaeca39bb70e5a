package flow

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/notify"
)

var _ roster.MFAFlow = (*MFA)(nil)

// MFA enrols users' second factors and holds what sign-in needs to check
// them. TOTP secrets are sealed with the SecretBox, bound to their tenant and
// user; recovery codes are stored as CodeHasher HMACs, so a copy of the
// database alone gives neither away.
type MFA struct {
	store    roster.MFAService
	passkeys roster.PasskeyService
	users    roster.UserService
	policies Policies
	box      *auth.SecretBox
	codes    *auth.CodeHasher

	// TOTPIssuer is the name authenticator apps show beside the account.
	TOTPIssuer string
	// ChallengeTTL is how long a sign-in may take to pass its second
	// factor; MaxAttempts wrong codes end it sooner.
	ChallengeTTL time.Duration
	MaxAttempts  int
	// Now is the clock TOTP steps and challenge expiry are read from.
	Now func() time.Time

	// Mailer and SMS deliver the one-time codes of the email and sms
	// methods; nil leaves that method unavailable. Sends are bounded by
	// the sender's own timeout and the request's context.
	Mailer notify.Mailer
	SMS    notify.SMSSender
	// CodeTTL is how long a sent code works, CodeResendAfter how soon
	// another may be sent to the same enrolment or challenge, and
	// CodeMaxAttempts how many wrong tries a code survives.
	CodeTTL         time.Duration
	CodeResendAfter time.Duration
	CodeMaxAttempts int
	// Log records failed sends, with the target masked and never a code.
	Log *slog.Logger
}

// MFA defaults.
const (
	DefaultTOTPIssuer     = "Roster"
	DefaultChallengeTTL   = 10 * time.Minute
	DefaultMFAMaxAttempts = 5
	RecoveryCodeCount     = 10
	DefaultCodeTTL        = 10 * time.Minute
	DefaultCodeResend     = time.Minute
	DefaultCodeAttempts   = 5
	codeDigits            = 6
)

// NewMFA returns an MFA with the defaults, enrolling only the methods the
// tenants' policies in policies allow.
func NewMFA(store roster.MFAService, passkeys roster.PasskeyService, users roster.UserService, policies Policies,
	box *auth.SecretBox, codes *auth.CodeHasher) *MFA {
	return &MFA{
		store:        store,
		passkeys:     passkeys,
		users:        users,
		policies:     policies,
		box:          box,
		codes:        codes,
		TOTPIssuer:   DefaultTOTPIssuer,
		ChallengeTTL: DefaultChallengeTTL,
		MaxAttempts:  DefaultMFAMaxAttempts,
		Now:          time.Now,

		CodeTTL:         DefaultCodeTTL,
		CodeResendAfter: DefaultCodeResend,
		CodeMaxAttempts: DefaultCodeAttempts,
		Log:             slog.New(slog.DiscardHandler),
	}
}

// totpAAD binds a sealed TOTP secret to its tenant and user: copied to
// another user's row, it does not open.
func totpAAD(tenantID, userID string) []byte {
	return []byte("totp:" + tenantID + ":" + userID)
}

// EnrolTOTP makes a new TOTP secret for the user and stores it sealed,
// awaiting ConfirmTOTP; a TOTP already verified keeps working until then.
// ENOTFOUND; ECONFLICT when the tenant's policy does not allow TOTP.
func (m *MFA) EnrolTOTP(ctx context.Context, tenantID string, by roster.Actor, userID string) (*roster.TOTPEnrolment, error) {
	if err := m.allowed(ctx, tenantID, roster.MFATOTP); err != nil {
		return nil, err
	}
	u, err := m.users.FindUserByID(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	account := u.Email
	if strings.Contains(account, ":") { // a quoted local part; the URI label cannot hold it
		account = u.ID
	}
	secret, uri, png, err := auth.NewTOTP(m.TOTPIssuer, account)
	if err != nil {
		return nil, err
	}
	sealed, err := m.box.Seal([]byte(secret), totpAAD(tenantID, userID))
	if err != nil {
		return nil, err
	}
	if err := m.store.SetPendingTOTP(ctx, tenantID, by, userID, sealed); err != nil {
		return nil, err
	}
	return &roster.TOTPEnrolment{Secret: secret, URI: uri, QRPNG: png}, nil
}

// ConfirmTOTP checks a code of the pending TOTP secret and, when it is
// right, makes that secret the user's TOTP. Its step counts as used, so the
// same code cannot sign in afterwards. ENOTFOUND; ECONFLICT when no
// enrolment awaits or the tenant's policy no longer allows TOTP; EINVALID
// naming "code" for a wrong code.
func (m *MFA) ConfirmTOTP(ctx context.Context, tenantID string, by roster.Actor, userID, code string) error {
	if err := m.allowed(ctx, tenantID, roster.MFATOTP); err != nil {
		return err
	}
	now := m.Now()
	return m.store.ConfirmTOTP(ctx, tenantID, by, userID, func(method *roster.MFAMethod) (int64, error) {
		secret, err := m.box.Open(method.PendingSecret, totpAAD(tenantID, userID))
		if err != nil {
			return 0, fmt.Errorf("open pending totp secret: %w", err)
		}
		step, ok := auth.VerifyTOTP(string(secret), totpCode(code), now, 0)
		if !ok {
			return 0, roster.Invalid(roster.FieldError{Field: "code", Message: "is not a current code of the authenticator app"})
		}
		return step, nil
	})
}

// allowed returns ECONFLICT unless the tenant's policy lets users enrol
// method.
func (m *MFA) allowed(ctx context.Context, tenantID, method string) error {
	policy, err := m.policies.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return err
	}
	if !policy.AllowsMethod(method) {
		return roster.Errorf(roster.ECONFLICT, "the tenant's security policy does not allow enrolling %s", method)
	}
	return nil
}

// openTOTP opens the sealed secret of the user's TOTP method.
func (m *MFA) openTOTP(sealed []byte, tenantID, userID string) (string, error) {
	secret, err := m.box.Open(sealed, totpAAD(tenantID, userID))
	if err != nil {
		return "", fmt.Errorf("open totp secret: %w", err)
	}
	return string(secret), nil
}

// recoveryCodeHash is the hash of code when it is a recovery code anyone
// could have typed, else nil.
func (m *MFA) recoveryCodeHash(method, code string) []byte {
	if method != roster.MFARecoveryCode || auth.NormalizeCode(code) == "" {
		return nil
	}
	return m.codes.HashCode(code)
}

// check judges one try at a second factor of the user at now: a TOTP code
// of their verified TOTP that is later than the last step used, or an
// unused recovery code of theirs (recoveryHash its hash).
func (m *MFA) check(a *roster.MFAAttempt, tenantID, userID, method, code string, recoveryHash []byte, now time.Time) (roster.MFAVerdict, error) {
	var v roster.MFAVerdict
	switch {
	case method == roster.MFATOTP && a.TOTP != nil:
		secret, err := m.openTOTP(a.TOTP.Secret, tenantID, userID)
		if err != nil {
			return v, err
		}
		v.Step, v.Passed = auth.VerifyTOTP(secret, totpCode(code), now, a.TOTP.LastStep)
	case method == roster.MFARecoveryCode:
		v.Passed = recoveryHash != nil && a.RecoveryCodeUnused
	case (method == roster.MFASMS || method == roster.MFAEmail) && a.Challenge != nil:
		v.Passed = m.codeWorks(a.Challenge.Code, method, now) && m.codes.CheckCode(a.Challenge.Code.Hash, totpCode(code))
	}
	return v, nil
}

// totpCode drops the spaces people type in the middle of a code.
func totpCode(code string) string {
	return strings.Join(strings.Fields(code), "")
}

// NewRecoveryCodes makes RecoveryCodeCount recovery codes for the user,
// replacing any earlier ones, and returns them to be shown once. ENOTFOUND;
// ECONFLICT when the user has no verified method.
func (m *MFA) NewRecoveryCodes(ctx context.Context, tenantID string, by roster.Actor, userID string) ([]string, error) {
	codes, err := auth.NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = m.codes.HashCode(c)
	}
	if err := m.store.ReplaceRecoveryCodes(ctx, tenantID, by, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// SetDefault makes method the one sign-in offers first. EINVALID naming
// "method" for an unknown one; ECONFLICT for one the user has not verified.
func (m *MFA) SetDefault(ctx context.Context, tenantID string, by roster.Actor, userID, method string) error {
	if !roster.IsMFAMethod(method) {
		return roster.Invalid(roster.FieldError{Field: "method", Message: "must be one of " + strings.Join(roster.MFAMethods(), ", ")})
	}
	return m.store.SetMFADefault(ctx, tenantID, by, userID, method)
}

// Remove removes one of the user's methods; for passkey, every passkey of
// theirs. ENOTFOUND when they have no such method.
func (m *MFA) Remove(ctx context.Context, tenantID string, by roster.Actor, userID, method string) error {
	switch {
	case method == roster.MFAPasskey:
		return m.passkeys.DeleteAllPasskeys(ctx, tenantID, by, userID)
	case !roster.IsMFAMethod(method):
		return roster.Errorf(roster.ENOTFOUND, "there is no MFA method %q", method)
	}
	return m.store.RemoveMFAMethod(ctx, tenantID, by, userID, method)
}

// Status returns the user's second factors. ENOTFOUND.
func (m *MFA) Status(ctx context.Context, tenantID, userID string) (*roster.MFAStatus, error) {
	return m.store.FindMFAStatus(ctx, tenantID, userID)
}

// Statuses returns the second factors of each of the users, in one read.
func (m *MFA) Statuses(ctx context.Context, tenantID string, userIDs []string) (map[string]*roster.MFAStatus, error) {
	return m.store.FindMFAStatuses(ctx, tenantID, userIDs)
}

// Reset removes every second factor of the user, passkeys included, for
// an admin helping someone who lost them all. ENOTFOUND.
func (m *MFA) Reset(ctx context.Context, tenantID string, by roster.Actor, userID string) error {
	return m.store.ResetMFA(ctx, tenantID, by, userID)
}
