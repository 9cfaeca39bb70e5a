package roster

import (
	"context"
	"strings"
	"time"
)

// Group is a named set of a tenant's users, as identity providers push them.
type Group struct {
	ID          string
	TenantID    string
	DisplayName string
	ExternalID  *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64

	// Members is filled only when asked for: a group may have a hundred
	// thousand of them.
	Members []GroupMember
}

// GroupMember is one user in a group.
type GroupMember struct {
	UserID  string
	Display string // the user's display name, or user name
	Email   string
	Active  bool
}

// GroupFilter selects a page of groups, ordered by lower-cased display name
// (compared byte by byte, whatever the database's collation) and then id.
type GroupFilter struct {
	Prefix string // the display name starts with it, in any case; "" means any
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // opaque, from a previous page's NextCursor
}

// GroupPage is one page of groups, without members, and the cursor of the
// next, "" at the end.
type GroupPage struct {
	Items      []*Group
	NextCursor string
}

// GroupMemberFilter selects a page of a group's members, by user id.
type GroupMemberFilter struct {
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // opaque, from a previous page's NextCursor
}

// GroupMemberPage is one page of a group's members and the cursor of the
// next, "" at the end.
type GroupMemberPage struct {
	Items      []GroupMember
	NextCursor string
}

// Normalize trims the display name and turns an empty external id into none.
func (g *Group) Normalize() {
	g.DisplayName = strings.TrimSpace(g.DisplayName)
	if g.ExternalID != nil && strings.TrimSpace(*g.ExternalID) == "" {
		g.ExternalID = nil
	}
}

// Validate checks a group's own fields.
func (g *Group) Validate() error {
	var fields []FieldError
	if g.DisplayName == "" {
		fields = append(fields, FieldError{Field: "displayName", Message: "is required"})
	} else if msg := textProblem(g.DisplayName, MaxNameLength); msg != "" {
		fields = append(fields, FieldError{Field: "displayName", Message: msg})
	}
	if g.ExternalID != nil {
		if msg := textProblem(*g.ExternalID, MaxNameLength); msg != "" {
			fields = append(fields, FieldError{Field: "externalId", Message: msg})
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// GroupChange is one step of a group update; a PATCH is a list of them,
// applied in order in one transaction. Member changes name user ids and
// never read the whole membership.
type GroupChange struct {
	DisplayName     *string
	ExternalID      *string
	ClearExternalID bool
	AddMembers      []string
	RemoveMembers   []string
	// ReplaceMembers, when set, makes the membership exactly Members.
	ReplaceMembers bool
	Members        []string
}

// GroupService reads and changes a tenant's groups. Every method is scoped
// to tenantID; a group or user of another tenant is ENOTFOUND.
type GroupService interface {
	// CreateGroup stores a group with its members (g.Members' user ids).
	// EINVALID, ECONFLICT for a taken display name, ENOTFOUND for a member
	// that is not a user of the tenant.
	CreateGroup(ctx context.Context, tenantID string, by Actor, g *Group) (*Group, error)

	// FindGroupByID returns a group, with its members when withMembers.
	// ENOTFOUND.
	FindGroupByID(ctx context.Context, tenantID, id string, withMembers bool) (*Group, error)

	// QueryGroups returns a window of groups without members, and the total.
	QueryGroups(ctx context.Context, tenantID string, q GroupQuery) ([]*Group, int, error)

	// FindGroups returns a keyset page of groups without members. EINVALID
	// naming "q", "limit" or "cursor".
	FindGroups(ctx context.Context, tenantID string, f GroupFilter) (*GroupPage, error)

	// CountGroupMembers returns how many members a group has. ENOTFOUND.
	CountGroupMembers(ctx context.Context, tenantID, id string) (int, error)

	// FindGroupMembers returns a keyset page of a group's members, reading
	// only that page of the membership. ENOTFOUND; EINVALID naming "limit"
	// or "cursor".
	FindGroupMembers(ctx context.Context, tenantID, id string, f GroupMemberFilter) (*GroupMemberPage, error)

	// UpdateGroup applies changes in order in one transaction. ENOTFOUND,
	// EINVALID, ECONFLICT, EPRECONDITION when ifVersion is non-zero and stale
	// (NoVersion always is).
	UpdateGroup(ctx context.Context, tenantID string, by Actor, id string, ifVersion int64, changes []GroupChange) (*Group, error)

	// DeleteGroup removes a group. ENOTFOUND, EPRECONDITION when ifVersion
	// is non-zero and stale (NoVersion always is).
	DeleteGroup(ctx context.Context, tenantID string, by Actor, id string, ifVersion int64) error
}
