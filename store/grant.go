package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// grantExpiryActor writes the natural end of a grant to the audit trail.
var grantExpiryActor = roster.Actor{Type: roster.ActorSystem, ID: "grant-expiry"}

// liveGrant is the condition of a grant g that gives its role at $now:
// read at every check, so a grant stops at its second on every replica
// with no job to end it.
const liveGrant = `g.revoked_at IS NULL AND g.expires_at > `

const grantColumns = `id, user_id, role, reason, granted_by, created_at, expires_at, revoked_at`

func scanGrant(row interface{ Scan(...any) error }, now time.Time) (*roster.Grant, error) {
	var g roster.Grant
	if err := row.Scan(&g.ID, &g.UserID, &g.Role, &g.Reason, &g.GrantedBy, &g.CreatedAt, &g.ExpiresAt, &g.RevokedAt); err != nil {
		return nil, translate(err)
	}
	g.State = g.Status(now)
	return &g, nil
}

// CreateGrant gives a user a role until g.ExpiresAt, with its audit event.
// ENOTFOUND for the user, EINVALID, EFORBIDDEN, EPLAN.
func (s *RoleService) CreateGrant(ctx context.Context, tenantID string, by roster.Actor, in *roster.Grant) (*roster.Grant, error) {
	if !isUUID(in.UserID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	g := *in
	now := s.db.now()
	g.ExpiresAt = g.ExpiresAt.UTC().Truncate(time.Microsecond)
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := getUser(ctx, tx, tenantID, g.UserID, false); err != nil {
			return err
		}
		if err := requirePlan(ctx, tx, tenantID, "temporary grants"); err != nil {
			return err
		}
		if err := g.Validate(now); err != nil {
			return err
		}
		if err := checkRole(ctx, tx, tenantID, by, "role", g.Role); err != nil {
			return err
		}
		if err := auditExpiredGrants(ctx, tx, now, tenantID, g.UserID); err != nil {
			return err
		}
		g.ID, g.GrantedBy, g.CreatedAt, g.RevokedAt, g.State = newID(), by.Type+":"+by.ID, now, nil, roster.GrantActive
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_grants (tenant_id, `+grantColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
			tenantID, g.ID, g.UserID, g.Role, g.Reason, g.GrantedBy, now, g.ExpiresAt); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionGrantCreated, "user", g.UserID, map[string]any{
			"grant_id": g.ID, "role": g.Role, "reason": g.Reason, "expires_at": g.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// grantHistory is how long ended grants stay in a user's list.
const grantHistory = 30 * 24 * time.Hour

// FindGrants lists the user's grants, newest first: the live ones and
// those ended in the last 30 days. The natural ends not yet audited are
// audited first. ENOTFOUND for the user.
func (s *RoleService) FindGrants(ctx context.Context, tenantID, userID string) ([]*roster.Grant, error) {
	if !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var grants []*roster.Grant
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if _, err := getUser(ctx, tx, tenantID, userID, false); err != nil {
			return err
		}
		if err := auditExpiredGrants(ctx, tx, now, tenantID, userID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+grantColumns+` FROM role_grants
			WHERE tenant_id = $1 AND user_id = $2 AND expires_at > $3
			ORDER BY created_at DESC, id DESC LIMIT $4`, tenantID, userID, now.Add(-grantHistory), roster.MaxPageSize)
		if err != nil {
			return translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			g, err := scanGrant(rows, now)
			if err != nil {
				return err
			}
			grants = append(grants, g)
		}
		return translate(rows.Err())
	})
	return grants, err
}

// RevokeGrant ends a live grant now, with its audit event. ENOTFOUND,
// ECONFLICT when it has ended already.
func (s *RoleService) RevokeGrant(ctx context.Context, tenantID string, by roster.Actor, userID, id string) error {
	if !isUUID(userID) || !isUUID(id) {
		return roster.Errorf(roster.ENOTFOUND, "grant not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		g, err := scanGrant(tx.QueryRowxContext(ctx, `SELECT `+grantColumns+` FROM role_grants
			WHERE tenant_id = $1 AND user_id = $2 AND id = $3 FOR UPDATE`, tenantID, userID, id), now)
		if err != nil {
			return notFound(err, "grant")
		}
		if st := g.Status(now); st != roster.GrantActive {
			return roster.Errorf(roster.ECONFLICT, "the grant has ended already (%s)", st)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE role_grants SET revoked_at = $3, expiry_audited = true
			WHERE tenant_id = $1 AND id = $2`, tenantID, id, now); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionGrantRevoked, "user", userID, map[string]any{
			"grant_id": id, "role": g.Role, "expires_at": g.ExpiresAt})
	})
}

// auditExpiredGrants writes grant.expired for the user's grants that ran
// out since they were last looked at, so that a read of them shows their
// end at once; GrantExpiries records the others within a minute (the
// audit event's details hold when it happened).
func auditExpiredGrants(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID, userID string) error {
	_, err := recordEndedGrants(ctx, tx, now, `UPDATE role_grants SET expiry_audited = true
		WHERE tenant_id = $1 AND user_id = $2 AND NOT expiry_audited AND revoked_at IS NULL AND expires_at <= $3
		RETURNING `+endedGrantColumns, tenantID, userID, now)
	return err
}
