package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.WebhookOutbox = (*WebhookOutbox)(nil)

// WebhookOutbox is what the worker delivers webhooks from: each enabled
// webhook reads the events feed from its own position and turns what it
// subscribed to into deliveries, which workers claim with FOR UPDATE SKIP
// LOCKED under a lease, as they do mail.
type WebhookOutbox struct {
	db       *DB
	webhooks *WebhookService
}

// NewWebhookOutbox returns a WebhookOutbox on db that opens signing
// secrets with sealer.
func NewWebhookOutbox(db *DB, sealer roster.Sealer) *WebhookOutbox {
	return &WebhookOutbox{db: db, webhooks: NewWebhookService(db, sealer)}
}

// fanOutBatch is how many events one webhook takes from the feed at once.
const fanOutBatch = 500

// FanOutEvents makes the deliveries of up to n webhooks that have events
// past their position, each in order up to fanOutBatch events, and moves
// their positions on, in one transaction: a webhook's deliveries exist
// exactly when its position has passed their events. Webhooks another
// worker is fanning out are skipped.
func (o *WebhookOutbox) FanOutEvents(ctx context.Context, n int) (int, error) {
	made := 0
	err := o.db.inTx(ctx, func(tx *sqlx.Tx) error {
		horizon, err := feedHorizon(ctx, tx)
		if err != nil {
			return err
		}
		type hook struct {
			TenantID string         `db:"tenant_id"`
			ID       string         `db:"id"`
			Events   pq.StringArray `db:"events"`
			TxID     string         `db:"cursor_txid"`
			CursorID string         `db:"cursor_id"`
		}
		var hooks []hook
		if err := sqlx.SelectContext(ctx, tx, &hooks, `
			SELECT tenant_id, id, events, cursor_txid::text AS cursor_txid, cursor_id FROM webhooks w
			WHERE enabled AND EXISTS (
			    SELECT 1 FROM audit_events e
			    WHERE e.tenant_id = w.tenant_id AND e.txid IS NOT NULL
			      AND (e.txid, e.id) > (w.cursor_txid, w.cursor_id) AND e.txid < $1::xid8)
			LIMIT $2 FOR UPDATE SKIP LOCKED`, horizon, n); err != nil {
			return translate(err)
		}
		now := o.db.now()
		for _, h := range hooks {
			events, next, err := readFeed(ctx, tx, h.TenantID, feedPosition{TxID: h.TxID, ID: h.CursorID}, h.Events, fanOutBatch, horizon)
			if err != nil {
				return err
			}
			ids, eventIDs, types := make([]string, len(events)), make([]string, len(events)), make([]string, len(events))
			for i, e := range events {
				ids[i], eventIDs[i], types[i] = newID(), e.ID, roster.EventTypeOf(&e.AuditEvent)
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, next_attempt_at, created_at)
				SELECT $1, unnest($2::uuid[]), $3, unnest($4::uuid[]), unnest($5::text[]), $6, $6
				ON CONFLICT DO NOTHING`,
				h.TenantID, pq.Array(ids), h.ID, pq.Array(eventIDs), pq.Array(types), now); err != nil {
				return translate(err)
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE webhooks SET cursor_txid = $3::xid8, cursor_id = $4 WHERE tenant_id = $1 AND id = $2`,
				h.TenantID, h.ID, next.TxID, next.ID); err != nil {
				return translate(err)
			}
			made += len(events)
		}
		return nil
	})
	return made, err
}

