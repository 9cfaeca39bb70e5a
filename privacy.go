package roster

import (
	"context"
	"encoding/json"
	"time"
)

// PersonalRecords are what Roster holds about a person beyond what the
// other services show: the attributes identity providers sent, the groups
// and teams they are in and the identity-provider users they are linked
// to. A data export reads them beside the profile, factors, sessions and
// trail.
type PersonalRecords struct {
	Attributes json.RawMessage // as sent over SCIM; {} for none
	Groups     []GroupMembership
	Teams      []TeamRecord
	Identities []LinkedIdentity
}

// TeamRecord is a team a person is in, with their role there.
type TeamRecord struct {
	TeamID string    `db:"team_id"`
	Name   string    `db:"name"`
	Role   string    `db:"role"`
	Since  time.Time `db:"since"`
}

// GroupMembership is a group a person is in.
type GroupMembership struct {
	GroupID     string    `db:"group_id"`
	DisplayName string    `db:"display_name"`
	Since       time.Time `db:"since"`
}

// LinkedIdentity links a person to a user of an identity provider.
type LinkedIdentity struct {
	ConnectionID string    `db:"connection_id"`
	Subject      string    `db:"subject"`
	CreatedAt    time.Time `db:"created_at"`
}

// PrivacyService reads a person's records for the rights data protection
// law gives them. Scoped to the tenant; another tenant's user is
// ENOTFOUND.
type PrivacyService interface {
	PersonalRecords(ctx context.Context, tenantID, userID string) (*PersonalRecords, error)
	// EraseUser deletes the user and every credential of theirs, hands
	// the invitations they sent to transferTo (when not ""), and replaces
	// their address, names and external id wherever else Roster keeps
	// them (the audit trail, invitations, queued mail) with ErasedValue;
	// ids stay, so the trail still says who did what. Irreversible, in
	// one transaction, audited as user.erased with nothing personal.
	// ENOTFOUND, ECONFLICT (the last admin, oneself), EINVALID naming
	// transfer_to.
	EraseUser(ctx context.Context, tenantID string, by Actor, id, transferTo string) error
}

// ErasedValue stands where an erased person's data was.
const ErasedValue = "[erased]"

// ActionUserErased is the audit action of an erasure.
const ActionUserErased = "user.erased"
