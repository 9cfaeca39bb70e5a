package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.TeamService = (*TeamService)(nil)

// TeamService is the PostgreSQL implementation of roster.TeamService.
type TeamService struct {
	db *DB
}

// NewTeamService returns a TeamService on db.
func NewTeamService(db *DB) *TeamService {
	return &TeamService{db: db}
}

// teamsFeature names teams in the plan check's refusal.
const teamsFeature = "teams"

// teamColumns read a team of teams t, its direct members counted on the
// team_members primary key.
const teamColumns = `t.id, t.parent_id, t.name, t.description, t.roles, t.path, t.created_at, t.updated_at, t.version,
	(SELECT count(*) FROM team_members m WHERE m.tenant_id = t.tenant_id AND m.team_id = t.id)`

func scanTeam(row interface{ Scan(...any) error }) (*roster.Team, error) {
	var t roster.Team
	var parent sql.NullString
	if err := row.Scan(&t.ID, &parent, &t.Name, &t.Description, pq.Array(&t.Roles), pq.Array(&t.Path),
		&t.CreatedAt, &t.UpdatedAt, &t.Version, &t.MemberCount); err != nil {
		return nil, translate(err)
	}
	if parent.Valid {
		t.ParentID = &parent.String
	}
	return &t, nil
}

// getTeam reads one team of the tenant, with lock as its row lock clause
// (such as " FOR UPDATE OF t") or "". ENOTFOUND.
func getTeam(ctx context.Context, q sqlx.QueryerContext, tenantID, id, lock string) (*roster.Team, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "team not found")
	}
	t, err := scanTeam(q.QueryRowxContext(ctx, `SELECT `+teamColumns+` FROM teams t WHERE t.tenant_id = $1 AND t.id = $2`+lock,
		tenantID, id))
	return t, notFound(err, "team")
}

// getParent reads the team named as a parent: EINVALID naming parent_id
// for a value that is no id, ENOTFOUND naming it for no team of the
// tenant, as a team of another tenant is.
func getParent(ctx context.Context, q sqlx.QueryerContext, tenantID, id string) (*roster.Team, error) {
	if !isUUID(id) {
		return nil, roster.Invalid(roster.FieldError{Field: "parent_id", Message: "must be a team's id"})
	}
	t, err := getTeam(ctx, q, tenantID, id, "")
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, &roster.Error{Code: roster.ENOTFOUND, Message: "parent_id: no such team",
			Fields: []roster.FieldError{{Field: "parent_id", Message: "is no team of the tenant"}}}
	}
	return t, err
}

// teamTreeLock is the class of the transaction advisory lock, one per
// tenant, under which a tenant's teams are created, moved and deleted: two
// concurrent moves could otherwise each pass the cycle and depth checks
// and together make a cycle or a subtree too deep.
const teamTreeLock = 0x5465616d // "Team"

func lockTeamTree(ctx context.Context, tx *sqlx.Tx, tenantID string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, teamTreeLock, tenantID)
	return translate(err)
}

// lockTeamForChange reads a team to change or delete, under the tenant's
// tree lock and with its row locked. ENOTFOUND, EPRECONDITION for a stale
// ifVersion, EPLAN.
func lockTeamForChange(ctx context.Context, tx *sqlx.Tx, tenantID, id string, ifVersion int64) (*roster.Team, error) {
	if err := lockTeamTree(ctx, tx, tenantID); err != nil {
		return nil, err
	}
	t, err := getTeam(ctx, tx, tenantID, id, " FOR UPDATE OF t")
	if err != nil {
		return nil, err
	}
	if err := checkVersion("team", ifVersion, t.Version); err != nil {
		return nil, err
	}
	return t, checkPlan(ctx, tx, tenantID, teamsFeature, "")
}

// FindTeam returns one team. ENOTFOUND.
func (s *TeamService) FindTeam(ctx context.Context, tenantID, id string) (*roster.Team, error) {
	return getTeam(ctx, s.db.db, tenantID, id, "")
}

