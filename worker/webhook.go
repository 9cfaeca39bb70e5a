package worker

import (
	"context"
	"time"
)

// FanOutWebhooks turns committed events into the deliveries of the webhooks
// that subscribed to them, and reports how many it made.
func (w *Worker) FanOutWebhooks(ctx context.Context) (int, error) {
	return w.Webhooks.FanOutEvents(ctx, w.cfg.WebhookBatch)
}

// DeliverWebhooks sends one batch of due deliveries and returns how many it
// tried. No transaction is open while an endpoint is called. A failed
// delivery is retried after a wait that doubles with each attempt until the
// schedule has run for WebhookRetryFor; an endpoint that has failed for
// WebhookDisableAfter is disabled.
func (w *Worker) DeliverWebhooks(ctx context.Context) (int, error) {
	batch, err := w.Webhooks.ClaimWebhookDeliveries(ctx, w.cfg.WebhookBatch, w.cfg.WebhookLease)
	if err != nil {
		return 0, err
	}
	for _, out := range batch {
		d := out.Delivery
		res, sendErr := w.Hooks.Send(ctx, out.URL, out.Secret, out.Event)
		latency := int(res.Latency.Milliseconds())
		// The record is written even as the process stops: the call happened.
		rec := context.WithoutCancel(ctx)
		if sendErr == nil {
			if err := w.Webhooks.WebhookDelivered(rec, d, res.Status, latency); err != nil {
				return len(batch), err
			}
			continue
		}
		var retryAt *time.Time
		if scheduled(w.cfg.WebhookBackoff, w.cfg.WebhookMaxBackoff, d.Attempts+1) <= w.cfg.WebhookRetryFor {
			t := w.Now().Add(doubling(w.cfg.WebhookBackoff, w.cfg.WebhookMaxBackoff, d.Attempts))
			retryAt = &t
		}
		w.Log.Warn("webhook not delivered", "delivery_id", d.ID, "webhook_id", d.WebhookID, "tenant_id", d.TenantID,
			"attempt", d.Attempts, "status", res.Status, "given_up", retryAt == nil, "err", sendErr)
		if err := w.Webhooks.WebhookAttemptFailed(rec, d, res.Status, latency, sendErr.Error(), retryAt,
			w.cfg.WebhookDisableAfter); err != nil {
			return len(batch), err
		}
	}
	return len(batch), nil
}

// doubling is the wait after the attempt-th failure: base doubled for each
// earlier failure, at most limit.
func doubling(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// scheduled is how long after the first attempt the attempts-th comes:
// the sum of the waits before it.
func scheduled(base, limit time.Duration, attempts int) time.Duration {
	var total time.Duration
	for i := 1; i < attempts; i++ {
		total += doubling(base, limit, i)
	}
	return total
}

// webhooksOn reports whether this worker delivers webhooks.
func (w *Worker) webhooksOn() bool {
	return w.Webhooks != nil && w.Hooks != nil
}
