package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.CredentialReminders = (*CredentialReminders)(nil)

// CredentialReminders mails the owners of personal API keys and service
// tokens that are about to expire. Any number of workers may run it at
// once: each takes rows the others have not locked (FOR UPDATE SKIP
// LOCKED), marks them reminded of their expiry in the transaction that
// queues the mail, and the mail's dedupe key makes a second one a no-op.
type CredentialReminders struct {
	db *DB
}

// NewCredentialReminders returns CredentialReminders on db.
func NewCredentialReminders(db *DB) *CredentialReminders {
	return &CredentialReminders{db: db}
}

// RemindExpiringCredentials queues the reminders of up to n keys and
// tokens that expire within roster.CredentialExpiryNotice and whose owner
// was not reminded of that expiry yet. A deactivated owner, or one
// without an address, is not mailed, and the credential counts as
// reminded.
func (c *CredentialReminders) RemindExpiringCredentials(ctx context.Context, n int) (int, error) {
	queued := 0
	err := c.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := c.db.now()
		var keys []apiKeyReminder
		if err := sqlx.SelectContext(ctx, tx, &keys, `
			SELECT t.tenant_id, t.id, t.name, t.prefix, t.expires_at, coalesce(u.email, '') AS email, coalesce(u.active, false) AS active
			FROM api_tokens t
			LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
			WHERE t.kind = 'personal' AND t.revoked_at IS NULL AND t.reminded_expires_at IS DISTINCT FROM t.expires_at
			  AND t.expires_at > $1 AND t.expires_at <= $2
			ORDER BY t.expires_at LIMIT $3
			FOR UPDATE OF t SKIP LOCKED`, now, now.Add(roster.CredentialExpiryNotice), n); err != nil {
			return translate(err)
		}
		for _, k := range keys {
			if k.Active {
				m := roster.Email{To: k.Email, Subject: fmt.Sprintf("Your API key %q expires on %s", k.Name, day(k.ExpiresAt)),
					Body: fmt.Sprintf("Your personal API key %q (%s…) stops working at %s.\n\n"+
						"To keep what uses it working, rotate it before then with\n"+
						"POST /api/v1/me/api-keys/%s/rotate {\"expires_at\": \"...\"}, which gives it a new secret and expiry,\n"+
						"or make a new key with POST /api/v1/me/api-keys.\n",
						k.Name, k.Prefix, k.ExpiresAt.UTC().Format(time.RFC3339), k.ID)}
				n, err := remind(ctx, tx, now, k.TenantID, "api-key-expiring:"+k.ID+":"+k.ExpiresAt.UTC().Format(time.RFC3339Nano), m)
				if err != nil {
					return err
				}
				queued += n
			}
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET reminded_expires_at = expires_at WHERE tenant_id = $1 AND id = $2`,
				k.TenantID, k.ID); err != nil {
				return translate(err)
			}
		}
		n, err := remindServiceTokens(ctx, tx, now, n-len(keys))
		queued += n
		return err
	})
	return queued, err
}

// remindServiceTokens is RemindExpiringCredentials for up to n tokens of
// the vault, on tx.
func remindServiceTokens(ctx context.Context, tx *sqlx.Tx, now time.Time, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var tokens []serviceTokenReminder
	if err := sqlx.SelectContext(ctx, tx, &tokens, `
		SELECT t.tenant_id, t.user_id, t.service, t.hint, t.expires_at, u.email, u.active
		FROM user_tokens t
		JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
		WHERE t.reminded_expires_at IS DISTINCT FROM t.expires_at AND t.expires_at > $1 AND t.expires_at <= $2
		ORDER BY t.expires_at LIMIT $3
		FOR UPDATE OF t SKIP LOCKED`, now, now.Add(roster.CredentialExpiryNotice), n); err != nil {
		return 0, translate(err)
	}
	queued := 0
	for _, t := range tokens {
		if t.Active {
			m := roster.Email{To: t.Email, Subject: fmt.Sprintf("Your %s token expires on %s", t.Service, day(t.ExpiresAt)),
				Body: fmt.Sprintf("The %s token (%s) you keep in Roster stops working at %s.\n\n"+
					"Renew it with %s, then store the new one with\n"+
					"PUT /api/v1/me/service-tokens/%s {\"token\": \"...\", \"expires_at\": \"...\"}.\n",
					t.Service, t.Hint, t.ExpiresAt.UTC().Format(time.RFC3339), t.Service, t.Service)}
			key := "service-token-expiring:" + t.UserID + ":" + t.Service + ":" + t.ExpiresAt.UTC().Format(time.RFC3339Nano)
			sent, err := remind(ctx, tx, now, t.TenantID, key, m)
			if err != nil {
				return queued, err
			}
			queued += sent
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET reminded_expires_at = expires_at
			WHERE tenant_id = $1 AND user_id = $2 AND service = $3`, t.TenantID, t.UserID, t.Service); err != nil {
			return queued, translate(err)
		}
	}
	return queued, nil
}

// remind queues a reminder, once for its key; an owner without a usable
// address is not mailed. It reports whether it queued one.
func remind(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID, key string, m roster.Email) (int, error) {
	id, err := enqueueEmail(ctx, tx, now, tenantID, key, m)
	if err != nil && roster.ErrorCode(err) != roster.EINVALID {
		return 0, err
	}
	if id == "" {
		return 0, nil
	}
	return 1, nil
}

// day is a date as the reminders write it.
func day(t time.Time) string {
	return t.UTC().Format("2 January 2006")
}