// FindTeams lists teams ordered by name, keyed on lower(name), which is
// unique in the tenant (teams_name_key, teams_parent_idx). EINVALID for a
// bad filter, cursor or limit, ENOTFOUND naming parent_id.
func (s *TeamService) FindTeams(ctx context.Context, tenantID string, f roster.TeamFilter) (*roster.TeamPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	q := &sqlBuilder{}
	where := []string{"t.tenant_id = " + q.arg(tenantID)}
	switch {
	case f.ParentID != "" && f.TopLevel != nil:
		return nil, roster.Invalid(roster.FieldError{Field: "top_level", Message: "cannot be combined with parent_id"})
	case f.ParentID != "":
		if _, err := getParent(ctx, s.db.db, tenantID, f.ParentID); err != nil {
			return nil, err
		}
		where = append(where, "t.parent_id = "+q.arg(f.ParentID))
	case f.TopLevel != nil && *f.TopLevel:
		where = append(where, "t.parent_id IS NULL")
	case f.TopLevel != nil:
		where = append(where, "t.parent_id IS NOT NULL")
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "teams", 1)
		if err != nil {
			return nil, err
		}
		if !validKey(c.Keys[0], "text") {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		where = append(where, "lower(t.name) > lower("+q.arg(c.Keys[0])+")")
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams t WHERE `+strings.Join(where, " AND ")+
		` ORDER BY lower(t.name) LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	page := &roster.TeamPage{Items: []*roster.Team{}}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, t)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = cursor{Sort: "teams", Keys: []string{page.Items[limit-1].Name}}.encode()
	}
	return page, nil
}

// CreateTeam stores a team with its audit event. EINVALID, ENOTFOUND
// naming parent_id, ECONFLICT, EFORBIDDEN, EPLAN.
func (s *TeamService) CreateTeam(ctx context.Context, tenantID string, by roster.Actor, in *roster.Team) (*roster.Team, error) {
	t := *in
	t.Roles = slices.Clone(in.Roles)
	t.Normalize()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkPlan(ctx, tx, tenantID, teamsFeature, ""); err != nil {
			return err
		}
		if err := lockTeamTree(ctx, tx, tenantID); err != nil {
			return err
		}
		for _, r := range t.Roles {
			if err := checkRole(ctx, tx, tenantID, by, "roles", r); err != nil {
				return err
			}
		}
		t.ID = newID()
		t.Path = []string{t.ID}
		if t.ParentID != nil {
			parent, err := getParent(ctx, tx, tenantID, *t.ParentID)
			if err != nil {
				return err
			}
			if parent.Depth() >= roster.MaxTeamDepth {
				return tooDeep(roster.Errorf(roster.ECONFLICT, "the team %s is %d levels deep, the most teams nest", parent.Name, parent.Depth()))
			}
			t.Path = append(slices.Clone(parent.Path), t.ID)
		}
		now := s.db.now()
		t.CreatedAt, t.UpdatedAt, t.Version, t.MemberCount = now, now, 1, 0
		if _, err := tx.ExecContext(ctx, `INSERT INTO teams (tenant_id, id, parent_id, name, description, roles, path, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, tenantID, t.ID, t.ParentID, t.Name, t.Description,
			pq.Array(t.Roles), pq.Array(t.Path), now); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTeamCreated, "team", t.ID,
			map[string]any{"name": t.Name, "parent_id": t.ParentID, "roles": t.Roles})
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// tooDeep names parent_id in a conflict over where a team goes.
func tooDeep(err *roster.Error) *roster.Error {
	err.Fields = []roster.FieldError{{Field: "parent_id", Message: err.Message}}
	return err
}

// UpdateTeam changes a team; a move rewrites the path of every team of its
// subtree in one statement, under the tenant's tree lock. ENOTFOUND,
// EINVALID, ECONFLICT, EPRECONDITION, EFORBIDDEN, EPLAN.
func (s *TeamService) UpdateTeam(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64, u roster.TeamUpdate) (*roster.Team, error) {
	var updated *roster.Team
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		before, err := lockTeamForChange(ctx, tx, tenantID, id, ifVersion)
		if err != nil {
			return err
		}
		after := *before
		after.Roles = slices.Clone(before.Roles)
		if u.Name != nil {
			after.Name = *u.Name
		}
		if u.Description != nil {
			after.Description = *u.Description
		}
		if u.Roles != nil {
			after.Roles = slices.Clone(u.Roles)
		}
		after.Normalize()
		if err := after.Validate(); err != nil {
			return err
		}
		// Adding a role gives it to every member below; taking one away
		// demotes them: either is the actor's only within their own.
		for _, r := range changedRoles(before.Roles, after.Roles) {
			if err := checkRole(ctx, tx, tenantID, by, "roles", r); err != nil {
				return err
			}
		}
		if u.Moves() {
			if err := s.planMove(ctx, tx, tenantID, by, before, &after, u); err != nil {
				return err
			}
		}
		changes := teamChanges(before, &after)
		if len(changes) == 0 {
			updated = before
			return nil
		}
		now := s.db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE teams SET name = $3, description = $4, roles = $5, parent_id = $6,
			updated_at = $7, version = version + 1 WHERE tenant_id = $1 AND id = $2`,
			tenantID, before.ID, after.Name, after.Description, pq.Array(after.Roles), after.ParentID, now); err != nil {
			return translate(err)
		}
		if !slices.Equal(before.Path, after.Path) {
			// Every team whose path holds the team's id: its own path's
			// tail from the team on, under the new ancestors.
			if _, err := tx.ExecContext(ctx, `UPDATE teams SET path = $3::uuid[] || path[$4:],
				updated_at = $5, version = version + CASE WHEN id = $2 THEN 0 ELSE 1 END
				WHERE tenant_id = $1 AND path @> ARRAY[$2::uuid]`,
				tenantID, before.ID, pq.Array(after.Path[:len(after.Path)-1]), before.Depth(), now); err != nil {
				return translate(err)
			}
		}
		if updated, err = getTeam(ctx, tx, tenantID, before.ID, ""); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTeamUpdated, "team", before.ID,
			map[string]any{"name": after.Name, "changes": changes})
	})
	return updated, err
}

