package roster_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// TestTeamActionsAreEvents: each team audit action is the event type of
// its own name, for webhooks and the events feed.
func TestTeamActionsAreEvents(t *testing.T) {
	for _, action := range []string{roster.ActionTeamCreated, roster.ActionTeamUpdated, roster.ActionTeamDeleted,
		roster.ActionTeamMemberAdded, roster.ActionTeamMemberChanged, roster.ActionTeamMemberRemoved} {
		if got := roster.EventTypeOf(&roster.AuditEvent{Action: action}); got != action {
			t.Errorf("%s is the event %q", action, got)
		}
		if !strings.Contains(roster.EventSourceSQL([]string{action}), "'"+action+"'") {
			t.Errorf("the feed does not select %s", action)
		}
	}
}

func TestTeamValidate(t *testing.T) {
	many := make([]string, roster.MaxTeamRoles+1)
	for i := range many {
		many[i] = fmt.Sprintf("role-%d", i)
	}
	for _, tc := range []struct {
		team  roster.Team
		field string
	}{
		{roster.Team{Name: " Ops ", Roles: []string{"viewer", "developer", "viewer"}}, ""},
		{roster.Team{Name: "  "}, "name"},
		{roster.Team{Name: strings.Repeat("x", roster.MaxNameLength+1)}, "name"},
		{roster.Team{Name: "Ops", Description: "a\x00b"}, "description"},
		{roster.Team{Name: "Ops", Roles: []string{"Not A Role"}}, "roles"},
		{roster.Team{Name: "Ops", Roles: many}, "roles"},
	} {
		tc.team.Normalize()
		err := tc.team.Validate()
		fields := roster.ErrorFields(err)
		if tc.field == "" && err != nil || tc.field != "" && (len(fields) != 1 || fields[0].Field != tc.field) {
			t.Errorf("%+v: %v, want a problem with %q", tc.team, err, tc.field)
		}
	}
	ops := roster.Team{Name: " Ops ", Roles: []string{"viewer", "developer", "viewer"}}
	ops.Normalize()
	if ops.Name != "Ops" || strings.Join(ops.Roles, ",") != "developer,viewer" {
		t.Fatalf("normalized: %+v", ops)
	}
}
