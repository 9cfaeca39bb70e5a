package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.WebhookService = (*WebhookService)(nil)

// WebhookService is the PostgreSQL implementation of roster.WebhookService.
type WebhookService struct {
	db     *DB
	sealer roster.Sealer
}

// NewWebhookService returns a WebhookService on db that seals signing
// secrets with sealer.
func NewWebhookService(db *DB, sealer roster.Sealer) *WebhookService {
	return &WebhookService{db: db, sealer: sealer}
}

const webhookColumns = `tenant_id, id, url, description, events, enabled, coalesce(disabled_reason, ''), failing_since, created_at, updated_at`

func webhookFields(w *roster.Webhook) []any {
	return []any{&w.TenantID, &w.ID, &w.URL, &w.Description, pq.Array(&w.Events), &w.Enabled, &w.DisabledReason,
		&w.FailingSince, &w.CreatedAt, &w.UpdatedAt}
}

// secretAD binds a sealed secret to its webhook, so that it cannot be
// moved to another.
func secretAD(tenantID, id string) []byte {
	return []byte("webhook secret:" + tenantID + ":" + id)
}

// webhookAuditDetails is what the audit trail says of a webhook.
func webhookAuditDetails(w *roster.Webhook) map[string]any {
	return map[string]any{"url": w.URL, "events": w.Events, "description": w.Description, "enabled": w.Enabled}
}

// CreateWebhook stores w with its sealed secret, positioned at the feed's
// horizon: events committed from now on are delivered to it. EINVALID,
// ECONFLICT past roster.MaxWebhooksPerTenant.
func (s *WebhookService) CreateWebhook(ctx context.Context, tenantID string, by roster.Actor, in *roster.Webhook, secret []byte) (*roster.Webhook, error) {
	w := *in
	w.Events = append([]string(nil), in.Events...)
	if err := w.Validate(); err != nil {
		return nil, err
	}
	now := s.db.now()
	w.ID, w.TenantID, w.Enabled, w.DisabledReason, w.FailingSince, w.CreatedAt, w.UpdatedAt =
		newID(), tenantID, true, "", nil, now, now
	sealed, err := s.sealer.Seal(secret, secretAD(tenantID, w.ID))
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		// The tenant's row is locked so that two creations cannot both
		// pass the count.
		if err := tx.QueryRowContext(ctx, `
			SELECT (SELECT count(*) FROM webhooks WHERE tenant_id = t.id) FROM tenants t WHERE t.id = $1 FOR UPDATE`,
			tenantID).Scan(&n); err != nil {
			return notFound(translate(err), "tenant")
		}
		if n >= roster.MaxWebhooksPerTenant {
			return roster.Errorf(roster.ECONFLICT, "a tenant may have at most %d webhooks", roster.MaxWebhooksPerTenant)
		}
		horizon, err := feedHorizon(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO webhooks (tenant_id, id, url, description, events, secret, enabled, cursor_txid, cursor_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, true, $7::xid8, $8, $9, $9)`,
			tenantID, w.ID, w.URL, w.Description, pq.Array(w.Events), sealed, horizon, feedStart.ID, now); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionWebhookCreated, "webhook", w.ID, webhookAuditDetails(&w))
	})
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// FindWebhooks lists the tenant's webhooks, oldest first.
func (s *WebhookService) FindWebhooks(ctx context.Context, tenantID string) ([]*roster.Webhook, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	hooks := []*roster.Webhook{}
	for rows.Next() {
		var w roster.Webhook
		if err := rows.Scan(webhookFields(&w)...); err != nil {
			return nil, translate(err)
		}
		hooks = append(hooks, &w)
	}
	return hooks, translate(rows.Err())
}

// FindWebhookByID returns one webhook of the tenant. ENOTFOUND.
func (s *WebhookService) FindWebhookByID(ctx context.Context, tenantID, id string) (*roster.Webhook, error) {
	return getWebhook(ctx, s.db.db, tenantID, id, false)
}

// getWebhook reads one webhook on q, locking it when forUpdate. ENOTFOUND.
func getWebhook(ctx context.Context, q sqlx.QueryerContext, tenantID, id string, forUpdate bool) (*roster.Webhook, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "webhook not found")
	}
	query := `SELECT ` + webhookColumns + ` FROM webhooks WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var w roster.Webhook
	if err := q.QueryRowxContext(ctx, query, tenantID, id).Scan(webhookFields(&w)...); err != nil {
		return nil, notFound(translate(err), "webhook")
	}
	return &w, nil
}

// UpdateWebhook applies upd to the locked row. Enabling a disabled webhook
// moves it to the feed's horizon and forgets its failures. ENOTFOUND,
// EINVALID.
func (s *WebhookService) UpdateWebhook(ctx context.Context, tenantID string, by roster.Actor, id string, upd roster.WebhookUpdate) (*roster.Webhook, error) {
	var out *roster.Webhook
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		w, err := getWebhook(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		wasEnabled := w.Enabled
		if upd.URL != nil {
			w.URL = *upd.URL
		}
		if upd.Description != nil {
			w.Description = *upd.Description
		}
		if upd.Events != nil {
			w.Events = upd.Events
		}
		if upd.Enabled != nil {
			w.Enabled = *upd.Enabled
		}
		if err := w.Validate(); err != nil {
			return err
		}
		now := s.db.now()
		w.UpdatedAt = now
		// A reason is the worker's; an admin's change, either way, clears it.
		w.DisabledReason = ""
		restart := w.Enabled && !wasEnabled
		if restart {
			w.FailingSince = nil
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhooks SET url = $3, description = $4, events = $5, enabled = $6,
			    disabled_reason = nullif($7, ''), failing_since = $8, updated_at = $9,
			    cursor_txid = CASE WHEN $10 THEN pg_snapshot_xmin(pg_current_snapshot()) ELSE cursor_txid END,
			    cursor_id = CASE WHEN $10 THEN $11::uuid ELSE cursor_id END
			WHERE tenant_id = $1 AND id = $2`,
			tenantID, id, w.URL, w.Description, pq.Array(w.Events), w.Enabled, w.DisabledReason, w.FailingSince, now,
			restart, feedStart.ID); err != nil {
			return translate(err)
		}
		if !w.Enabled {
			if err := failPendingDeliveries(ctx, tx, tenantID, id, "the webhook was disabled"); err != nil {
				return err
			}
		}
		out = w
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionWebhookUpdated, "webhook", id, webhookAuditDetails(w))
	})
	return out, err
}

// failPendingDeliveries gives up a webhook's pending deliveries.
func failPendingDeliveries(ctx context.Context, tx sqlx.ExtContext, tenantID, webhookID, reason string) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE webhook_deliveries SET status = 'failed', last_error = $3
		WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'pending'`, tenantID, webhookID, reason)
	return translate(err)
}

// DeleteWebhook removes a webhook and its deliveries. ENOTFOUND.
func (s *WebhookService) DeleteWebhook(ctx context.Context, tenantID string, by roster.Actor, id string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		w, err := getWebhook(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionWebhookDeleted, "webhook", id, webhookAuditDetails(w))
	})
}

// openSecret opens a webhook's sealed secret.
func (s *WebhookService) openSecret(tenantID, id string, sealed []byte) ([]byte, error) {
	return s.sealer.Open(sealed, secretAD(tenantID, id))
}

// nullTime is a nullable time as the driver scans it.
func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

var errSecretUnopened = errors.New("the signing secret does not open with this encryption key")