// planMove checks a move of before to the parent u names and sets after's
// parent and path: no cycle, no team of the subtree deeper than
// MaxTeamDepth, and the roles its members gain or lose with their new
// ancestors within a bounded actor's own. ENOTFOUND or EINVALID naming
// parent_id, ECONFLICT, EFORBIDDEN.
func (s *TeamService) planMove(ctx context.Context, tx *sqlx.Tx, tenantID string, by roster.Actor, before, after *roster.Team, u roster.TeamUpdate) error {
	after.ParentID, after.Path = nil, []string{before.ID}
	if u.ParentID != nil {
		parent, err := getParent(ctx, tx, tenantID, *u.ParentID)
		if err != nil {
			return err
		}
		if slices.Contains(parent.Path, before.ID) {
			return tooDeep(roster.Errorf(roster.ECONFLICT, "the team %s cannot go under itself or one of its subteams (%s)", before.Name, parent.Name))
		}
		after.ParentID, after.Path = &parent.ID, append(slices.Clone(parent.Path), before.ID)
	}
	if slices.Equal(before.Path, after.Path) {
		return nil
	}
	var deepest int
	if err := tx.QueryRowxContext(ctx, `SELECT max(cardinality(path)) FROM teams WHERE tenant_id = $1 AND path @> ARRAY[$2::uuid]`,
		tenantID, before.ID).Scan(&deepest); err != nil {
		return translate(err)
	}
	if depth := deepest - before.Depth() + after.Depth(); depth > roster.MaxTeamDepth {
		return tooDeep(roster.Errorf(roster.ECONFLICT, "the move would put the team %s's subteams %d levels deep, more than the %d teams nest",
			before.Name, depth, roster.MaxTeamDepth))
	}
	oldRoles, err := teamRoles(ctx, tx, tenantID, before.Path[:len(before.Path)-1])
	if err != nil {
		return err
	}
	newRoles, err := teamRoles(ctx, tx, tenantID, after.Path[:len(after.Path)-1])
	if err != nil {
		return err
	}
	return checkTeamRolesWithin(ctx, tx, tenantID, by, changedRoles(oldRoles, newRoles), "move the team "+before.Name)
}

