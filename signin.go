package roster

import (
	"context"
	"encoding/json"
	"time"
)

// Authenticator turns a bearer credential into the caller's Principal.
type Authenticator interface {
	// Authenticate verifies credential, the part of the Authorization
	// header after "Bearer ". EUNAUTHORIZED for a missing, malformed,
	// unknown, expired or revoked credential; EUNAVAILABLE when it cannot
	// be checked right now.
	Authenticate(ctx context.Context, credential string) (*Principal, error)

	// Forget drops what is cached of an API token, so that its revocation
	// takes effect at once in this process.
	Forget(tokenID string)
}

// DefaultStepUpMaxAge is how recent a sign-in must be for the changes that
// need a step-up, unless ROSTER_STEP_UP_MAX_AGE says otherwise.
const DefaultStepUpMaxAge = 10 * time.Minute

// Tokens is what a successful sign-in, refresh or step-up returns.
type Tokens struct {
	AccessToken  string
	ExpiresIn    int    // seconds
	RefreshToken string // "" after a step-up, which keeps the session's

	// EnrolmentOnly says the access token can only enrol a second factor
	// (or step up): the tenant requires MFA and the session passed none.
	EnrolmentOnly bool
}

// MFARequired answers the first factor of a user with a second: no token
// yet, but a challenge to pass within ExpiresIn seconds.
type MFARequired struct {
	Token     string   // the mfa_token, shown once; only its hash is stored
	Methods   []string // what may pass it: the usable verified methods, and recovery_code while unused codes remain
	Default   string   // the method to offer first, "" when none is set
	ExpiresIn int
}

// CodeSent says where a one-time code went: the target masked, and how
// long the code works.
type CodeSent struct {
	Method    string
	Target    string // masked, as MaskMFATarget shows it
	ExpiresIn int    // seconds
}

// StepUpRule says who may do an action that needs a step-up (RFC 9470)
// besides a user whose sign-in passed a second factor (amr "mfa") within
// the step-up age.
type StepUpRule struct {
	// APITokens lets API tokens through. They are credentials of their
	// own, made by an admin and shown once, with no sign-in that could be
	// recent: a rule that refuses them refuses them for good (EFORBIDDEN).
	APITokens bool

	// PasswordWithoutMFA lets a user who has no verified second factor,
	// and so cannot step up, through with a password sign-in (amr "pwd"),
	// or a federated one (amr "fed"), within the step-up age: otherwise no
	// one could ever enrol a first one.
	PasswordWithoutMFA bool
}

// StepUpSelf is the rule for changes to one's own second factors,
// passkeys and password: a user with no factor to step up with passes
// with a recent password sign-in, or no one could enrol a first; API
// tokens never pass.
func StepUpSelf() StepUpRule {
	return StepUpRule{PasswordWithoutMFA: true}
}

// SignInFlow signs users in with a password and a second factor, keeps
// their sessions, and raises a session with a step-up. Lockout thresholds,
// token lifetimes and whether MFA is required come from each tenant's
// security policy.
type SignInFlow interface {
	// Login checks a password. A user without a usable second factor gets
	// tokens; one with a second factor gets a challenge instead, to pass
	// with VerifyMFA. ETOOMANY when the address or the account is over its
	// rate; EUNAUTHORIZED for any failure, all alike.
	Login(ctx context.Context, ip, tenant, username, password string) (*Tokens, *MFARequired, error)

	// VerifyMFA passes the second factor of a sign-in with a TOTP code, a
	// code sent by SendChallengeCode (sms or email) or a recovery code.
	// A right code spends the challenge; wrong ones count against it and
	// towards the lockout. EINVALID naming "method"; EUNAUTHORIZED for a
	// wrong code and for an unknown, expired or ended challenge.
	VerifyMFA(ctx context.Context, ip, mfaToken, method, code string) (*Tokens, error)

	// SendChallengeCode sends a one-time code by sms or email for the
	// sign-in awaiting its second factor. EINVALID naming "method";
	// EUNAUTHORIZED for a dead challenge; ETOOMANY within a minute of the
	// last code; EUNAVAILABLE when it could not be sent.
	SendChallengeCode(ctx context.Context, mfaToken, method string) (*CodeSent, error)

	// Refresh spends a refresh token and issues the next tokens of its
	// session; a token spent twice revokes its whole session.
	// EUNAUTHORIZED.
	Refresh(ctx context.Context, refreshToken string) (*Tokens, error)

	// Logout ends the session the refresh token belongs to.
	Logout(ctx context.Context, refreshToken string) error

	// RequireStepUp returns nil when p may do an action of rule now.
	// EFORBIDDEN for an API token the rule does not let through; ESTEPUP
	// when the sign-in is too old or too weak, saying what would do.
	RequireStepUp(ctx context.Context, p *Principal, rule StepUpRule) error

	// StepUp raises p's session with a TOTP or recovery code: a new access
	// token of the same session, auth_time now. EFORBIDDEN unless p is a
	// Roster sign-in; EINVALID naming "method" or "code" (a wrong code
	// counts towards the lockout); ECONFLICT when the user has no such
	// factor; ETOOMANY over the rate or while the account is locked.
	StepUp(ctx context.Context, p *Principal, by Actor, method, code string) (*Tokens, error)
}

