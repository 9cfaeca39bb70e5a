-- +goose Up
-- Sign-in history: every attempt at a sign-in (a password, a passkey, a
-- second factor, a federated sign-in), what it came with and how it ended.
-- A failed attempt at an unknown account has no user: it counts towards the
-- tenant's failures but is in nobody's history. There is no foreign key to
-- users: the history of a deleted user stays, as the audit trail does.
-- network is the address's /24 (IPv4) or /48 (IPv6), which with the user
-- agent makes the device a new-sign-in mail is about.
CREATE TABLE sign_ins (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    user_id    uuid,
    at         timestamptz NOT NULL,
    address    text NOT NULL DEFAULT '',
    network    text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    method     text NOT NULL,
    result     text NOT NULL CHECK (result IN ('success', 'failure', 'mfa_required')),
    reason     text NOT NULL DEFAULT '',
    amr        text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
-- A user's history, newest first, keyset-paged.
CREATE INDEX sign_ins_user_idx ON sign_ins (tenant_id, user_id, at DESC, id) WHERE user_id IS NOT NULL;
-- The failures of the last 24 hours, for the dashboard, read from the index
-- alone.
CREATE INDEX sign_ins_failed_idx ON sign_ins (tenant_id, at) WHERE result = 'failure';
-- Whether a user signed in from a device lately: one probe.
CREATE INDEX sign_ins_device_idx ON sign_ins (tenant_id, user_id, network, user_agent, at)
    WHERE result = 'success' AND user_id IS NOT NULL;

-- Active users by when they were last active (their last sign-in, or their
-- creation if they never signed in), for the inactivity job: the ones to
-- warn and to deactivate are each one range of it.
CREATE INDEX users_inactive_since_idx ON users (tenant_id, (coalesce(last_login_at, created_at)), id) WHERE active;

-- The daily inactivity job of a tenant is queued once a day, however many
-- replicas try.
CREATE UNIQUE INDEX jobs_daily_key ON jobs (tenant_id, kind, (params ->> 'day')) WHERE kind = 'inactivity';

-- +goose Down
DROP INDEX jobs_daily_key;
DROP INDEX users_inactive_since_idx;
DROP TABLE sign_ins;