// changedRoles are the roles in one of a and b but not the other, sorted.
func changedRoles(a, b []string) []string {
	var changed []string
	for _, r := range a {
		if !slices.Contains(b, r) {
			changed = append(changed, r)
		}
	}
	for _, r := range b {
		if !slices.Contains(a, r) {
			changed = append(changed, r)
		}
	}
	slices.Sort(changed)
	return slices.Compact(changed)
}

// teamChanges lists what differs between before and after as the audit
// event's changes, each field's from and to.
func teamChanges(before, after *roster.Team) map[string]any {
	changes := map[string]any{}
	diff := func(field string, from, to any, same bool) {
		if !same {
			changes[field] = map[string]any{"from": from, "to": to}
		}
	}
	diff("name", before.Name, after.Name, before.Name == after.Name)
	diff("description", before.Description, after.Description, before.Description == after.Description)
	diff("roles", before.Roles, after.Roles, slices.Equal(before.Roles, after.Roles))
	diff("parent_id", before.ParentID, after.ParentID, slices.Equal(before.Path, after.Path))
	return changes
}

// DeleteTeam removes a team without subteams; its memberships go with it.
// ENOTFOUND, ECONFLICT, EPRECONDITION, EFORBIDDEN, EPLAN.
func (s *TeamService) DeleteTeam(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, err := lockTeamForChange(ctx, tx, tenantID, id, ifVersion)
		if err != nil {
			return err
		}
		var children int64
		if err := tx.QueryRowxContext(ctx, `SELECT count(*) FROM teams WHERE tenant_id = $1 AND parent_id = $2`,
			tenantID, t.ID).Scan(&children); err != nil {
			return translate(err)
		}
		if children > 0 {
			return roster.Errorf(roster.ECONFLICT, "the team %s has %d %s: move or delete %s first",
				t.Name, children, plural(children, "subteam", "subteams"), plural(children, "it", "them"))
		}
		if t.MemberCount > 0 {
			roles, err := teamRoles(ctx, tx, tenantID, t.Path)
			if err != nil {
				return err
			}
			if err := checkTeamRolesWithin(ctx, tx, tenantID, by, roles, "delete the team "+t.Name); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE tenant_id = $1 AND id = $2`, tenantID, t.ID); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionTeamDeleted, "team", t.ID,
			map[string]any{"name": t.Name, "parent_id": t.ParentID, "roles": t.Roles, "members": t.MemberCount})
	})
}

// teamRoles are the roles the teams of path give, sorted: what a member
// of the path's last team holds through it.
func teamRoles(ctx context.Context, q sqlx.QueryerContext, tenantID string, path []string) ([]string, error) {
	var roles []string
	err := q.QueryRowxContext(ctx, `SELECT coalesce(array_agg(DISTINCT r ORDER BY r), '{}') FROM teams t, unnest(t.roles) r
		WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])`, tenantID, pq.Array(path)).Scan(pq.Array(&roles))
	return roles, translate(err)
}

// checkTeamRolesWithin refuses a bounded actor a change (what) by which
// people gain or lose roles beyond the actor's own permissions.
// EFORBIDDEN.
func checkTeamRolesWithin(ctx context.Context, q sqlx.QueryerContext, tenantID string, by roster.Actor, roles []string, what string) error {
	if !by.Bounded {
		return nil
	}
	for _, r := range roles {
		perms, _, err := readRole(ctx, q, tenantID, r, " FOR SHARE")
		if err != nil {
			return err
		}
		if err := checkWithin(by, perms, what+", which gives the role "+r); err != nil {
			return err
		}
	}
	return nil
}