// PasswordFlow is the one place a password is set: the tenant's password
// policy, then argon2id.
type PasswordFlow interface {
	// SetPassword checks password against the tenant's policy for u (it
	// may not contain u's email or user name) and sets u.SetPasswordHash,
	// for the store to write with u. EINVALID naming "password".
	SetPassword(ctx context.Context, tenantID string, u *User, password string) error

	// ChangePassword replaces the password of p's user with next once
	// current is right, and ends every other session of theirs. A wrong
	// current password counts towards the lockout. The caller has checked
	// the step-up. ENOTFOUND for a credential without a user; EINVALID
	// naming current_password or new_password; ETOOMANY while locked.
	ChangePassword(ctx context.Context, p *Principal, by Actor, current, next string) error
}

// TOTPEnrolment is what a user needs to add Roster to an authenticator app,
// shown once.
type TOTPEnrolment struct {
	Secret string // base32
	URI    string // otpauth://totp/...
	QRPNG  []byte // the URI as a QR code
}

// MFAFlow enrols and manages a user's second factors. Each method is
// scoped to the tenant; another tenant's user is ENOTFOUND.
type MFAFlow interface {
	// Status returns the user's second factors. ENOTFOUND.
	Status(ctx context.Context, tenantID, userID string) (*MFAStatus, error)

	// Statuses returns the second factors of each of the users, keyed by
	// user id, in one read (a page of users, not one read per user); ids
	// of no user of the tenant are left out.
	Statuses(ctx context.Context, tenantID string, userIDs []string) (map[string]*MFAStatus, error)

	// EnrolTOTP makes a new TOTP secret, stored sealed, awaiting
	// ConfirmTOTP. ENOTFOUND; ECONFLICT when the policy does not allow TOTP.
	EnrolTOTP(ctx context.Context, tenantID string, by Actor, userID string) (*TOTPEnrolment, error)

	// ConfirmTOTP makes the pending secret the user's TOTP once code is
	// one of its codes. ENOTFOUND; ECONFLICT; EINVALID naming "code".
	ConfirmTOTP(ctx context.Context, tenantID string, by Actor, userID, code string) error

	// SendEnrolmentCode sends a one-time code to enrol sms (to phone) or
	// email (to the user's own address). ENOTFOUND; EINVALID naming
	// "phone"; ECONFLICT when the policy or the server cannot send it;
	// ETOOMANY within a minute of the last code; EUNAVAILABLE when it
	// could not be sent, with nothing kept.
	SendEnrolmentCode(ctx context.Context, tenantID string, by Actor, userID, method, phone string) (*CodeSent, error)

	// ConfirmCode enables sms or email once code is the one sent.
	// ENOTFOUND; ECONFLICT when no code awaits; EINVALID naming "code".
	ConfirmCode(ctx context.Context, tenantID string, by Actor, userID, method, code string) error

	// NewRecoveryCodes replaces the user's recovery codes and returns the
	// new ones, shown once. ENOTFOUND; ECONFLICT without a verified method.
	NewRecoveryCodes(ctx context.Context, tenantID string, by Actor, userID string) ([]string, error)

	// SetDefault makes method the one sign-in offers first. EINVALID
	// naming "method"; ECONFLICT for one the user has not verified.
	SetDefault(ctx context.Context, tenantID string, by Actor, userID, method string) error

	// Remove removes one of the user's methods (passkeys included).
	// ENOTFOUND when they have no such method.
	Remove(ctx context.Context, tenantID string, by Actor, userID, method string) error

	// Reset removes every second factor of the user, passkeys included.
	// ENOTFOUND.
	Reset(ctx context.Context, tenantID string, by Actor, userID string) error
}

