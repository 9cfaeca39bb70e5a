-- +goose Up
-- The audit trail is the outbox of webhook events and the source of the
-- events feed: every change already writes its audit event in its own
-- transaction, so an event exists exactly when its change committed.
-- txid is the writing transaction's id. Readers take events in (txid, id)
-- order and only below the oldest transaction still running
-- (pg_snapshot_xmin of the current snapshot): no event can commit later
-- behind a position a reader has passed, so a cursor never skips one.
-- Older rows keep txid NULL and are in no feed. The column has no default
-- at first, so adding it rewrites nothing.
ALTER TABLE audit_events ADD COLUMN txid xid8;
ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
-- action is included so that a feed of a few types skips the others in the
-- index alone.
CREATE INDEX audit_events_feed_idx ON audit_events (tenant_id, txid, id) INCLUDE (action) WHERE txid IS NOT NULL;

-- A tenant's webhook endpoints. secret is the signing secret, sealed with
-- ROSTER_ENCRYPTION_KEY. (cursor_txid, cursor_id) is the feed position up
-- to which the worker has made this webhook's deliveries.
-- failing_since is when the endpoint started failing (cleared by any
-- success); failing for longer than the configured time disables it.
CREATE TABLE webhooks (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    events          text[] NOT NULL,
    secret          bytea NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    cursor_txid     xid8 NOT NULL,
    cursor_id       uuid NOT NULL,
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhooks_enabled_idx ON webhooks (tenant_id, id) WHERE enabled;

-- One event to one webhook: pending until delivered (succeeded) or given
-- up (failed). An event is fanned out to a webhook once (the unique key);
-- next_attempt_at doubles as the lease of a worker sending it.
CREATE TABLE webhook_deliveries (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    webhook_id      uuid NOT NULL,
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    response_code   int,
    latency_ms      int,
    last_error      text,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, webhook_id, event_id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES audit_events (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (tenant_id, webhook_id, id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP INDEX audit_events_feed_idx;
ALTER TABLE audit_events DROP COLUMN txid;
