package roster

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEvent records one change: who did what to which resource, when, in
// which request. It is written in the same transaction as the change.
type AuditEvent struct {
	ID         string          `db:"id"`
	TenantID   string          `db:"tenant_id"`
	OccurredAt time.Time       `db:"occurred_at"`
	ActorType  string          `db:"actor_type"`
	ActorID    string          `db:"actor_id"`
	Action     string          `db:"action"`
	TargetType string          `db:"target_type"`
	TargetID   string          `db:"target_id"`
	RequestID  string          `db:"request_id"`
	Details    json.RawMessage `db:"details"`
}

// Audit actions.
const (
	ActionTenantCreated   = "tenant.created"
	ActionTenantUpdated   = "tenant.updated"
	ActionUserCreated     = "user.created"
	ActionUserUpdated     = "user.updated"
	ActionUserDeactivated = "user.deactivated"
	ActionUserActivated   = "user.activated"
	ActionUserDeleted     = "user.deleted"
	ActionTokenCreated    = "token.created"
	ActionTokenRevoked    = "token.revoked"

	ActionInvitationCreated  = "invitation.created"
	ActionInvitationResent   = "invitation.resent"
	ActionInvitationRevoked  = "invitation.revoked"
	ActionInvitationAccepted = "invitation.accepted"
)

// AuditFilter selects a page of audit events, newest first.
type AuditFilter struct {
	Action   string
	TargetID string
	ActorID  string
	Limit    int
	Cursor   string
}

// AuditPage is one page of events and the cursor of the next, "" at the end.
type AuditPage struct {
	Items      []*AuditEvent
	NextCursor string
}

// AuditService reads the audit trail.
type AuditService interface {
	// FindAuditEvents returns a page of a tenant's events. EINVALID for a bad cursor.
	FindAuditEvents(ctx context.Context, tenantID string, f AuditFilter) (*AuditPage, error)
}

// Audit actions of sign-in and sessions, of SCIM groups, and of the demo
// seed.
const (
	ActionUserSignedIn           = "user.signed_in"
	ActionUserLocked             = "user.locked"
	ActionUserUnlocked           = "user.unlocked"
	ActionUserPasswordSet        = "user.password_set"
	ActionUserPasswordChanged    = "user.password_changed"
	ActionSessionRefreshReplayed = "session.refresh_replayed"
	ActionSessionRevoked         = "session.revoked"

	ActionGroupCreated = "group.created"
	ActionGroupUpdated = "group.updated"
	ActionGroupDeleted = "group.deleted"

	ActionUsersSeeded = "users.seeded"

	ActionRoleCreated  = "role.created"
	ActionRoleUpdated  = "role.updated"
	ActionRoleDeleted  = "role.deleted"
	ActionGrantCreated = "grant.created"
	ActionGrantRevoked = "grant.revoked"
	// ActionGrantExpired records, when a user's grants are next read or
	// changed, the natural end of a grant; its time is in the details.
	ActionGrantExpired = "grant.expired"

	ActionTeamCreated       = "team.created"
	ActionTeamUpdated       = "team.updated"
	ActionTeamDeleted       = "team.deleted"
	ActionTeamMemberAdded   = "team.member_added"
	ActionTeamMemberChanged = "team.member_changed"
	ActionTeamMemberRemoved = "team.member_removed"
)
