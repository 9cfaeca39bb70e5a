package roster

import (
	"context"
	"time"
)

// SignUp is what a person gives to create an organisation and become its
// first admin.
type SignUp struct {
	Email, Password, GivenName, FamilyName string
	OrganisationName, OrganisationSlug     string
}

// Audit actions of sign-up and approval.
const (
	// ActionUserEmailVerified: a signed-up admin followed their verification
	// link, which activates the account.
	ActionUserEmailVerified = "user.email_verified"
	// ActionUserApproved: an admin let a user waiting for approval in.
	ActionUserApproved = "user.approved"
)

// LinkVerify is the purpose of a setup link that proves a signed-up
// admin's address: it activates the account and sets no password.
const LinkVerify = "verify"

// SignUpFlow lets people create organisations, when the operator allows
// it (ROSTER_SIGNUP=open).
type SignUpFlow interface {
	// Open reports whether sign-up is allowed.
	Open() bool

	// SignUp creates the organisation and its first admin, inactive, and
	// mails the address a verification link. It answers the same, no
	// sooner than a fixed time, whoever the address belongs to.
	// EFORBIDDEN when sign-up is closed; EINVALID naming the field
	// (organisation fields as "organisation.name", "organisation.slug");
	// ECONFLICT naming "organisation.slug" when it is taken; ETOOMANY over
	// the rate of the address ip or of the email.
	SignUp(ctx context.Context, ip string, s SignUp) error

	// VerifyEmail spends a verification link: the account becomes active
	// and gets a welcome mail. EGONE for a token unknown, used, replaced
	// or expired.
	VerifyEmail(ctx context.Context, requestID, token string) (*User, error)

	// ResendVerification mails a new link to the signed-up admin of the
	// tenant (id or slug) with this address who has not verified it yet,
	// replacing the old one; it answers the same, no sooner than a fixed
	// time, whether there is one or not. EFORBIDDEN when sign-up is closed;
	// EINVALID naming "tenant" or "email"; ETOOMANY.
	ResendVerification(ctx context.Context, ip, tenant, email string) error
}

// SignUpService keeps what sign-up writes beyond the tenant itself.
type SignUpService interface {
	// RenewVerifyLink gives the user with email in the tenant (id or
	// slug), whose address is still unverified, the new link l (its hash
	// and expiry set), replacing the old, and queues mail(u, l) sealed, in
	// one transaction. ENOTFOUND when there is no such user.
	RenewVerifyLink(ctx context.Context, tenant, email string, l *SetupLink, mail func(*User, *SetupLink) Email) error

	// UseVerifyLink spends the verification link with this hash, once:
	// the user becomes active, audited as user.email_verified, and
	// welcome(u, l) is queued, in one transaction. EGONE.
	UseVerifyLink(ctx context.Context, tokenHash []byte, requestID string, welcome func(*User, *SetupLink) Email) (*User, error)
}

// VerifyEmailMail is the mail with a verification link that works until
// expires.
func VerifyEmailMail(u *User, orgName, link string, expires time.Time) Email {
	return Email{
		To:      u.Email,
		Subject: "Confirm your email address",
		Body: "Hello " + greetingName(u) + ",\n\n" +
			"Someone (hopefully you) signed up to Roster with this address, creating the organisation " + orgName + ".\n" +
			"Confirm the address to start using it:\n\n" + link + "\n\n" +
			"The link works once, until " + expires.UTC().Format("2006-01-02 15:04 MST") + ". " +
			"If you did not sign up, ignore this message: nothing happens without the confirmation.\n",
	}
}

// WelcomeMail greets a signed-up admin once their address is confirmed.
func WelcomeMail(u *User, orgSlug, signInLink string) Email {
	return Email{
		To:      u.Email,
		Subject: "Welcome to Roster",
		Body: "Hello " + greetingName(u) + ",\n\n" +
			"Your address is confirmed and your account is ready. Sign in to the organisation " + orgSlug + " here:\n\n" +
			signInLink + "\n\n" +
			"As its first administrator, you can invite your colleagues and connect your identity provider.\n",
	}
}
