package store

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// authorizeTeamMembers is the one rule of who manages a team's members: a
// holder of teams:write, or an admin of the team or of a team above it.
// It reports whether the actor is allowed only as such an admin. Whoever
// is neither is refused whether or not the team exists. EFORBIDDEN.
func authorizeTeamMembers(ctx context.Context, q sqlx.QueryerContext, tenantID string, by roster.Actor, teamID string) (bool, error) {
	if roster.Holds(by.Permissions, roster.PermTeamsWrite) {
		return false, nil
	}
	if by.AsUser && isUUID(by.UserID) && isUUID(teamID) {
		var admin bool
		if err := q.QueryRowxContext(ctx, `SELECT EXISTS (SELECT 1 FROM teams t
			JOIN team_members a ON a.tenant_id = t.tenant_id AND a.team_id = ANY(t.path)
			WHERE t.tenant_id = $1 AND t.id = $2 AND a.user_id = $3 AND a.role = 'admin')`,
			tenantID, teamID, by.UserID).Scan(&admin); err != nil {
			return false, translate(err)
		}
		if admin {
			return true, nil
		}
	}
	return false, roster.Errorf(roster.EFORBIDDEN, "managing a team's members requires the %s permission, or being an admin of the team or of a team above it",
		roster.PermTeamsWrite)
}

// memberTeam reads and locks the team of a member change (see
// lockTeamForMembers) once the actor may make it. EFORBIDDEN, ENOTFOUND,
// EPLAN.
func memberTeam(ctx context.Context, tx *sqlx.Tx, tenantID string, by roster.Actor, teamID string) (*roster.Team, bool, error) {
	t, err := lockTeamForMembers(ctx, tx, tenantID, teamID)
	if err != nil && roster.ErrorCode(err) != roster.ENOTFOUND {
		return nil, false, err
	}
	asTeamAdmin, authErr := authorizeTeamMembers(ctx, tx, tenantID, by, teamID)
	if authErr != nil {
		return nil, false, authErr
	}
	if err != nil {
		return nil, false, err
	}
	return t, asTeamAdmin, checkPlan(ctx, tx, tenantID, teamsFeature, "")
}

// lockTeamForMembers reads a team for a change of its members: the team's
// row locked against other member changes of it and against moves, the
// rows of its ancestors against changes of the roles they give. ENOTFOUND.
func lockTeamForMembers(ctx context.Context, tx *sqlx.Tx, tenantID, id string) (*roster.Team, error) {
	t, err := getTeam(ctx, tx, tenantID, id, " FOR NO KEY UPDATE OF t")
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `SELECT 1 FROM teams WHERE tenant_id = $1 AND id = ANY($2::uuid[]) FOR SHARE`,
		tenantID, pq.Array(t.Path[:len(t.Path)-1]))
	return t, translate(err)
}

// memberCandidate reads the user someone is adding to a team: a user of
// the tenant and, for a team admin who may not read every user, one of the
// people in the teams they administer. ENOTFOUND otherwise, as for a user
// of another tenant.
func memberCandidate(ctx context.Context, q sqlx.QueryerContext, tenantID string, by roster.Actor, asTeamAdmin bool, userID string) (*roster.TeamMembership, error) {
	m := &roster.TeamMembership{UserID: userID}
	if !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	inScope := !asTeamAdmin || roster.Holds(by.Permissions, roster.PermUsersRead)
	err := q.QueryRowxContext(ctx, `SELECT u.email, coalesce(nullif(u.display_name, ''), u.user_name), $4 OR EXISTS (
			SELECT 1 FROM team_members a
			JOIN teams t ON t.tenant_id = a.tenant_id AND t.path @> ARRAY[a.team_id]
			JOIN team_members m ON m.tenant_id = t.tenant_id AND m.team_id = t.id
			WHERE a.tenant_id = $1 AND a.user_id = $3 AND a.role = 'admin' AND m.user_id = u.id)
		FROM users u WHERE u.tenant_id = $1 AND u.id = $2`, tenantID, userID, nullUUID(by.UserID), inScope).
		Scan(&m.Email, &m.DisplayName, &inScope)
	if err == nil && !inScope {
		err = roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return m, notFound(translate(err), "user")
}

// SetTeamMember adds a user to a team or changes their role there, with
// its audit event. EINVALID, ENOTFOUND, EFORBIDDEN, EPLAN.
func (s *TeamService) SetTeamMember(ctx context.Context, tenantID string, by roster.Actor, teamID, userID, role string) (*roster.TeamMembership, bool, error) {
	if !roster.IsTeamRole(role) {
		return nil, false, roster.Invalid(roster.FieldError{Field: "role", Message: "must be member or admin"})
	}
	var m *roster.TeamMembership
	var added bool
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, asTeamAdmin, err := memberTeam(ctx, tx, tenantID, by, teamID)
		if err != nil {
			return err
		}
		if m, err = memberCandidate(ctx, tx, tenantID, by, asTeamAdmin, userID); err != nil {
			return err
		}
		m.TeamID, m.Role = t.ID, role
		var was string
		err = tx.QueryRowxContext(ctx, `SELECT role, created_at FROM team_members WHERE tenant_id = $1 AND team_id = $2 AND user_id = $3`,
			tenantID, t.ID, userID).Scan(&was, &m.CreatedAt)
		now := s.db.now()
		switch {
		case roster.ErrorCode(translate(err)) == roster.ENOTFOUND:
			added = true
			if err := s.addMember(ctx, tx, now, tenantID, by, t, m); err != nil {
				return err
			}
		case err != nil:
			return translate(err)
		case was != role:
			if _, err := tx.ExecContext(ctx, `UPDATE team_members SET role = $4 WHERE tenant_id = $1 AND team_id = $2 AND user_id = $3`,
				tenantID, t.ID, userID, role); err != nil {
				return translate(err)
			}
			return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTeamMemberChanged, "team", t.ID,
				map[string]any{"name": t.Name, "user_id": userID, "changes": map[string]any{"role": map[string]any{"from": was, "to": role}}})
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return m, added, nil
}

// addMember stores a new membership: the user gains the roles of the team
// and of every team above it, which a bounded actor must hold.
func (s *TeamService) addMember(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, t *roster.Team, m *roster.TeamMembership) error {
	roles, err := teamRoles(ctx, tx, tenantID, t.Path)
	if err != nil {
		return err
	}
	if err := checkTeamRolesWithin(ctx, tx, tenantID, by, roles, "add "+m.Email+" to the team "+t.Name); err != nil {
		return err
	}
	m.CreatedAt = now
	if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, t.ID, m.UserID, m.Role, now); err != nil {
		return translate(err)
	}
	return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTeamMemberAdded, "team", t.ID,
		map[string]any{"name": t.Name, "user_id": m.UserID, "role": m.Role})
}

