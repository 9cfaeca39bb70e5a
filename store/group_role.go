package store

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// groupRolesKey is where a tenant's group-to-role mapping lives in its
// settings.
const groupRolesKey = "scim_group_roles"

// GroupRoles returns the tenant's group-to-role mapping.
func (s *TenantService) GroupRoles(ctx context.Context, tenantID string) (map[string]string, error) {
	return groupRoles(ctx, s.db.db, tenantID, false)
}

func groupRoles(ctx context.Context, q sqlx.QueryerContext, tenantID string, forUpdate bool) (map[string]string, error) {
	query := `SELECT coalesce(settings -> '` + groupRolesKey + `', '{}') FROM tenants WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var raw []byte
	if err := q.QueryRowxContext(ctx, query, tenantID).Scan(&raw); err != nil {
		return nil, notFound(translate(err), "tenant")
	}
	mapping := map[string]string{}
	if err := json.Unmarshal(raw, &mapping); err != nil {
		return nil, err
	}
	return mapping, nil
}

// SetGroupRoles replaces the mapping and re-derives the role of every member
// of a group it names, before or after. EINVALID, ECONFLICT.
func (s *TenantService) SetGroupRoles(ctx context.Context, tenantID string, by roster.Actor, mapping map[string]string) error {
	var fields []roster.FieldError
	for name, role := range mapping {
		if strings.TrimSpace(name) == "" {
			fields = append(fields, roster.FieldError{Field: "mappings", Message: "maps a group with no name to " + role})
		}
	}
	if len(fields) > 0 {
		return roster.Invalid(fields...)
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		for _, name := range slices.Sorted(maps.Keys(mapping)) {
			if err := checkRole(ctx, tx, tenantID, by, "mappings", mapping[name]); err != nil {
				return err
			}
		}
		old, err := groupRoles(ctx, tx, tenantID, true)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(mapping)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET settings = jsonb_set(settings, '{`+groupRolesKey+`}', $2), updated_at = $3 WHERE id = $1`,
			tenantID, string(raw), now); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, now, tenantID, by, roster.ActionTenantUpdated, "tenant", tenantID,
			map[string]any{groupRolesKey: map[string]any{"from": old, "to": mapping}}); err != nil {
			return err
		}
		names := slices.Collect(maps.Keys(old))
		names = append(names, slices.Collect(maps.Keys(mapping))...)
		var members []string
		err = sqlx.SelectContext(ctx, tx, &members, `
			SELECT DISTINCT m.user_id FROM group_members m
			JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
			WHERE m.tenant_id = $1 AND lower(g.display_name) = ANY($2)`, tenantID, pq.Array(lowered(names)))
		if err != nil {
			return translate(err)
		}
		return syncRoles(ctx, tx, now, tenantID, by, members, mapping)
	})
}

// syncRoles gives each of the users the highest role of the mapped groups
// they belong to (the tenant's default role when none), through updateUser so that the
// last-admin guard and the audit trail hold. Nothing happens when the tenant
// maps no group: roles are then managed by hand.
func syncRoles(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, userIDs []string, mapping map[string]string) error {
	if len(mapping) == 0 || len(userIDs) == 0 {
		return nil
	}
	grants, err := roleGrants(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	unmapped, err := newUserRole(ctx, tx, tenantID, "")
	if err != nil {
		return err
	}
	byName := map[string]string{}
	for name, role := range mapping {
		byName[strings.ToLower(name)] = role
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT u.id, coalesce(array_agg(lower(g.display_name)) FILTER (WHERE g.id IS NOT NULL), '{}')
		FROM users u
		LEFT JOIN group_members m ON m.tenant_id = u.tenant_id AND m.user_id = u.id
		LEFT JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
		WHERE u.tenant_id = $1 AND u.id = ANY($2::uuid[])
		GROUP BY u.id`, tenantID, pq.Array(userIDs))
	if err != nil {
		return translate(err)
	}
	want := map[string]string{}
	for rows.Next() {
		var id string
		var groups []string
		if err := rows.Scan(&id, pq.Array(&groups)); err != nil {
			rows.Close()
			return translate(err)
		}
		var roles []string
		for _, g := range groups {
			if role, ok := byName[g]; ok {
				roles = append(roles, role)
			}
		}
		want[id] = unmapped
		if len(roles) > 0 {
			want[id] = roster.HighestRole(roles, grants)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		role := want[id]
		if _, err := updateUser(ctx, tx, now, tenantID, by, id, 0, func(u *roster.User) error {
			u.Role = role
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func lowered(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}
