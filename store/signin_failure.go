package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.SignInFailureService = (*SignInFailureService)(nil)

// SignInFailureService is the PostgreSQL implementation of
// roster.SignInFailureService, on the signin_failures table (migration
// 0013).
type SignInFailureService struct {
	db *DB
}

// NewSignInFailureService returns a SignInFailureService on db.
func NewSignInFailureService(db *DB) *SignInFailureService {
	return &SignInFailureService{db: db}
}

// signInFailuresCount sums both counters of an attempt in one round trip,
// on the primary key; it runs before every password is checked.
const signInFailuresCount = `
	SELECT kind, sum(failures)::int, min(bucket_start)
	FROM signin_failures
	WHERE tenant_id = $1 AND bucket_start > $4
	  AND ((kind = 'account' AND key = $2) OR (kind = 'address' AND key = $3))
	GROUP BY kind`

// CountSignInFailures returns the failures of k's account and address in
// buckets that started after since.
func (s *SignInFailureService) CountSignInFailures(ctx context.Context, k roster.SignInFailureKey, since time.Time) (account, address roster.SignInFailureCount, err error) {
	if !isUUID(k.TenantID) {
		return account, address, nil
	}
	rows, err := s.db.query(ctx, signInFailuresCount, k.TenantID, k.Account, k.Address, since)
	if err != nil {
		return account, address, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind string
			c    roster.SignInFailureCount
		)
		if err := rows.Scan(&kind, &c.Failures, &c.Oldest); err != nil {
			return account, address, translate(err)
		}
		if kind == roster.FailuresOfAccount {
			account = c
		} else {
			address = c
		}
	}
	return account, address, translate(rows.Err())
}

// RecordSignInFailure adds a failure to k's account and address counters,
// after deleting a bounded batch of expired rows: the table stays the size
// of one window's failures with no sweeper, and no attempt pays for more
// than a batch. The account's row comes first in every statement, so two
// attempts from one address cannot lock each other's rows in turn.
func (s *SignInFailureService) RecordSignInFailure(ctx context.Context, k roster.SignInFailureKey, bucket, expires, now time.Time) error {
	if !isUUID(k.TenantID) {
		return roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			DELETE FROM signin_failures WHERE (tenant_id, kind, key, bucket_start) IN (
			    SELECT tenant_id, kind, key, bucket_start FROM signin_failures WHERE expires_at <= $1 LIMIT 100)`, now); err != nil {
			return err
		}
		// A step-up has an account and no address to count.
		_, err := tx.ExecContext(ctx, `
			INSERT INTO signin_failures (tenant_id, kind, key, bucket_start, failures, expires_at)
			SELECT $1, kind, key, $4, 1, $5
			FROM (VALUES (1, 'account', $2::text), (2, 'address', $3::text)) AS k (n, kind, key)
			WHERE key <> ''
			ORDER BY n
			ON CONFLICT (tenant_id, kind, key, bucket_start)
			DO UPDATE SET failures = signin_failures.failures + 1`, k.TenantID, k.Account, k.Address, bucket, expires)
		return err
	})
}

// clearAccountFailures forgets the failures counted against a user, in
// the transaction of a sign-in or an unlock.
func clearAccountFailures(ctx context.Context, tx sqlx.ExecerContext, tenantID, userID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE tenant_id = $1 AND kind = 'account' AND key = $2`, tenantID, userID)
	return translate(err)
}
