-- +goose Up
-- Tenant settings an admin edits at /api/v1/tenant. default_role is the
-- role of users who arrive without one (SCIM, single sign-on just in time,
-- sign-up); the tenant's free preferences live in settings -> 'preferences'.
ALTER TABLE tenants
    ADD COLUMN logo_url      text,
    ADD COLUMN contact_email text,
    ADD COLUMN default_role  text NOT NULL DEFAULT 'viewer';

-- Personal API keys are api_tokens of kind 'personal': a user's, with the
-- permissions they gave the key as scopes and no role of their own (role
-- ''), since the owner's role at each use is what the permissions are held
-- against. A rotation keeps the replaced secret's hash in previous_hash
-- until previous_expires_at. use_count, last_used_at and last_used_address
-- are written by the authenticator at most once a minute per key and
-- process. reminded_expires_at is the expiry its owner was last reminded
-- of: an expiry that changes is reminded of again.
ALTER TABLE api_tokens
    ADD COLUMN kind                text NOT NULL DEFAULT 'tenant' CHECK (kind IN ('tenant', 'personal')),
    ADD COLUMN previous_hash       bytea,
    ADD COLUMN previous_expires_at timestamptz,
    ADD COLUMN use_count           bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_used_address   text,
    ADD COLUMN reminded_expires_at timestamptz;
CREATE UNIQUE INDEX api_tokens_previous_hash_key ON api_tokens (previous_hash) WHERE previous_hash IS NOT NULL;
CREATE INDEX api_tokens_personal_idx ON api_tokens (tenant_id, user_id, id) WHERE kind = 'personal' AND revoked_at IS NULL;
CREATE INDEX api_tokens_reminder_idx ON api_tokens (expires_at)
    WHERE kind = 'personal' AND revoked_at IS NULL AND reminded_expires_at IS DISTINCT FROM expires_at;

-- The token vault: a user's tokens for other services, sealed with
-- ROSTER_ENCRYPTION_KEY (AES-256-GCM, bound to the tenant, user and
-- service), with a hint of a few characters to tell them apart. Read by
-- the tenant's services, each read counted here and audited.
CREATE TABLE user_tokens (
    tenant_id           uuid NOT NULL,
    user_id             uuid NOT NULL,
    service             text NOT NULL,
    sealed              bytea NOT NULL,
    hint                text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    expires_at          timestamptz,
    last_used_at        timestamptz,
    use_count           bigint NOT NULL DEFAULT 0,
    reminded_expires_at timestamptz,
    PRIMARY KEY (tenant_id, user_id, service),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_tokens_reminder_idx ON user_tokens (expires_at) WHERE reminded_expires_at IS DISTINCT FROM expires_at;

-- +goose Down
DROP TABLE user_tokens;
DROP INDEX api_tokens_reminder_idx, api_tokens_personal_idx, api_tokens_previous_hash_key;
ALTER TABLE api_tokens DROP COLUMN reminded_expires_at, DROP COLUMN last_used_address, DROP COLUMN use_count,
    DROP COLUMN previous_expires_at, DROP COLUMN previous_hash, DROP COLUMN kind;
ALTER TABLE tenants DROP COLUMN default_role, DROP COLUMN contact_email, DROP COLUMN logo_url;
