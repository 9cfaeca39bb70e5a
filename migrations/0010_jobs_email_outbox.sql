-- +goose Up
-- Background jobs (bulk user actions over large selections), claimed by
-- workers with FOR UPDATE SKIP LOCKED under a lease that a crashed worker
-- lets expire. cursor is the keyset position of the last user processed,
-- written in the same statement as the counts, so a resumed job starts
-- right after it.
CREATE TABLE jobs (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    kind         text NOT NULL,
    params       jsonb NOT NULL,
    actor        jsonb NOT NULL,       -- who asked, for the audit events the job writes
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    total        bigint,               -- counted when the job first starts
    processed    bigint NOT NULL DEFAULT 0,
    succeeded    bigint NOT NULL DEFAULT 0,
    skipped      bigint NOT NULL DEFAULT 0,
    failed       bigint NOT NULL DEFAULT 0,
    failures     jsonb NOT NULL DEFAULT '[]', -- [{id, error}], capped
    cursor       text NOT NULL DEFAULT '',
    attempts     int NOT NULL DEFAULT 0,
    lease_owner  text,
    lease_until  timestamptz,
    error        text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- Ordered by the last change, so a job that yielded after its slice goes to
-- the back of the queue and jobs of other tenants take turns.
CREATE INDEX jobs_claim_idx ON jobs (updated_at) WHERE status IN ('queued', 'running');

-- Outgoing mail, written in the transaction of the change that causes it
-- and delivered by a worker with retries and exponential backoff. A message
-- is pending until sent or dead (out of attempts); its body is cleared then,
-- so links in it do not linger.
CREATE TABLE email_outbox (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    dedupe_key      text,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX email_outbox_dedupe_key ON email_outbox (tenant_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE email_outbox;
DROP TABLE jobs;
