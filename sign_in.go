package roster

import (
	"context"
	"time"
)

// Sign-in methods, as the history records them: the credential an attempt
// presented.
const (
	SignInPassword = "password"
	SignInPasskey  = "passkey"
	SignInSSO      = "sso"
	SignInMFA      = "mfa" // the second factor of a sign-in whose first passed
)

// Sign-in results. MFA required is a first factor that passed, awaiting
// the second; the sign-in's outcome is the mfa attempt that follows.
const (
	SignInSucceeded   = "success"
	SignInFailed      = "failure"
	SignInMFARequired = "mfa_required"
)

// Why a sign-in attempt failed.
const (
	ReasonWrongPassword     = "wrong_password"
	ReasonUnknownUser       = "unknown_user" // never in a user's history: there is no user
	ReasonNoPassword        = "no_password"
	ReasonLocked            = "locked"
	ReasonDeactivated       = "deactivated"
	ReasonSSORequired       = "sso_required"
	ReasonRateLimited       = "rate_limited"
	ReasonWrongCode         = "wrong_code"
	ReasonPasskeyRefused    = "passkey_refused"
	ReasonNetworkNotAllowed = "network_not_allowed"
)

// SignInAttempt is one attempt at signing in, as the history keeps it.
// Where it came from (address, user agent) is the request's Client.
type SignInAttempt struct {
	ID        string
	UserID    string // "" for an account that does not exist
	At        time.Time
	Address   string
	UserAgent string
	Method    string
	Result    string
	Reason    string   // "" for a success
	AMR       []string // how a successful sign-in signed in (RFC 8176)
}

// DefaultSignInRetentionDays is how long sign-in history is kept when the
// tenant's policy does not say.
const DefaultSignInRetentionDays = 400

// NewDeviceWindow is how long a device (user agent and network) stays
// known after a sign-in from it: a sign-in from one not seen for that long
// is mailed to the user.
const NewDeviceWindow = 90 * 24 * time.Hour

// SignInFilter selects a page of a user's sign-in history, newest first.
type SignInFilter struct {
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // opaque, from a previous page's NextCursor
}

// SignInPage is one page of sign-in history and the cursor of the next,
// "" at the end.
type SignInPage struct {
	Items      []*SignInAttempt
	NextCursor string
}

// SignInHistoryService reads the sign-in history that LoginService writes.
type SignInHistoryService interface {
	// FindSignIns returns a page of the user's sign-in attempts, newest
	// first. The caller has checked the user is the tenant's. EINVALID
	// naming "limit" or "cursor".
	FindSignIns(ctx context.Context, tenantID, userID string, f SignInFilter) (*SignInPage, error)
}

// NewSignInEmail tells u of a sign-in to their account from a device they
// have not signed in from lately.
func NewSignInEmail(u *User, a *SignInAttempt) Email {
	return Email{
		To:      u.Email,
		Subject: "A new sign-in to your account",
		Body: "Hello " + greetingName(u) + ",\n\n" +
			"There was a new sign-in to your account (" + u.UserName + ") from a device it has not signed in from lately:\n\n" +
			"  When:    " + a.At.UTC().Format("2006-01-02 15:04 UTC") + "\n" +
			"  Address: " + a.Address + "\n" +
			"  Device:  " + a.UserAgent + "\n\n" +
			"If this was you, there is nothing to do. If it was not, change your password at once and tell your administrator.\n",
	}
}
