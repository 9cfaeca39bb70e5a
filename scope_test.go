package roster_test

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster"
)

// TestUserScope: holding a permission tenant-wide reaches every user; a
// team admin reaches their subtrees' members for reading and for MFA
// reminders only; anyone else is refused.
func TestUserScope(t *testing.T) {
	helper := []roster.Permission{roster.PermMFAEnroll}
	lead := &roster.Principal{Kind: roster.PrincipalUser, Roles: []string{"helper"}, Granted: helper, AdminTeams: []string{"t1", "t2"}}
	viewer := &roster.Principal{Kind: roster.PrincipalUser, Roles: []string{roster.RoleViewer}, AdminTeams: []string{"t1"}}
	nobody := &roster.Principal{Kind: roster.PrincipalUser, Roles: []string{"helper"}, Granted: helper}
	enrolling := &roster.Principal{Kind: roster.PrincipalUser, Roles: []string{roster.RoleAdmin}, AdminTeams: []string{"t1"},
		Scopes: []string{string(roster.PermMFAEnroll)}}
	// A team lead's personal API key for something else carries its
	// scopes, not the lead's reach over their teams.
	leadsKey := &roster.Principal{Kind: roster.PrincipalAPIToken, Roles: []string{"helper"}, Granted: helper, AdminTeams: []string{"t1"},
		Scopes: []string{string(roster.PermMFAEnroll), "app:tickets.close"}}

	if s, err := lead.UserScope(roster.PermUsersRead); err != nil || !slices.Equal(s.Teams, []string{"t1", "t2"}) || s.All() {
		t.Fatalf("a team admin's read scope: %+v, %v", s, err)
	}
	if s, err := viewer.UserScope(roster.PermUsersRead); err != nil || !s.All() {
		t.Fatalf("a viewer who is also a team admin reads everyone: %+v, %v", s, err)
	}
	for _, p := range []*roster.Principal{nobody, enrolling, leadsKey, nil} {
		if _, err := p.UserScope(roster.PermUsersRead); roster.ErrorCode(err) != roster.EFORBIDDEN {
			t.Fatalf("%+v reads users: %v", p, err)
		}
	}
	if _, err := lead.UserScope(roster.PermUsersWrite); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("a team admin writes users: %v", err)
	}
	if s, err := lead.BulkScope(roster.BulkRemindMFA); err != nil || !slices.Equal(s.Teams, []string{"t1", "t2"}) {
		t.Fatalf("a team admin's reminders: %+v, %v", s, err)
	}
	for _, action := range []string{roster.BulkDeactivate, roster.BulkSetRole, roster.BulkDelete, roster.BulkResetMFA} {
		if _, err := lead.BulkScope(action); roster.ErrorCode(err) != roster.EFORBIDDEN {
			t.Fatalf("a team admin's %s: %v", action, err)
		}
		if _, err := viewer.BulkScope(action); roster.ErrorCode(err) != roster.EFORBIDDEN {
			t.Fatalf("a viewer's %s: %v", action, err)
		}
	}
	admin := &roster.Principal{Kind: roster.PrincipalUser, Roles: []string{roster.RoleAdmin}}
	if s, err := admin.BulkScope(roster.BulkDelete); err != nil || !s.All() {
		t.Fatalf("an admin's bulk scope: %+v, %v", s, err)
	}
	if _, err := nobody.BulkScope(roster.BulkRemindMFA); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("a user who administers no team sends reminders: %v", err)
	}
	if _, err := leadsKey.BulkScope(roster.BulkRemindMFA); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("a team lead's scoped key sends reminders: %v", err)
	}
}
