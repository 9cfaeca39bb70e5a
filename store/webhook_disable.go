package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// webhookSystem is the actor of what the delivery worker decides.
var webhookSystem = roster.Actor{Type: roster.ActorSystem, ID: "webhook-worker"}

// disableWebhook disables a webhook that has failed since failingSince,
// gives up its pending deliveries, audits it and queues a mail to each of
// the tenant's active admins, on tx.
func disableWebhook(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID, id string, failingSince time.Time) error {
	reason := "every delivery failed since " + failingSince.UTC().Format(time.RFC3339)
	var url string
	if err := tx.QueryRowContext(ctx, `
		UPDATE webhooks SET enabled = false, disabled_reason = $3, updated_at = $4
		WHERE tenant_id = $1 AND id = $2 RETURNING url`, tenantID, id, reason, now).Scan(&url); err != nil {
		return notFound(translate(err), "webhook")
	}
	if err := failPendingDeliveries(ctx, tx, tenantID, id, "the webhook was disabled: "+reason); err != nil {
		return err
	}
	if err := insertAudit(ctx, tx, now, tenantID, webhookSystem, roster.ActionWebhookDisabled, "webhook", id,
		map[string]any{"url": url, "reason": reason}); err != nil {
		return err
	}
	var admins []string
	if err := sqlx.SelectContext(ctx, tx, &admins, `
		SELECT email FROM users WHERE tenant_id = $1 AND role = $2 AND active AND email <> ''`,
		tenantID, roster.RoleAdmin); err != nil {
		return translate(err)
	}
	body := fmt.Sprintf("Roster has disabled the webhook %s (%s): %s.\n\n"+
		"Events from now on are not sent to it. Once the endpoint answers again, enable it with\n"+
		"PATCH /api/v1/webhooks/%s {\"enabled\": true}; GET /api/v1/events has the events it missed.\n",
		id, url, reason, id)
	for _, to := range admins {
		m := roster.Email{To: to, Subject: "A webhook was disabled after failing for a day", Body: body}
		key := "webhook-disabled:" + id + ":" + to + ":" + failingSince.UTC().Format(time.RFC3339Nano)
		if _, err := enqueueEmail(ctx, tx, now, tenantID, key, m); err != nil && roster.ErrorCode(err) != roster.EINVALID {
			return err
		}
	}
	return nil
}
