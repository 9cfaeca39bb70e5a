package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// AttemptStepUp records one try at a second factor by a signed-in user, as
// check judges it: a pass spends the factor and is audited, a failure
// records nothing here (the caller counts it towards the lockout).
func (s *MFAService) AttemptStepUp(ctx context.Context, tenantID string, by roster.Actor, userID, method string, recoveryCodeHash []byte, check func(*roster.MFAAttempt) (roster.MFAVerdict, error)) error {
	if !isUUID(tenantID) || !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		a := roster.MFAAttempt{Login: &roster.Login{}}
		err := tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, userID).Scan(loginFields(a.Login)...)
		if errors.Is(err, sql.ErrNoRows) {
			return roster.Errorf(roster.ENOTFOUND, "user not found")
		} else if err != nil {
			return translate(err)
		}
		if err := readFactor(ctx, tx, &a, tenantID, userID, method, recoveryCodeHash); err != nil {
			return err
		}
		verdict, err := check(&a)
		if err != nil || !verdict.Passed {
			return err
		}
		if err := spendFactor(ctx, tx, now, tenantID, by, userID, method, verdict.Step, recoveryCodeHash,
			map[string]any{"step_up": true}); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFASteppedUp, "user", userID,
			map[string]any{"method": method})
	})
}