// PasskeyFlow runs WebAuthn ceremonies and keeps users' passkeys. Begin
// methods answer the options for the browser as JSON ({"publicKey":...});
// finish methods take the browser's credential.toJSON().
type PasskeyFlow interface {
	// BeginRegistration starts registering a passkey for the user.
	// ENOTFOUND; ECONFLICT when the policy does not allow passkeys.
	BeginRegistration(ctx context.Context, tenantID, userID string) (json.RawMessage, error)

	// FinishRegistration stores the passkey the credential answers with,
	// named name (nil: the authenticator's vendor, or "Passkey").
	// EINVALID naming "name" or "credential"; ECONFLICT; ENOTFOUND.
	FinishRegistration(ctx context.Context, tenantID string, by Actor, userID string, name *string, credential []byte) (*Passkey, error)

	// BeginLogin starts a passwordless sign-in to the tenant (id or
	// slug). ETOOMANY.
	BeginLogin(ctx context.Context, ip, tenant string) (json.RawMessage, error)

	// FinishLogin answers as SignInFlow.Login does. EINVALID naming
	// "credential"; EUNAUTHORIZED; ETOOMANY.
	FinishLogin(ctx context.Context, ip, tenant string, credential []byte) (*Tokens, *MFARequired, error)

	// BeginMFA starts a passkey ceremony as the second factor of the
	// sign-in with this mfa_token. EINVALID naming "method"; EUNAUTHORIZED.
	BeginMFA(ctx context.Context, mfaToken string) (json.RawMessage, error)

	// FinishMFA answers as SignInFlow.VerifyMFA does.
	FinishMFA(ctx context.Context, ip, mfaToken string, credential []byte) (*Tokens, error)

	// BeginStepUp and FinishStepUp raise p's session with a passkey, as
	// SignInFlow.StepUp does with a code.
	BeginStepUp(ctx context.Context, p *Principal) (json.RawMessage, error)
	FinishStepUp(ctx context.Context, p *Principal, credential []byte) (*Tokens, error)

	// List returns the user's passkeys, oldest first, each with its
	// authenticator's name. ENOTFOUND.
	List(ctx context.Context, tenantID, userID string) ([]*Passkey, error)

	// ListOfUsers returns the passkeys of each of the users, keyed by user
	// id, oldest first, in one read; users without any are left out.
	ListOfUsers(ctx context.Context, tenantID string, userIDs []string) (map[string][]*Passkey, error)

	// Rename renames one of the user's passkeys. EINVALID naming "name";
	// ENOTFOUND.
	Rename(ctx context.Context, tenantID string, by Actor, userID, id, name string) (*Passkey, error)

	// Remove deletes one of the user's passkeys; when someone else does,
	// the user is told by email. ENOTFOUND.
	Remove(ctx context.Context, tenantID string, by Actor, userID, id string) (*Passkey, error)
}

// InvitationAcceptance is what an invitee sends to accept: the token from
// the link, a password, and optionally their names. UserName defaults to
// the invited email.
type InvitationAcceptance struct {
	Token, Password, UserName, GivenName, FamilyName string
}

// InviteRow is one invitation of a bulk request; Row numbers it for the
// answer. A row with a Problem found while reading it fails with it.
type InviteRow struct {
	Row         int
	Email, Role string
	Problem     string
}

// InviteFailure says why one row of a bulk request made no invitation.
type InviteFailure struct {
	Row   int    `json:"row"`
	Email string `json:"email"`
	Error string `json:"error"`
}

// InvitationFlow invites people by email and turns an accepted invitation
// into a user. Each invitation's mail is queued in its own transaction.
type InvitationFlow interface {
	// Invite invites email to p's tenant in role. EINVALID; EFORBIDDEN for
	// a role above the caller's own; ECONFLICT when the address is a
	// user's or has a pending invitation.
	Invite(ctx context.Context, p *Principal, by Actor, email, role string) (*Invitation, error)

	// InviteMany invites each row as Invite does, each atomic on its own;
	// refused rows are reported in failed. Any other error stops the run.
	InviteMany(ctx context.Context, p *Principal, by Actor, rows []InviteRow) (created int, failed []InviteFailure, err error)

	// Resend gives a pending or expired invitation a new link and mail.
	// ENOTFOUND; ECONFLICT.
	Resend(ctx context.Context, tenantID string, by Actor, id string) (*Invitation, error)

	// Revoke stops a pending or expired invitation. ENOTFOUND; ECONFLICT.
	Revoke(ctx context.Context, tenantID string, by Actor, id string) (*Invitation, error)

	// FindInvitations returns a page of the tenant's invitations. EINVALID.
	FindInvitations(ctx context.Context, tenantID string, f InvitationFilter) (*InvitationPage, error)

	// Accept creates the invited user with a password that follows the
	// tenant's policy, once. EGONE for a dead link; EINVALID; ECONFLICT.
	Accept(ctx context.Context, requestID string, a InvitationAcceptance) (*User, error)
}
