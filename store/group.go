package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.GroupService = (*GroupService)(nil)

// GroupService is the PostgreSQL implementation of roster.GroupService.
type GroupService struct {
	db *DB
}

// NewGroupService returns a GroupService on db.
func NewGroupService(db *DB) *GroupService {
	return &GroupService{db: db}
}

const groupColumns = `id, tenant_id, display_name, external_id, created_at, updated_at, version`

func groupFields(g *roster.Group) []any {
	return []any{&g.ID, &g.TenantID, &g.DisplayName, &g.ExternalID, &g.CreatedAt, &g.UpdatedAt, &g.Version}
}

// auditedMembers caps the member ids an audit event lists; the counts are
// always complete.
const auditedMembers = 100

// CreateGroup stores a group and its members in one transaction. EINVALID
// (also for a member who is not a user of the tenant), ECONFLICT.
func (s *GroupService) CreateGroup(ctx context.Context, tenantID string, by roster.Actor, in *roster.Group) (*roster.Group, error) {
	g := *in
	g.Normalize()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	memberIDs := make([]string, len(g.Members))
	for i, m := range g.Members {
		memberIDs[i] = m.UserID
	}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		g.ID, g.TenantID, g.CreatedAt, g.UpdatedAt, g.Version = newID(), tenantID, now, now, 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO groups (`+groupColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			g.ID, g.TenantID, g.DisplayName, g.ExternalID, g.CreatedAt, g.UpdatedAt, g.Version); err != nil {
			return err
		}
		added, err := addMembers(ctx, tx, now, tenantID, g.ID, memberIDs)
		if err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, now, tenantID, by, roster.ActionGroupCreated, "group", g.ID, map[string]any{
			"display_name": g.DisplayName, "members_added": len(added), "members": capped(added),
		}); err != nil {
			return err
		}
		return syncGroupRoles(ctx, tx, now, tenantID, by, added, nil)
	})
	if err != nil {
		return nil, err
	}
	g.Members = nil
	return &g, nil
}

// FindGroupByID returns a group, with its members when withMembers. ENOTFOUND.
func (s *GroupService) FindGroupByID(ctx context.Context, tenantID, id string, withMembers bool) (*roster.Group, error) {
	g, err := getGroup(ctx, s.db.db, tenantID, id, false)
	if err != nil || !withMembers {
		return g, err
	}
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT `+groupMemberColumns+`
		FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
		WHERE m.tenant_id = $1 AND m.group_id = $2
		ORDER BY m.created_at, m.user_id`, tenantID, id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	g.Members = []roster.GroupMember{}
	for rows.Next() {
		var m roster.GroupMember
		if err := rows.Scan(groupMemberFields(&m)...); err != nil {
			return nil, translate(err)
		}
		g.Members = append(g.Members, m)
	}
	return g, translate(rows.Err())
}

func getGroup(ctx context.Context, q sqlx.QueryerContext, tenantID, id string, forUpdate bool) (*roster.Group, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "group not found")
	}
	query := `SELECT ` + groupColumns + ` FROM groups WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var g roster.Group
	if err := q.QueryRowxContext(ctx, query, tenantID, id).Scan(groupFields(&g)...); err != nil {
		return nil, notFound(translate(err), "group")
	}
	return &g, nil
}

var groupSortColumns = map[string]string{
	roster.AttrID:          "id",
	roster.AttrDisplayName: "lower(display_name)",
	roster.AttrExternalID:  "external_id",
	roster.AttrCreatedAt:   "created_at",
	roster.AttrUpdatedAt:   "updated_at",
}

// QueryGroups returns a window of groups, without members, and the total.
func (s *GroupService) QueryGroups(ctx context.Context, tenantID string, q roster.GroupQuery) ([]*roster.Group, int, error) {
	b := &sqlBuilder{}
	where := "tenant_id = " + b.arg(tenantID)
	if q.Where != nil {
		cond, err := groupWhere(q.Where, b)
		if err != nil {
			return nil, 0, err
		}
		where += " AND (" + cond + ")"
	}
	order, err := queryOrder(groupSortColumns, q.SortBy, q.Descending)
	if err != nil {
		return nil, 0, err
	}
	return queryWindow(ctx, s.db, "groups", groupColumns, where, order, b, q.Offset, q.Count,
		func(rows *sql.Rows) (*roster.Group, error) {
			var g roster.Group
			return &g, rows.Scan(groupFields(&g)...)
		})
}

// UpdateGroup applies changes in order to the locked group, in one
// transaction. Member changes touch only the members they name.
func (s *GroupService) UpdateGroup(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64, changes []roster.GroupChange) (*roster.Group, error) {
	var updated *roster.Group
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		before, err := getGroup(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if err := checkVersion("group", ifVersion, before.Version); err != nil {
			return err
		}
		after := *before
		var added, removed []string
		for _, c := range changes {
			if c.DisplayName != nil {
				after.DisplayName = *c.DisplayName
			}
			if c.ClearExternalID {
				after.ExternalID = nil
			} else if c.ExternalID != nil {
				after.ExternalID = c.ExternalID
			}
			if c.ReplaceMembers {
				gone, err := removeMembersExcept(ctx, tx, tenantID, id, c.Members)
				if err != nil {
					return err
				}
				removed = append(removed, gone...)
				c.AddMembers = append(c.AddMembers, c.Members...)
			}
			gone, err := removeMembers(ctx, tx, tenantID, id, c.RemoveMembers)
			if err != nil {
				return err
			}
			removed = append(removed, gone...)
			ins, err := addMembers(ctx, tx, now, tenantID, id, c.AddMembers)
			if err != nil {
				return err
			}
			added = append(added, ins...)
		}
		after.Normalize()
		if err := after.Validate(); err != nil {
			return err
		}
		renamed := after.DisplayName != before.DisplayName || deref(after.ExternalID) != deref(before.ExternalID)
		if !renamed && len(added) == 0 && len(removed) == 0 {
			updated = before
			return nil
		}
		after.UpdatedAt, after.Version = now, before.Version+1
		if _, err := tx.ExecContext(ctx, `
			UPDATE groups SET display_name = $3, external_id = $4, updated_at = $5, version = $6
			WHERE tenant_id = $1 AND id = $2`,
			tenantID, id, after.DisplayName, after.ExternalID, after.UpdatedAt, after.Version); err != nil {
			return err
		}
		updated = &after
		details := map[string]any{"members_added": len(added), "members_removed": len(removed)}
		if renamed {
			details["display_name"] = map[string]any{"from": before.DisplayName, "to": after.DisplayName}
			details["external_id"] = map[string]any{"from": deref(before.ExternalID), "to": deref(after.ExternalID)}
		}
		if len(added) > 0 {
			details["added"] = capped(added)
		}
		if len(removed) > 0 {
			details["removed"] = capped(removed)
		}
		if err := insertAudit(ctx, tx, now, tenantID, by, roster.ActionGroupUpdated, "group", id, details); err != nil {
			return err
		}
		affected := append(added, removed...)
		var renamedFrom []string
		if renamed {
			renamedFrom = []string{before.DisplayName, after.DisplayName}
		}
		return syncGroupRoles(ctx, tx, now, tenantID, by, affected, &groupRename{id: id, names: renamedFrom})
	})
	return updated, err
}

// DeleteGroup removes a group; its memberships go with it. ENOTFOUND,
// EPRECONDITION.
func (s *GroupService) DeleteGroup(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		g, err := getGroup(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if err := checkVersion("group", ifVersion, g.Version); err != nil {
			return err
		}
		var members []string
		if err := sqlx.SelectContext(ctx, tx, &members, `
			DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 RETURNING user_id`, tenantID, id); err != nil {
			return translate(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		now := s.db.now()
		if err := insertAudit(ctx, tx, now, tenantID, by, roster.ActionGroupDeleted, "group", id,
			map[string]any{"display_name": g.DisplayName, "members_removed": len(members)}); err != nil {
			return err
		}
		return syncGroupRoles(ctx, tx, now, tenantID, by, members, nil)
	})
}

// addMembers adds the users to the group, ignoring those already in it, and
// returns the ids it added. EINVALID naming "members" when an id is not a
// user of the tenant.
func addMembers(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID, groupID string, userIDs []string) ([]string, error) {
	ids, err := memberIDs(userIDs)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var found []string
	err = sqlx.SelectContext(ctx, tx, &found, `
		SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, tenantID, pq.Array(ids))
	if err != nil {
		return nil, translate(err)
	}
	if len(found) < len(ids) {
		for _, id := range ids {
			if !slices.Contains(found, id) {
				return nil, roster.Invalid(roster.FieldError{Field: "members", Message: "no user " + id + " in this tenant"})
			}
		}
	}
	var added []string
	err = sqlx.SelectContext(ctx, tx, &added, `
		INSERT INTO group_members (tenant_id, group_id, user_id, created_at)
		SELECT $1, $2, unnest($3::uuid[]), $4
		ON CONFLICT DO NOTHING
		RETURNING user_id`, tenantID, groupID, pq.Array(ids), now)
	return added, translate(err)
}

