package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// checkTeam checks a selection's team: one of the tenant's (EINVALID
// naming field otherwise, another tenant's team included, as an unknown
// role is answered) and, for a caller whose scope is bounded, inside it
// (EFORBIDDEN).
func checkTeam(ctx context.Context, q sqlx.QueryerContext, tenantID, field, team string, scope roster.UserScope) error {
	if team == "" {
		return nil
	}
	unknown := roster.Invalid(roster.FieldError{Field: field, Message: team + " is not a team of the tenant"})
	if !isUUID(team) || !isUUID(tenantID) {
		return unknown
	}
	var inScope bool
	err := q.QueryRowxContext(ctx, `SELECT $3::uuid[] IS NULL OR path && $3::uuid[] FROM teams WHERE tenant_id = $1 AND id = $2`,
		tenantID, team, scopeArray(scope)).Scan(&inScope)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return unknown
	case err != nil:
		return translate(err)
	case !inScope:
		return roster.Errorf(roster.EFORBIDDEN, "team %s is not one of the teams you administer or below them", team)
	}
	return nil
}

// teamProblem says what is wrong with a team id's form, or "".
func teamProblem(team string) string {
	if team != "" && !isUUID(team) {
		return "must be a team id"
	}
	return ""
}

// teamMembersCond is the condition that selects the members of the team's
// subtree (team), within the subtrees of scope's teams, as a semi-join
// over teams_path_idx and the team_members primary key: the planner
// either walks the sort's index and probes each user's teams, or collects
// the subtree's members first and sorts them, by how many members the
// subtree has, which is why its statement is planned per value. "" when
// neither narrows the selection.
func teamMembersCond(b *sqlBuilder, tenantArg, team string, scope roster.UserScope) string {
	if team == "" && scope.All() {
		return ""
	}
	teams := ""
	if team != "" {
		teams = " AND t.path @> ARRAY[" + b.arg(team) + "::uuid]"
	}
	if !scope.All() {
		teams += " AND t.path && " + b.arg(scopeArray(scope)) + "::uuid[]"
	}
	return planPerValue + `id IN (SELECT m.user_id FROM team_members m WHERE m.tenant_id = ` + tenantArg +
		` AND m.team_id IN (SELECT t.id FROM teams t WHERE t.tenant_id = ` + tenantArg + teams + `))`
}

// scopeArray is a scope's teams as a query parameter, NULL for every
// user; a bounded scope of no team reaches no one.
func scopeArray(scope roster.UserScope) any {
	if scope.All() {
		return nil
	}
	return pq.Array(validUUIDs(scope.Teams))
}
