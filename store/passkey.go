package store

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.PasskeyService = (*PasskeyService)(nil)

// PasskeyService is the PostgreSQL implementation of roster.PasskeyService.
// Like MFAService, it keeps 'passkey' in users.mfa_methods in step with the
// passkeys rows, and locks the users row before any passkey row.
type PasskeyService struct {
	db *DB
}

// NewPasskeyService returns a PasskeyService on db.
func NewPasskeyService(db *DB) *PasskeyService {
	return &PasskeyService{db: db}
}

// passkeyColumns are the columns a passkey is read with.
const passkeyColumns = `tenant_id, id, user_id, credential_id, public_key, attestation_type, coalesce(aaguid::text, ''),
	sign_count, clone_warning, backup_eligible, backed_up, user_verified, transports, name, created_at, last_used_at, use_count`

// passkeyFields returns pointers to p's fields in passkeyColumns order.
func passkeyFields(p *roster.Passkey) []any {
	return []any{&p.TenantID, &p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AAGUID,
		&p.SignCount, &p.CloneWarning, &p.BackupEligible, &p.BackedUp, &p.UserVerified, pq.Array(&p.Transports),
		&p.Name, &p.CreatedAt, &p.LastUsedAt, &p.UseCount}
}

// FindPasskeys returns the user's passkeys.
func (s *PasskeyService) FindPasskeys(ctx context.Context, tenantID, userID string) ([]*roster.Passkey, error) {
	if !isUUID(tenantID) || !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var exists bool
	if err := s.db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2)`,
		tenantID, userID).Scan(&exists); err != nil {
		return nil, translate(err)
	}
	if !exists {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return userPasskeys(ctx, s.db.db, tenantID, userID, false)
}

// userPasskeys reads the user's passkeys, oldest first, locked when lock
// is set.
func userPasskeys(ctx context.Context, q sqlx.QueryerContext, tenantID, userID string, lock bool) ([]*roster.Passkey, error) {
	query := `SELECT ` + passkeyColumns + ` FROM passkeys WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`
	if lock {
		query += ` FOR UPDATE`
	}
	rows, err := q.QueryContext(ctx, query, tenantID, userID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	passkeys := []*roster.Passkey{}
	for rows.Next() {
		p := &roster.Passkey{}
		if err := rows.Scan(passkeyFields(p)...); err != nil {
			return nil, translate(err)
		}
		passkeys = append(passkeys, p)
	}
	return passkeys, translate(rows.Err())
}

// CreatePasskey stores a new passkey of the user.
func (s *PasskeyService) CreatePasskey(ctx context.Context, tenantID string, by roster.Actor, p *roster.Passkey) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if _, _, err := lockMFAUser(ctx, tx, tenantID, p.UserID); err != nil {
			return err
		}
		p.TenantID, p.ID, p.CreatedAt = tenantID, newID(), now
		if p.Transports == nil {
			p.Transports = []string{}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO passkeys (tenant_id, id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
			    backup_eligible, backed_up, user_verified, transports, name, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			p.TenantID, p.ID, p.UserID, p.CredentialID, p.PublicKey, p.AttestationType, nullIfEmpty(p.AAGUID), p.SignCount,
			p.BackupEligible, p.BackedUp, p.UserVerified, pq.Array(p.Transports), p.Name, p.CreatedAt)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			return roster.Errorf(roster.ECONFLICT, "this passkey is registered already")
		} else if err != nil {
			return translate(err)
		}
		if err := addVerifiedMethod(ctx, tx, tenantID, p.UserID, roster.MFAPasskey); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionPasskeyRegistered, "user", p.UserID,
			map[string]any{"passkey_id": p.ID, "name": p.Name, "aaguid": p.AAGUID, "backup_eligible": p.BackupEligible})
	})
}

// RenamePasskey renames one of the user's passkeys.
func (s *PasskeyService) RenamePasskey(ctx context.Context, tenantID string, by roster.Actor, userID, id, name string) (*roster.Passkey, error) {
	if !isUUID(tenantID) || !isUUID(userID) || !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "passkey not found")
	}
	p := &roster.Passkey{}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var old string
		err := tx.QueryRowContext(ctx, `SELECT name FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3 FOR UPDATE`,
			tenantID, userID, id).Scan(&old)
		if err != nil {
			return notFound(translate(err), "passkey")
		}
		err = tx.QueryRowContext(ctx, `
			UPDATE passkeys SET name = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
			RETURNING `+passkeyColumns, tenantID, userID, id, name).Scan(passkeyFields(p)...)
		if err != nil {
			return translate(err)
		}
		if old == name {
			return nil
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionPasskeyRenamed, "user", userID,
			map[string]any{"passkey_id": id, "from": old, "to": name})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeletePasskey removes one of the user's passkeys.
func (s *PasskeyService) DeletePasskey(ctx context.Context, tenantID string, by roster.Actor, userID, id string, notice func(p *roster.Passkey) roster.Email) (*roster.Passkey, error) {
	if !isUUID(tenantID) || !isUUID(userID) || !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "passkey not found")
	}
	p := &roster.Passkey{}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, def, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return notFound(err, "passkey")
		}
		err = tx.QueryRowContext(ctx, `DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3 RETURNING `+passkeyColumns,
			tenantID, userID, id).Scan(passkeyFields(p)...)
		if err != nil {
			return notFound(translate(err), "passkey")
		}
		var left bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM passkeys WHERE tenant_id = $1 AND user_id = $2)`,
			tenantID, userID).Scan(&left); err != nil {
			return translate(err)
		}
		details := map[string]any{"passkey_id": id, "name": p.Name}
		if !left {
			remaining, err := dropVerifiedMethod(ctx, tx, tenantID, userID, methods, def, roster.MFAPasskey)
			if err != nil {
				return err
			}
			details["remaining"] = remaining
			details["recovery_codes_removed"] = len(remaining) == 0
		}
		if notice != nil {
			emailID, err := enqueueNotice(ctx, tx, now, tenantID, userID, notice(p))
			if err != nil {
				return err
			}
			if emailID != "" {
				details["email_id"] = emailID
			}
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionPasskeyRemoved, "user", userID, details)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteAllPasskeys removes every passkey of the user.
func (s *PasskeyService) DeleteAllPasskeys(ctx context.Context, tenantID string, by roster.Actor, userID string) error {
	if !isUUID(tenantID) || !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "the user has no passkey")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, def, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		var ids []string
		rows, err := tx.QueryContext(ctx, `DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 RETURNING id`, tenantID, userID)
		if err != nil {
			return translate(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return translate(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		if len(ids) == 0 {
			return roster.Errorf(roster.ENOTFOUND, "the user has no passkey")
		}
		remaining, err := dropVerifiedMethod(ctx, tx, tenantID, userID, methods, def, roster.MFAPasskey)
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFARemoved, "user", userID,
			map[string]any{"method": roster.MFAPasskey, "passkey_ids": ids, "remaining": remaining,
				"recovery_codes_removed": len(remaining) == 0})
	})
}