// removeMembers removes the users from the group and returns those that
// were in it.
func removeMembers(ctx context.Context, tx sqlx.ExtContext, tenantID, groupID string, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	ids := validUUIDs(userIDs) // an id that is not a UUID is in no group
	var removed []string
	err := sqlx.SelectContext(ctx, tx, &removed, `
		DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = ANY($3::uuid[])
		RETURNING user_id`, tenantID, groupID, pq.Array(ids))
	return removed, translate(err)
}

// removeMembersExcept removes every member not in keep.
func removeMembersExcept(ctx context.Context, tx sqlx.ExtContext, tenantID, groupID string, keep []string) ([]string, error) {
	var removed []string
	err := sqlx.SelectContext(ctx, tx, &removed, `
		DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND NOT (user_id = ANY($3::uuid[]))
		RETURNING user_id`, tenantID, groupID, pq.Array(validUUIDs(keep)))
	return removed, translate(err)
}

// memberIDs de-duplicates ids and refuses any that is not a UUID.
func memberIDs(userIDs []string) ([]string, error) {
	var ids []string
	for _, id := range userIDs {
		if !isUUID(id) {
			return nil, roster.Invalid(roster.FieldError{Field: "members", Message: fmt.Sprintf("no user %q in this tenant", id)})
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func validUUIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if isUUID(id) {
			out = append(out, id)
		}
	}
	return out
}

// groupRename is a group whose display name changed, from names[0] to
// names[1]: when either is mapped to a role, every member is affected.
type groupRename struct {
	id    string
	names []string
}

// syncGroupRoles re-derives the roles of the users a membership change
// touched, when the tenant maps groups to roles.
func syncGroupRoles(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, userIDs []string, rename *groupRename) error {
	mapping, err := groupRoles(ctx, tx, tenantID, false)
	if err != nil || len(mapping) == 0 {
		return err
	}
	if rename != nil && len(rename.names) == 2 && (isMapped(mapping, rename.names[0]) || isMapped(mapping, rename.names[1])) {
		var members []string
		if err := sqlx.SelectContext(ctx, tx, &members, `
			SELECT user_id FROM group_members WHERE tenant_id = $1 AND group_id = $2`, tenantID, rename.id); err != nil {
			return translate(err)
		}
		userIDs = append(userIDs, members...)
	}
	return syncRoles(ctx, tx, now, tenantID, by, userIDs, mapping)
}

func isMapped(mapping map[string]string, name string) bool {
	for k := range mapping {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func capped(ids []string) []string {
	if len(ids) > auditedMembers {
		return ids[:auditedMembers]
	}
	return ids
}
