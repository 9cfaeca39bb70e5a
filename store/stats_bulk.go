package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Recounts of a tenant's users into the counters of migrations/0009_stats.sql,
// in slot 0, from the users table itself, once the tenant's counter rows
// are deleted.
const (
	userCountsRecount = `INSERT INTO user_counts (tenant_id, role, active, mfa_mask, slot, n)
		SELECT tenant_id, role, active, roster_mfa_mask(mfa_methods), 0, count(*)
		FROM users WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4`
	userSignupDaysRecount = `INSERT INTO user_signup_days (tenant_id, day, role, active, slot, n)
		SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, role, active, 0, count(*)
		FROM users WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4`
)

// pauseUserCountsForBulkLoad switches the users insert counter off for a
// bulk load on tx, and returns what recounts the tenant at the end. Feeding
// a million-row COPY through the statement trigger's transition table made
// the seed a third slower (94 s against 70 s); one aggregate afterwards
// costs about a second. Only for a load that holds the users table
// exclusively (dropIndexesForBulkLoad, same threshold), so that no other
// write can slip between the load and the recount.
func pauseUserCountsForBulkLoad(ctx context.Context, tx *sqlx.Tx, n int) (resume func(tenantID string) error, err error) {
	if n < bulkLoadThreshold {
		return func(string) error { return nil }, nil
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE users DISABLE TRIGGER users_count_insert`); err != nil {
		return nil, err
	}
	return func(tenantID string) error {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE users ENABLE TRIGGER users_count_insert`); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM user_counts WHERE tenant_id = $1`,
			`DELETE FROM user_signup_days WHERE tenant_id = $1`,
			userCountsRecount,
			userSignupDaysRecount,
		} {
			if _, err := tx.ExecContext(ctx, q, tenantID); err != nil {
				return err
			}
		}
		return nil
	}, nil
}
