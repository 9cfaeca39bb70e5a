-- +goose Up
-- Sign-in: a password (argon2id, PHC string), failed attempts and lockout.
ALTER TABLE users
    ADD COLUMN password_hash   text,
    ADD COLUMN failed_logins   integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until    timestamptz,
    -- The verified MFA methods, kept on the user row by every enrolment
    -- and removal, so that "who has no MFA" is a column filter at any size.
    ADD COLUMN mfa_methods     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN mfa_default     text;
CREATE INDEX users_mfa_created_idx ON users (tenant_id, (cardinality(mfa_methods) > 0), created_at, id);

-- One row per enrolled (or enrolling) method of a user. TOTP secrets are
-- sealed with AES-GCM (ROSTER_ENCRYPTION_KEY), bound to tenant and user.
CREATE TABLE mfa_methods (
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    type         text NOT NULL CHECK (type IN ('totp', 'sms', 'email')),
    secret       bytea,
    target       text,
    verified     boolean NOT NULL DEFAULT false,
    last_step    bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    verified_at  timestamptz,
    last_used_at timestamptz,
    PRIMARY KEY (tenant_id, user_id, type),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Single-use recovery codes, stored as HMAC hashes.
CREATE TABLE recovery_codes (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- A sign-in in progress: the password was right, a second factor is due.
-- The mfa_token handed to the client is stored as a hash; an emailed or
-- texted code likewise.
CREATE TABLE mfa_challenges (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    user_id         uuid NOT NULL,
    token_hash      bytea NOT NULL,
    amr             text[] NOT NULL DEFAULT '{}',
    auth_time       timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0,
    code_method     text,
    code_hash       bytea,
    code_expires_at timestamptz,
    code_sent_at    timestamptz,
    code_attempts   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX mfa_challenges_token_key ON mfa_challenges (token_hash);

-- Refresh tokens rotate: each use spends one and issues its successor in
-- the same family; a spent one used again revokes the whole family.
CREATE TABLE refresh_tokens (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    family_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    token_hash bytea NOT NULL,
    amr        text[] NOT NULL DEFAULT '{}',
    auth_time  timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id);

-- Roster's own JWT signing keys: the service's, not a tenant's. The private
-- key is sealed with ROSTER_ENCRYPTION_KEY. A new key is published (in the
-- JWKS) before it signs, and an old one stays published until the tokens it
-- signed have expired, so rotation needs no downtime.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    algorithm   text NOT NULL,
    private_key bytea NOT NULL,
    public_jwk  jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    signs_from  timestamptz NOT NULL,
    retired_at  timestamptz
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE mfa_challenges;
DROP TABLE recovery_codes;
DROP TABLE mfa_methods;
DROP INDEX users_mfa_created_idx;
ALTER TABLE users DROP COLUMN mfa_default, DROP COLUMN mfa_methods, DROP COLUMN locked_until,
    DROP COLUMN failed_logins, DROP COLUMN password_hash;
