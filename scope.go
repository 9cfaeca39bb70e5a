package roster

import "slices"

// UserScope is which of a tenant's users a caller reaches: every one, or
// the members of some teams and of their subteams.
type UserScope struct {
	// Teams bounds the users to the members of these teams' subtrees; nil
	// reaches every user of the tenant.
	Teams []string
}

// All reports whether the scope reaches every user of the tenant.
func (s UserScope) All() bool { return s.Teams == nil }

// teamAdminReads is what administering a team gives over the members of
// its subtree without holding it tenant-wide: reading them, their
// security information and their statistics.
var teamAdminReads = []Permission{PermUsersRead}

// UserScope returns the users the principal reaches with perm: every user
// when it holds perm tenant-wide; the members of the subtrees of the teams
// it administers when it is a team admin and perm is one team admins hold
// there (users:read); EFORBIDDEN otherwise.
func (p *Principal) UserScope(perm Permission) (UserScope, error) {
	if p.Can(perm) {
		return UserScope{}, nil
	}
	if p.AdministersTeams() && slices.Contains(teamAdminReads, perm) {
		return UserScope{Teams: slices.Clone(p.AdminTeams)}, nil
	}
	return UserScope{}, Errorf(EFORBIDDEN, "this requires the %s permission", perm)
}

// BulkScope returns the users a bulk action of the principal reaches:
// every user for a holder of users:write; for a team admin, the members
// of their subtrees, and only for remind_mfa, the one bulk action team
// admins take; EFORBIDDEN otherwise.
func (p *Principal) BulkScope(action string) (UserScope, error) {
	switch {
	case p.Can(PermUsersWrite):
		return UserScope{}, nil
	case p.AdministersTeams() && action == BulkRemindMFA:
		return UserScope{Teams: slices.Clone(p.AdminTeams)}, nil
	case p.AdministersTeams():
		return UserScope{}, Errorf(EFORBIDDEN, "a team admin may only send %s to the members of their teams; %s requires the %s permission",
			BulkRemindMFA, action, PermUsersWrite)
	}
	return UserScope{}, Errorf(EFORBIDDEN, "this requires the %s permission", PermUsersWrite)
}

// AdministersTeams reports whether the principal is an admin of at least
// one team: what lets it past the routes team admins reach (each then
// narrowed by UserScope or BulkScope). Only the user's own, unscoped
// credential carries that reach: a token or personal API key holds its
// scopes and nothing more, as an enrolment-only token does.
func (p *Principal) AdministersTeams() bool {
	return p != nil && len(p.AdminTeams) > 0 && len(p.Scopes) == 0
}
