package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// fewMembers is the most memberships a selection's teams may hold for
// their members to be read first and the users then fetched by id. Past
// it the page is found by walking the sort's index and probing each
// user's teams: at a million users, a subtree of a thousand members costs
// a thousand lookups one way and fifty thousand the other, one of a
// hundred thousand the reverse.
const fewMembers = 2000

// teamReach is what checkTeam found of a selection's teams: their
// members, when few.
type teamReach struct {
	few     bool
	members []string // distinct, when few
}

// Statements of checkTeam: $4 stops the members read one past fewMembers.
const (
	teamReachSQL = `SELECT $3::uuid[] IS NULL OR t.path && $3::uuid[],
		(SELECT array_agg(user_id) FROM (SELECT m.user_id FROM teams s
			JOIN team_members m ON m.tenant_id = s.tenant_id AND m.team_id = s.id
			WHERE s.tenant_id = $1 AND s.path @> ARRAY[t.id] AND ($3::uuid[] IS NULL OR s.path && $3::uuid[]) LIMIT $4) AS few)
		FROM teams t WHERE t.tenant_id = $1 AND t.id = $2`
	scopeReachSQL = `SELECT array_agg(user_id) FROM (SELECT m.user_id FROM teams s
		JOIN team_members m ON m.tenant_id = s.tenant_id AND m.team_id = s.id
		WHERE s.tenant_id = $1 AND s.path && $2::uuid[] LIMIT $3) AS few`
)

// checkTeam checks a selection's team: one of the tenant's (EINVALID
// naming field otherwise, another tenant's team included, as an unknown
// role is answered) and, for a caller whose scope is bounded, inside it
// (EFORBIDDEN). It reads the members of the selection's teams (the team's
// subtree within the scope) when there are at most fewMembers.
func checkTeam(ctx context.Context, db *DB, tenantID, field, team string, scope roster.UserScope) (teamReach, error) {
	var raw []string
	switch {
	case team == "" && scope.All():
		return teamReach{}, nil
	case team == "":
		err := db.queryRow(ctx, scopeReachSQL, tenantID, scopeArray(scope), fewMembers+1).Scan(pq.Array(&raw))
		if err != nil {
			return teamReach{}, translate(err)
		}
	default:
		unknown := roster.Invalid(roster.FieldError{Field: field, Message: team + " is not a team of the tenant"})
		if !isUUID(team) || !isUUID(tenantID) {
			return teamReach{}, unknown
		}
		var inScope bool
		err := db.queryRow(ctx, teamReachSQL, tenantID, team, scopeArray(scope), fewMembers+1).Scan(&inScope, pq.Array(&raw))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return teamReach{}, unknown
		case err != nil:
			return teamReach{}, translate(err)
		case !inScope:
			return teamReach{}, roster.Errorf(roster.EFORBIDDEN, "team %s is not one of the teams you administer or below them", team)
		}
	}
	if len(raw) > fewMembers {
		return teamReach{}, nil
	}
	return teamReach{few: true, members: DistinctIDs(raw)}, nil
}

// teamProblem says what is wrong with a team id's form, or "".
func teamProblem(team string) string {
	if team != "" && !isUUID(team) {
		return "must be a team id"
	}
	return ""
}

// teamMembersCond is the condition that selects the members of the team's
// subtree (team), within the subtrees of scope's teams; "" when neither
// narrows the selection. With what checkTeam found (reach), few members
// are named by id, and many are probed user by user as the sort's index
// is walked (OFFSET 0 keeps the probe from being turned into a join that
// would collect them all): both shapes are prepared once. Without it, the
// condition is a semi-join planned per value, over teams_path_idx and the
// team_members primary key, so that the planner chooses between the two
// by the subtree's size.
func teamMembersCond(b *sqlBuilder, tenantArg, team string, scope roster.UserScope, reach *teamReach) string {
	if team == "" && scope.All() {
		return ""
	}
	if reach != nil && reach.few {
		return "id = ANY (" + b.arg(pq.Array(reach.members)) + "::uuid[])"
	}
	teams := ""
	if team != "" {
		teams = " AND t.path @> ARRAY[" + b.arg(team) + "::uuid]"
	}
	if !scope.All() {
		teams += " AND t.path && " + b.arg(scopeArray(scope)) + "::uuid[]"
	}
	if reach != nil {
		return `EXISTS (SELECT 1 FROM team_members m JOIN teams t ON t.tenant_id = m.tenant_id AND t.id = m.team_id
			WHERE m.tenant_id = ` + tenantArg + ` AND m.user_id = users.id` + teams + ` OFFSET 0)`
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
