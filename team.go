package roster

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Limits of teams.
const (
	// MaxTeamDepth is how deep teams nest: a top-level team is depth 1.
	MaxTeamDepth = 10
	// MaxTeamRoles is how many roles one team may give.
	MaxTeamRoles = 20
)

// Roles of a member in a team. An admin of a team manages the members of
// the team and of its subteams.
const (
	TeamMember = "member"
	TeamAdmin  = "admin"
)

// Team is one of a tenant's own nested subgroups. Its members, and the
// members of its subteams, hold its Roles.
type Team struct {
	ID          string
	ParentID    *string // nil at the top level
	Name        string
	Description string
	Roles       []string
	// Path lists the team's ancestors root first, then the team itself.
	Path []string
	// MemberCount counts direct members only.
	MemberCount int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// Depth is how deep the team is: 1 at the top level.
func (t *Team) Depth() int { return len(t.Path) }

// Normalize trims the name and description and sorts the roles without
// repeats.
func (t *Team) Normalize() {
	t.Name = strings.TrimSpace(t.Name)
	t.Description = strings.TrimSpace(t.Description)
	if t.Roles == nil {
		t.Roles = []string{}
	}
	slices.Sort(t.Roles)
	t.Roles = slices.Compact(t.Roles)
}

// Validate checks a team's own fields; whether the tenant has its roles
// and its parent is the store's check. EINVALID naming the fields.
func (t *Team) Validate() error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }
	if t.Name == "" {
		add("name", "is required")
	} else if msg := textProblem(t.Name, MaxNameLength); msg != "" {
		add("name", msg)
	}
	if msg := textProblem(t.Description, MaxDescriptionChars); msg != "" {
		add("description", msg)
	}
	if len(t.Roles) > MaxTeamRoles {
		add("roles", "are too many")
	}
	for _, r := range t.Roles {
		if msg := RoleNameProblem(r); msg != "" {
			add("roles", r+" "+msg)
			break
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// TeamUpdate is a change to a team; nil fields stay as they are.
// ClearParent moves the team to the top level.
type TeamUpdate struct {
	Name        *string
	Description *string
	ParentID    *string
	ClearParent bool
	Roles       []string // nil: unchanged
}

// Moves reports whether the update names a parent.
func (u TeamUpdate) Moves() bool { return u.ParentID != nil || u.ClearParent }

// TeamFilter selects a page of teams by name. ParentID lists the children
// of a team; TopLevel, when set, lists the top-level teams (true) or the
// subteams (false).
type TeamFilter struct {
	ParentID string
	TopLevel *bool
	Limit    int // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor   string
}

// TeamPage is one page of teams and the cursor of the next, "" at the end.
type TeamPage struct {
	Items      []*Team
	NextCursor string
}

// TeamMembership is one user in one team.
type TeamMembership struct {
	TeamID      string
	UserID      string
	Email       string
	DisplayName string // the user's display name, or user name
	Role        string // TeamMember or TeamAdmin
	CreatedAt   time.Time
}

// IsTeamRole reports whether role is a member's role in a team.
func IsTeamRole(role string) bool { return role == TeamMember || role == TeamAdmin }

// TeamMemberFilter selects a page of a team's members by user id, and
// with Subteams those of every team below it too.
type TeamMemberFilter struct {
	Subteams bool
	Limit    int
	Cursor   string
}

// TeamMemberPage is one page of members and the cursor of the next.
type TeamMemberPage struct {
	Items      []*TeamMembership
	NextCursor string
}

// TeamService reads and changes a tenant's teams and their members.
// Changes need the enterprise plan (EPLAN) and, from a bounded actor, may
// not give or take away roles beyond the actor's own permissions
// (EFORBIDDEN). A team or user of another tenant is ENOTFOUND.
type TeamService interface {
	// FindTeams lists teams by name. EINVALID for a bad cursor or limit,
	// ENOTFOUND naming parent_id for a parent that is no team.
	FindTeams(ctx context.Context, tenantID string, f TeamFilter) (*TeamPage, error)
	// FindTeam returns one team. ENOTFOUND.
	FindTeam(ctx context.Context, tenantID, id string) (*Team, error)
	// CreateTeam stores a team under t.ParentID. EINVALID, ENOTFOUND
	// naming parent_id, ECONFLICT for a taken name or a parent at
	// MaxTeamDepth, EFORBIDDEN, EPLAN.
	CreateTeam(ctx context.Context, tenantID string, by Actor, t *Team) (*Team, error)
	// UpdateTeam changes a team; a new parent moves its whole subtree.
	// ENOTFOUND, EINVALID, ECONFLICT (a taken name, a cycle, a subtree
	// deeper than MaxTeamDepth), EPRECONDITION for a stale ifVersion,
	// EFORBIDDEN, EPLAN.
	UpdateTeam(ctx context.Context, tenantID string, by Actor, id string, ifVersion int64, u TeamUpdate) (*Team, error)
	// DeleteTeam removes a team without subteams, and its memberships.
	// ENOTFOUND, ECONFLICT naming how many subteams it has, EPRECONDITION,
	// EFORBIDDEN, EPLAN.
	DeleteTeam(ctx context.Context, tenantID string, by Actor, id string, ifVersion int64) error

	// SetTeamMember adds a user to a team with role, or changes their
	// role there, and reports whether they were added. Allowed to holders
	// of teams:write and to admins of the team or an ancestor of it; an
	// admin without users:read reaches only users already in the teams
	// they administer (ENOTFOUND for any other). EINVALID, ENOTFOUND,
	// EFORBIDDEN, EPLAN.
	SetTeamMember(ctx context.Context, tenantID string, by Actor, teamID, userID, role string) (*TeamMembership, bool, error)
	// RemoveTeamMember takes a user out of a team, allowed as
	// SetTeamMember is. ENOTFOUND, EFORBIDDEN, EPLAN.
	RemoveTeamMember(ctx context.Context, tenantID string, by Actor, teamID, userID string) error
	// FindTeamMembers lists a team's members by user id. ENOTFOUND,
	// EINVALID for a bad cursor or limit.
	FindTeamMembers(ctx context.Context, tenantID, teamID string, f TeamMemberFilter) (*TeamMemberPage, error)
}
