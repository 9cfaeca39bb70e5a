package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/rosterhq/roster"
)

var _ roster.Purger = (*PurgeService)(nil)

// PurgeService is the PostgreSQL implementation of roster.Purger.
type PurgeService struct{ db *DB }

// NewPurgeService returns a PurgeService on db.
func NewPurgeService(db *DB) *PurgeService { return &PurgeService{db: db} }

// purgeLock is the advisory lock one purge holds across replicas.
const purgeLock = 0x526f737465725075 // "RosterPu"

// purgeBatch is how many rows a purge deletes a statement.
const purgeBatch = 5000

// Purge deletes, tenant by tenant, audit events and sign-ins older than
// the tenant's retention, then expired second-factor challenges and
// WebAuthn ceremonies and mail finished MailRetentionDays ago that no
// invitation names. Old rows are found through their time-ordered ids
// (UUIDv7) on the primary key, and the time column confirms each, so no
// purge reads a tenant's whole history.
func (s *PurgeService) Purge(ctx context.Context, dryRun bool) (*roster.PurgeReport, bool, error) {
	conn, err := s.db.db.Conn(ctx)
	if err != nil {
		return nil, false, translate(err)
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(purgeLock)).Scan(&locked); err != nil {
		return nil, false, translate(err)
	}
	if !locked {
		return nil, false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(purgeLock)) //nolint:errcheck // the session's end releases it too

	now := s.db.now()
	rep := &roster.PurgeReport{}
	after := "00000000-0000-0000-0000-000000000000"
	for {
		var tenants []struct {
			ID          string `db:"id"`
			AuditDays   int    `db:"audit_days"`
			SignInsDays int    `db:"sign_ins_days"`
		}
		if err := s.db.db.SelectContext(ctx, &tenants, `SELECT id,
				coalesce((settings -> '`+securityPolicyKey+`' ->> 'audit_retention_days')::int, $2) AS audit_days,
				coalesce((settings -> '`+securityPolicyKey+`' ->> 'sign_in_retention_days')::int, $3) AS sign_ins_days
			FROM tenants WHERE id > $1 ORDER BY id LIMIT 500`, after, roster.DefaultAuditRetentionDays, roster.DefaultSignInRetentionDays); err != nil {
			return nil, true, translate(err)
		}
		for _, t := range tenants {
			for _, old := range []struct {
				table, at string
				days      int
				n         *int64
			}{
				{"audit_events", "occurred_at", t.AuditDays, &rep.AuditEvents},
				{"sign_ins", "at", t.SignInsDays, &rep.SignIns},
			} {
				n, err := s.purgeOlder(ctx, dryRun, old.table, old.at, t.ID, now.AddDate(0, 0, -old.days))
				if err != nil {
					return nil, true, err
				}
				*old.n += n
			}
			after = t.ID
		}
		if len(tenants) < 500 {
			break
		}
	}
	for _, expired := range []struct {
		table, key string
		n          *int64
	}{
		{"webauthn_sessions", "tenant_id, id", &rep.WebAuthnSessions},
		{"mfa_challenges", "tenant_id, id", &rep.MFAChallenges},
	} {
		n, err := s.purgeWhere(ctx, dryRun, expired.table, expired.key, `expires_at < $1`, now)
		if err != nil {
			return nil, true, err
		}
		*expired.n = n
	}
	n, err := s.purgeWhere(ctx, dryRun, "email_outbox", "tenant_id, id", `status IN ('sent', 'dead') AND created_at < $1
		AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.tenant_id = email_outbox.tenant_id AND i.email_id = email_outbox.id)`,
		now.AddDate(0, 0, -roster.MailRetentionDays))
	if err != nil {
		return nil, true, err
	}
	rep.Mail = n
	return rep, true, nil
}

// purgeOlder deletes (or counts) the tenant's rows of table older than
// cutoff by the time column at, in batches. table and at are constants of
// Purge.
func (s *PurgeService) purgeOlder(ctx context.Context, dryRun bool, table, at, tenantID string, cutoff time.Time) (int64, error) {
	where := `tenant_id = $1 AND id < $2 AND ` + at + ` < $3`
	return s.batches(ctx, dryRun, table, `(tenant_id, id)`, `SELECT tenant_id, id FROM `+table+` WHERE `+where,
		`SELECT count(*) FROM `+table+` WHERE `+where, tenantID, v7Floor(cutoff), cutoff)
}

// purgeWhere deletes (or counts) the rows of table that cond selects, by
// key, in batches. The arguments are constants of Purge.
func (s *PurgeService) purgeWhere(ctx context.Context, dryRun bool, table, key, cond string, arg any) (int64, error) {
	return s.batches(ctx, dryRun, table, `(`+key+`)`, `SELECT `+key+` FROM `+table+` WHERE `+cond,
		`SELECT count(*) FROM `+table+` WHERE `+cond, arg)
}

// batches deletes what selectKeys selects, purgeBatch rows a statement
// and each its own transaction, or counts it with count when dryRun.
func (s *PurgeService) batches(ctx context.Context, dryRun bool, table, key, selectKeys, count string, args ...any) (int64, error) {
	if dryRun {
		var n int64
		err := s.db.db.QueryRowContext(ctx, count, args...).Scan(&n)
		return n, translate(err)
	}
	var total int64
	for {
		res, err := s.db.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+key+` IN (`+selectKeys+
			fmt.Sprintf(` LIMIT %d FOR UPDATE SKIP LOCKED)`, purgeBatch), args...)
		if err != nil {
			return total, translate(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, translate(err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// v7Floor is the smallest UUIDv7 of t's millisecond: every id made before
// t sorts below it.
func v7Floor(t time.Time) string {
	var b uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6], b[8] = 0x70, 0x80
	return b.String()
}
