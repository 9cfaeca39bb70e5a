package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// fewMembers is the most memberships a selection's teams may hold for
// their members to be read with the team's check and the users then
// fetched by id, in a statement prepared once: for a small team planning
// the semi-join cost more than running it. Past it the planner decides
// (teamMembersCond), which is worth its planning: at a million users a
// subtree of a thousand members is best collected first, one of a
// hundred thousand by walking the sort's index.
const fewMembers = 200

// teamReach is what checkTeam found of a selection's teams: their
// members, when few.
type teamReach struct {
	few     bool
	members []string // distinct, when few
}

// Statements of checkTeam: the members of the selection's teams, read
// one past fewMembers, and whether they were few.
const (
	teamReachSQL = `SELECT $3::uuid[] IS NULL OR t.path && $3::uuid[], few.*
		FROM teams t, LATERAL (SELECT count(*) <= $5, array_agg(user_id) FROM (SELECT m.user_id FROM teams s
			JOIN team_members m ON m.tenant_id = s.tenant_id AND m.team_id = s.id
			WHERE s.tenant_id = $1 AND s.path @> ARRAY[t.id] AND ($3::uuid[] IS NULL OR s.path && $3::uuid[]) LIMIT $4) AS m) AS few
		WHERE t.tenant_id = $1 AND t.id = $2`
	scopeReachSQL = `SELECT count(*) <= $4, array_agg(user_id) FROM (SELECT m.user_id FROM teams s
		JOIN team_members m ON m.tenant_id = s.tenant_id AND m.team_id = s.id
		WHERE s.tenant_id = $1 AND s.path && $2::uuid[] LIMIT $3) AS m`
)

// checkTeam checks a selection's team: one of the tenant's (EINVALID
// naming field otherwise, another tenant's team included, as an unknown
// role is answered) and, for a caller whose scope is bounded, inside it
// (EFORBIDDEN). It reads the members of the selection's teams (the team's
// subtree within the scope) when there are at most fewMembers.
func checkTeam(ctx context.Context, db *DB, tenantID, field, team string, scope roster.UserScope) (teamReach, error) {
	var few bool
	var members []string
	switch {
	case team == "" && scope.All():
		return teamReach{}, nil
	case team == "":
		err := db.queryRow(ctx, scopeReachSQL, tenantID, scopeArray(scope), fewMembers+1, fewMembers).Scan(&few, pq.Array(&members))
		if err != nil {
			return teamReach{}, translate(err)
		}
	default:
		if msg := teamProblem(team); msg != "" || !isUUID(tenantID) {
			return teamReach{}, roster.Invalid(roster.FieldError{Field: field, Message: cmp.Or(msg, "is not a team of the tenant")})
		}
		var inScope bool
		err := db.queryRow(ctx, teamReachSQL, tenantID, team, scopeArray(scope), fewMembers+1, fewMembers).Scan(&inScope, &few, pq.Array(&members))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return teamReach{}, roster.Invalid(roster.FieldError{Field: field, Message: team + " is not a team of the tenant"})
		case err != nil:
			return teamReach{}, translate(err)
		case !inScope:
			return teamReach{}, roster.Errorf(roster.EFORBIDDEN, "team %s is not one of the teams you administer or below them", team)
		}
	}
	if !few {
		return teamReach{}, nil
	}
	return teamReach{few: true, members: DistinctIDs(members)}, nil
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
// narrows the selection. When checkTeam found the members few (reach),
// they are named by id, in a statement prepared once. Otherwise it is a
// semi-join over teams_path_idx and the team_members primary key, planned
// per value: for a subtree of many members PostgreSQL walks the sort's
// index and probes each user's teams (team_members_user_idx, teams_pkey),
// and for one it cannot know the size of (bulk actions, exports) it
// chooses between that and collecting the members first.
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
