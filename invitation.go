package roster

import (
	"context"
	"strings"
	"time"
)

// Invitation is an offer to join a tenant in a role, sent to an email
// address with a single-use link. Only the hash of its token is stored.
type Invitation struct {
	ID         string     `db:"id"`
	TenantID   string     `db:"tenant_id"`
	Email      string     `db:"email"`
	Role       string     `db:"role"`
	TokenHash  []byte     `db:"token_hash"`
	InvitedBy  string     `db:"invited_by"` // the actor id: a user or an API token
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  time.Time  `db:"expires_at"`
	AcceptedAt *time.Time `db:"accepted_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	UserID     *string    `db:"user_id"` // the user the acceptance made

	// The outbox message carrying the current link: its id, its status
	// (EmailPending, EmailSent, EmailDead, EmailCancelled) and when it was
	// delivered.
	EmailID    *string    `db:"email_id"`
	MailStatus string     `db:"mail_status"`
	SentAt     *time.Time `db:"sent_at"`
}

// InvitationMail composes the message that carries inv's link. The store
// calls it inside the transaction that stores or renews inv, and queues the
// message in that transaction, so no invitation exists without its mail.
type InvitationMail func(inv *Invitation) Email

// Invitation statuses. They are derived from the timestamps, never stored.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationExpired  = "expired"
	InvitationRevoked  = "revoked"
)

// IsInvitationStatus reports whether s is an invitation status.
func IsInvitationStatus(s string) bool {
	switch s {
	case InvitationPending, InvitationAccepted, InvitationExpired, InvitationRevoked:
		return true
	}
	return false
}

// Status is the invitation's status at now: accepted, revoked, expired
// (expires_at has passed), else pending.
func (i *Invitation) Status(now time.Time) string {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// Normalize trims the email and role.
func (i *Invitation) Normalize() {
	i.Email = strings.TrimSpace(i.Email)
	i.Role = strings.TrimSpace(i.Role)
}

// Validate checks the email, by the rules a user's email follows, and the
// role, and names each field at fault.
func (i *Invitation) Validate() error {
	var fields []FieldError
	if msg := emailProblem(i.Email, false); msg != "" {
		fields = append(fields, FieldError{Field: "email", Message: msg})
	}
	if msg := RoleNameProblem(i.Role); msg != "" {
		fields = append(fields, FieldError{Field: "role", Message: msg})
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// InvitationFilter selects a page of invitations, newest first.
type InvitationFilter struct {
	Status string // one of the Invitation* statuses; "" means any
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // opaque, from a previous page's NextCursor
}

// InvitationPage is one page of invitations and the cursor of the next, ""
// at the end.
type InvitationPage struct {
	Items      []*Invitation
	NextCursor string
}

// InvitationService stores invitations. Every method but the ones taking a
// token hash is scoped to tenantID; an invitation of another tenant is
// ENOTFOUND.
type InvitationService interface {
	// CreateInvitation validates and stores inv, whose TokenHash and
	// ExpiresAt the caller has set, with its audit event and its mail
	// queued in the email outbox. An expired invitation to the same address
	// is revoked first. EINVALID; ECONFLICT when the address is a user's or
	// has a pending invitation.
	CreateInvitation(ctx context.Context, tenantID string, by Actor, inv *Invitation, mail InvitationMail) (*Invitation, error)

	// CreateInvitations stores each of invs as CreateInvitation does, each
	// atomic with its audit event and its mail; the ones refused (EINVALID,
	// ECONFLICT) are reported in errs at their index and the others stand.
	// Any other error stops the run; what was committed before it stands.
	CreateInvitations(ctx context.Context, tenantID string, by Actor, invs []*Invitation, mail InvitationMail) (errs []error, err error)

	// FindInvitations returns a page of the tenant's invitations. EINVALID
	// for a bad filter or cursor.
	FindInvitations(ctx context.Context, tenantID string, f InvitationFilter) (*InvitationPage, error)

	// RevokeInvitation stops a pending or expired invitation and cancels
	// its mail if that has not gone out. ENOTFOUND; ECONFLICT when it was
	// accepted or revoked already.
	RevokeInvitation(ctx context.Context, tenantID string, by Actor, id string) (*Invitation, error)

	// RenewInvitation gives a pending or expired invitation a new token
	// hash and expiry, so the old token stops working, cancels the mail
	// with the old one if it has not gone out and queues mail's message.
	// ENOTFOUND; ECONFLICT when it was accepted or revoked, or the address
	// has become a user's.
	RenewInvitation(ctx context.Context, tenantID string, by Actor, id string, tokenHash []byte, expiresAt time.Time, mail InvitationMail) (*Invitation, error)

	// FindInvitationByTokenHash returns the invitation with this token
	// hash, in whatever tenant. ENOTFOUND.
	FindInvitationByTokenHash(ctx context.Context, tokenHash []byte) (*Invitation, error)

	// AcceptInvitation creates u in the invitation's tenant and role and
	// marks the invitation accepted, in one transaction, once. EGONE when
	// the token is unknown or the invitation is no longer pending;
	// EINVALID, ECONFLICT from creating the user.
	AcceptInvitation(ctx context.Context, tokenHash []byte, requestID string, u *User) (*Invitation, *User, error)
}

// ActorInvitation is the actor of the changes an invitation's acceptance
// makes: the invitee has no credential yet, the invitation stands for them.
const ActorInvitation = "invitation"

// InvitationGone is the EGONE answer to a token that no longer works,
// saying why when the invitation's status is known.
func InvitationGone(status string) error {
	why := map[string]string{
		InvitationAccepted: "has been accepted already",
		InvitationRevoked:  "was revoked",
		InvitationExpired:  "has expired",
	}[status]
	if why == "" {
		return Errorf(EGONE, "the invitation link is not valid (any more): ask for a new invitation")
	}
	return Errorf(EGONE, "the invitation %s: ask for a new invitation", why)
}