// ClaimWebhookDeliveries takes up to n due deliveries of enabled webhooks,
// skipping those another worker holds, counts an attempt on each and makes
// them due again only after lease. A secret that does not open (the
// encryption key changed) fails its delivery for good.
func (o *WebhookOutbox) ClaimWebhookDeliveries(ctx context.Context, n int, lease time.Duration) ([]*roster.OutgoingWebhook, error) {
	now := o.db.now()
	rows, err := o.db.db.QueryxContext(ctx, `
		WITH due AS (
			SELECT d.tenant_id, d.id FROM webhook_deliveries d
			JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.enabled
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1
			ORDER BY d.next_attempt_at LIMIT $2
			FOR UPDATE OF d SKIP LOCKED
		)
		UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $3
		FROM due, webhooks w, audit_events e
		WHERE d.tenant_id = due.tenant_id AND d.id = due.id
		  AND w.tenant_id = d.tenant_id AND w.id = d.webhook_id
		  AND e.tenant_id = d.tenant_id AND e.id = d.event_id
		RETURNING `+deliveryColumns+`, w.url, w.secret,
		    e.tenant_id, e.id, e.occurred_at, e.actor_type, e.actor_id, e.action, e.target_type, e.target_id, e.request_id, e.details`,
		now, n, now.Add(lease))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	type claimed struct {
		out    *roster.OutgoingWebhook
		sealed []byte
		audit  roster.AuditEvent
	}
	var all []claimed
	for rows.Next() {
		var (
			r deliveryRow
			c claimed
		)
		c.out = &roster.OutgoingWebhook{}
		a := &c.audit
		fields := append(r.fields(), &c.out.URL, &c.sealed, &a.TenantID, &a.ID, &a.OccurredAt, &a.ActorType, &a.ActorID,
			&a.Action, &a.TargetType, &a.TargetID, &a.RequestID, &a.Details)
		if err := rows.Scan(fields...); err != nil {
			return nil, translate(err)
		}
		c.out.Delivery = r.delivery()
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	out := make([]*roster.OutgoingWebhook, 0, len(all))
	for _, c := range all {
		d := c.out.Delivery
		secret, err := o.webhooks.openSecret(d.TenantID, d.WebhookID, c.sealed)
		if err != nil {
			if err := o.WebhookAttemptFailed(ctx, d, 0, 0, errSecretUnopened.Error(), nil, 0); err != nil {
				return nil, err
			}
			continue
		}
		if c.out.Event, err = roster.NewEvent(&c.audit, d.EventType); err != nil {
			return nil, fmt.Errorf("event %s: %w", d.EventID, err)
		}
		c.out.Secret = secret
		out = append(out, c.out)
	}
	return out, nil
}

// WebhookDelivered records a successful attempt; the endpoint is failing
// no more.
func (o *WebhookOutbox) WebhookDelivered(ctx context.Context, d *roster.WebhookDelivery, code, latencyMS int) error {
	return o.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries SET status = 'succeeded', response_code = $3, latency_ms = $4,
			    last_attempt_at = $5, last_error = NULL
			WHERE tenant_id = $1 AND id = $2`, d.TenantID, d.ID, code, latencyMS, o.db.now()); err != nil {
			return translate(err)
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE webhooks SET failing_since = NULL
			WHERE tenant_id = $1 AND id = $2 AND failing_since IS NOT NULL`, d.TenantID, d.WebhookID)
		return translate(err)
	})
}

// WebhookAttemptFailed records a failed attempt (code 0: no answer); with
// no retryAt the delivery has failed for good. An endpoint failing for
// disableAfter or longer (0: never) is disabled, its pending deliveries
// failed, and its tenant's active admins told by email, in the same
// transaction.
func (o *WebhookOutbox) WebhookAttemptFailed(ctx context.Context, d *roster.WebhookDelivery, code, latencyMS int, reason string, retryAt *time.Time, disableAfter time.Duration) error {
	return o.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := o.db.now()
		status, next := roster.DeliveryPending, retryAt
		if retryAt == nil {
			status, next = roster.DeliveryFailed, &now
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, response_code = nullif($5, 0),
			    latency_ms = $6, last_attempt_at = $7, last_error = $8
			WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
			d.TenantID, d.ID, status, *next, code, latencyMS, now, reason); err != nil {
			return translate(err)
		}
		var failingSince time.Time
		var enabled bool
		if err := tx.QueryRowContext(ctx, `
			UPDATE webhooks SET failing_since = coalesce(failing_since, $3)
			WHERE tenant_id = $1 AND id = $2 RETURNING failing_since, enabled`,
			d.TenantID, d.WebhookID, now).Scan(&failingSince, &enabled); err != nil {
			return notFound(translate(err), "webhook")
		}
		if !enabled || disableAfter <= 0 || now.Sub(failingSince) < disableAfter {
			return nil
		}
		return disableWebhook(ctx, tx, now, d.TenantID, d.WebhookID, failingSince)
	})
}
