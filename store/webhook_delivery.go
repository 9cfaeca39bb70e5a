package store

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

const deliveryColumns = `d.tenant_id, d.id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.response_code, d.latency_ms, coalesce(d.last_error, ''), d.created_at`

// deliveryRow scans deliveryColumns.
type deliveryRow struct {
	d           roster.WebhookDelivery
	next, last  sql.NullTime
	code, delay sql.NullInt64
}

func (r *deliveryRow) fields() []any {
	d := &r.d
	return []any{&d.TenantID, &d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Status, &d.Attempts,
		&r.next, &r.last, &r.code, &r.delay, &d.LastError, &d.CreatedAt}
}

func (r *deliveryRow) delivery() *roster.WebhookDelivery {
	d := r.d
	if d.Status == roster.DeliveryPending {
		d.NextAttemptAt = nullTime(r.next)
	}
	d.LastAttemptAt = nullTime(r.last)
	if r.code.Valid {
		c := int(r.code.Int64)
		d.ResponseCode = &c
	}
	if r.delay.Valid {
		ms := int(r.delay.Int64)
		d.LatencyMS = &ms
	}
	return &d
}

// getDelivery reads one delivery of a webhook on q. ENOTFOUND.
func getDelivery(ctx context.Context, q sqlx.QueryerContext, tenantID, webhookID, id string) (*roster.WebhookDelivery, error) {
	if !isUUID(id) || !isUUID(webhookID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "delivery not found")
	}
	var r deliveryRow
	err := q.QueryRowxContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.id = $3`, tenantID, webhookID, id).Scan(r.fields()...)
	if err != nil {
		return nil, notFound(translate(err), "delivery")
	}
	return r.delivery(), nil
}

// refuseDisabled is ECONFLICT for a disabled webhook.
func refuseDisabled(w *roster.Webhook) error {
	if !w.Enabled {
		return roster.Errorf(roster.ECONFLICT, "the webhook is disabled; enable it first")
	}
	return nil
}

// TestWebhook audits the test and queues a webhook.test delivery of that
// audit event for this webhook alone, due at once. ENOTFOUND, ECONFLICT
// for a disabled webhook.
func (s *WebhookService) TestWebhook(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.WebhookDelivery, error) {
	var out *roster.WebhookDelivery
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		w, err := getWebhook(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if err := refuseDisabled(w); err != nil {
			return err
		}
		now, eventID, deliveryID := s.db.now(), newID(), newID()
		if err := insertAuditWithID(ctx, tx, now, tenantID, eventID, by, roster.ActionWebhookTested, "webhook", id,
			map[string]any{"url": w.URL}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, next_attempt_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, tenantID, deliveryID, id, eventID, roster.EventWebhookTest, now); err != nil {
			return translate(err)
		}
		out, err = getDelivery(ctx, tx, tenantID, id, deliveryID)
		return err
	})
	return out, err
}

// FindWebhookDeliveries returns a page of a webhook's deliveries, newest
// first. ENOTFOUND for a webhook of another tenant, EINVALID for a bad
// status, limit or cursor.
func (s *WebhookService) FindWebhookDeliveries(ctx context.Context, tenantID, webhookID string, f roster.WebhookDeliveryFilter) (*roster.WebhookDeliveryPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	if _, err := getWebhook(ctx, s.db.db, tenantID, webhookID, false); err != nil {
		return nil, err
	}
	q := &sqlBuilder{}
	where := "d.tenant_id = " + q.arg(tenantID) + " AND d.webhook_id = " + q.arg(webhookID)
	switch f.Status {
	case "":
	case roster.DeliveryPending, roster.DeliverySucceeded, roster.DeliveryFailed:
		where += " AND d.status = " + q.arg(f.Status)
	default:
		return nil, roster.Invalid(roster.FieldError{Field: "status", Message: "must be pending, succeeded or failed"})
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "deliveries", 1)
		if err != nil || !isUUID(c.Keys[0]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		where += " AND d.id < " + q.arg(c.Keys[0]) + "::uuid"
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE `+where+
		` ORDER BY d.id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	page := &roster.WebhookDeliveryPage{Items: []*roster.WebhookDelivery{}}
	for rows.Next() {
		var r deliveryRow
		if err := rows.Scan(r.fields()...); err != nil {
			return nil, translate(err)
		}
		page.Items = append(page.Items, r.delivery())
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = cursor{Sort: "deliveries", Keys: []string{page.Items[limit-1].ID}}.encode()
	}
	return page, nil
}

// RetryWebhookDelivery makes a delivery pending, due at once, with its
// attempts counted from zero again. ENOTFOUND, ECONFLICT for a disabled
// webhook.
func (s *WebhookService) RetryWebhookDelivery(ctx context.Context, tenantID string, by roster.Actor, webhookID, id string) (*roster.WebhookDelivery, error) {
	var out *roster.WebhookDelivery
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		w, err := getWebhook(ctx, tx, tenantID, webhookID, true)
		if err != nil {
			return err
		}
		if _, err := getDelivery(ctx, tx, tenantID, webhookID, id); err != nil {
			return err
		}
		if err := refuseDisabled(w); err != nil {
			return err
		}
		now := s.db.now()
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $4
			WHERE tenant_id = $1 AND webhook_id = $2 AND id = $3`, tenantID, webhookID, id, now); err != nil {
			return translate(err)
		}
		if err := insertAudit(ctx, tx, now, tenantID, by, roster.ActionDeliveryRetried, "webhook", webhookID,
			map[string]any{"delivery_id": id}); err != nil {
			return err
		}
		out, err = getDelivery(ctx, tx, tenantID, webhookID, id)
		return err
	})
	return out, err
}