// dropVerifiedMethod takes method out of the user's verified methods (and
// default), and when none is left removes the recovery codes and open
// sign-ins, as RemoveMFAMethod does. It returns the methods left.
func dropVerifiedMethod(ctx context.Context, tx *sqlx.Tx, tenantID, userID string, methods []string, def, method string) ([]string, error) {
	remaining := slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == method })
	if def == method {
		def = ""
		if len(remaining) > 0 {
			def = remaining[0]
		}
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE users SET mfa_methods = $3, mfa_default = nullif($4, '') WHERE tenant_id = $1 AND id = $2`,
		tenantID, userID, pq.Array(remaining), def)
	if err != nil {
		return nil, translate(err)
	}
	if len(remaining) == 0 {
		if err := deleteMFAState(ctx, tx, tenantID, userID, "recovery_codes", "mfa_challenges"); err != nil {
			return nil, err
		}
	}
	return remaining, nil
}

// enqueueNotice puts m in the outbox on tx, addressed to the user, and
// returns its id; "" when the user has no address a mail can go to.
func enqueueNotice(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID, userID string, m roster.Email) (string, error) {
	var to string
	if err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).Scan(&to); err != nil {
		return "", notFound(translate(err), "user")
	}
	if addr, err := mail.ParseAddress(to); err != nil || addr.Address != to {
		return "", nil
	}
	m.To = to
	return enqueueEmail(ctx, tx, now, tenantID, "", m)
}
