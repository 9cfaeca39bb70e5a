package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.GrantExpiries = (*GrantExpiries)(nil)

// GrantExpiries records the natural end of temporary grants. A grant
// stops giving its role at its second without it (liveGrant); this only
// writes grant.expired, for the trail and its webhook, soon after. Any
// number of workers may run it at once: each takes grants the others have
// not locked, and marks them recorded in the transaction that audits them.
type GrantExpiries struct {
	db *DB
}

// NewGrantExpiries returns GrantExpiries on db.
func NewGrantExpiries(db *DB) *GrantExpiries {
	return &GrantExpiries{db: db}
}

// RecordEndedGrants writes grant.expired for up to n grants that ran out
// and were not recorded yet (a user's own reads record theirs too), on
// role_grants_unaudited_idx, and reports how many it wrote.
func (g *GrantExpiries) RecordEndedGrants(ctx context.Context, n int) (int, error) {
	recorded := 0
	err := g.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := g.db.now()
		var err error
		recorded, err = recordEndedGrants(ctx, tx, now, `UPDATE role_grants SET expiry_audited = true
			WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM role_grants
				WHERE NOT expiry_audited AND revoked_at IS NULL AND expires_at <= $1
				ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING `+endedGrantColumns, now, n)
		return err
	})
	return recorded, err
}

// recordEndedGrants runs update, which marks grants' ends recorded and
// returns endedGrantColumns of each, and writes grant.expired for each;
// it reports how many.
func recordEndedGrants(ctx context.Context, tx *sqlx.Tx, now time.Time, update string, args ...any) (int, error) {
	rows, err := tx.QueryContext(ctx, update, args...)
	if err != nil {
		return 0, translate(err)
	}
	var ended []endedGrant
	for rows.Next() {
		var e endedGrant
		if err := rows.Scan(&e.tenantID, &e.userID, &e.id, &e.role, &e.at); err != nil {
			rows.Close()
			return 0, translate(err)
		}
		ended = append(ended, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	for _, e := range ended {
		if err := e.audit(ctx, tx, now); err != nil {
			return 0, err
		}
	}
	return len(ended), nil
}

// endedGrantColumns are what recordEndedGrants reads of each grant.
const endedGrantColumns = `tenant_id, user_id, id, role, expires_at`

// endedGrant is a grant whose natural end is being recorded.
type endedGrant struct {
	tenantID, userID, id, role string
	at                         time.Time
}

// audit writes the grant's end to the trail.
func (e endedGrant) audit(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
	return insertAudit(ctx, tx, now, e.tenantID, grantExpiryActor, roster.ActionGrantExpired, "user", e.userID,
		map[string]any{"grant_id": e.id, "role": e.role, "expired_at": e.at})
}