// RemoveTeamMember takes a user out of a team, with its audit event: they
// lose what the team gave them, which a bounded actor must hold.
// ENOTFOUND, EFORBIDDEN, EPLAN.
func (s *TeamService) RemoveTeamMember(ctx context.Context, tenantID string, by roster.Actor, teamID, userID string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, _, err := memberTeam(ctx, tx, tenantID, by, teamID)
		if err != nil {
			return err
		}
		var role string
		if !isUUID(userID) {
			return roster.Errorf(roster.ENOTFOUND, "the user is no member of the team")
		}
		if err := tx.QueryRowxContext(ctx, `SELECT role FROM team_members WHERE tenant_id = $1 AND team_id = $2 AND user_id = $3`,
			tenantID, t.ID, userID).Scan(&role); err != nil {
			return notFound(translate(err), "team member")
		}
		roles, err := teamRoles(ctx, tx, tenantID, t.Path)
		if err != nil {
			return err
		}
		if err := checkTeamRolesWithin(ctx, tx, tenantID, by, roles, "remove a member from the team "+t.Name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE tenant_id = $1 AND team_id = $2 AND user_id = $3`,
			tenantID, t.ID, userID); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionTeamMemberRemoved, "team", t.ID,
			map[string]any{"name": t.Name, "user_id": userID, "role": role})
	})
}

// FindTeamMembers lists a team's members, and with f.Subteams those of
// the teams below it (found on teams_path_idx), by user id then team id.
// ENOTFOUND, EINVALID for a bad cursor or limit.
func (s *TeamService) FindTeamMembers(ctx context.Context, tenantID, teamID string, f roster.TeamMemberFilter) (*roster.TeamMemberPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	t, err := getTeam(ctx, s.db.db, tenantID, teamID, "")
	if err != nil {
		return nil, err
	}
	q := &sqlBuilder{}
	tenant := q.arg(tenantID)
	where := []string{"m.tenant_id = " + tenant}
	if f.Subteams {
		where = append(where, "m.team_id IN (SELECT id FROM teams WHERE tenant_id = "+tenant+" AND path @> ARRAY["+q.arg(t.ID)+"::uuid])")
	} else {
		where = append(where, "m.team_id = "+q.arg(t.ID))
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "team_members", 2)
		if err != nil {
			return nil, err
		}
		if !isUUID(c.Keys[0]) || !isUUID(c.Keys[1]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		where = append(where, "(m.user_id, m.team_id) > ("+q.arg(c.Keys[0])+"::uuid, "+q.arg(c.Keys[1])+"::uuid)")
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT m.team_id, m.user_id, u.email, coalesce(nullif(u.display_name, ''), u.user_name),
			m.role, m.created_at
		FROM team_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.user_id, m.team_id LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	page := &roster.TeamMemberPage{Items: []*roster.TeamMembership{}}
	for rows.Next() {
		var m roster.TeamMembership
		if err := rows.Scan(&m.TeamID, &m.UserID, &m.Email, &m.DisplayName, &m.Role, &m.CreatedAt); err != nil {
			return nil, translate(err)
		}
		page.Items = append(page.Items, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = cursor{Sort: "team_members", Keys: []string{last.UserID, last.TeamID}}.encode()
	}
	return page, nil
}
