-- +goose Up
-- Failed sign-ins counted per account and per address of a tenant, so that
-- every replica of `roster serve` throttles on the same counts: spreading
-- guesses over replicas gains an attacker nothing. Counts are kept in short
-- buckets (a tenth of the window); a check sums the buckets still inside the
-- window. key is the user's id (or "name:" and the name typed, for a user
-- that does not exist, so the throttle does not tell which users do) for
-- kind 'account', and the client address for kind 'address'.
-- Growth is bounded: each bucket row expires one window after it closes,
-- and every recorded failure deletes a bounded batch of expired rows (no
-- sweeper). A sign-in that succeeds or an admin's unlock deletes the
-- account's rows.
CREATE TABLE signin_failures (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('account', 'address')),
    key          text NOT NULL,
    bucket_start timestamptz NOT NULL,
    failures     int NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind, key, bucket_start)
);
CREATE INDEX signin_failures_expiry_idx ON signin_failures (expires_at);

-- Passkey ceremonies are always taken with their tenant, so a challenge
-- need only be unique within it: a unique index holding the tenant is one
-- a database sharded by tenant (Citus) can keep (docs/scaling.md).
DROP INDEX webauthn_sessions_challenge_key;
CREATE UNIQUE INDEX webauthn_sessions_challenge_key ON webauthn_sessions (tenant_id, challenge);

-- +goose Down
DROP INDEX webauthn_sessions_challenge_key;
CREATE UNIQUE INDEX webauthn_sessions_challenge_key ON webauthn_sessions (challenge);
DROP TABLE signin_failures;
