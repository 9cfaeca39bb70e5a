-- +goose Up
-- An SMS or email method being enrolled (or re-enrolled to a new number or
-- address) awaits a one-time code sent to pending_target; the verified
-- target, if any, stays in use meanwhile. Only the code's HMAC is stored.
ALTER TABLE mfa_methods
    ADD COLUMN pending_target  text,
    ADD COLUMN code_hash       bytea,
    ADD COLUMN code_expires_at timestamptz,
    ADD COLUMN code_sent_at    timestamptz,
    ADD COLUMN code_attempts   integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE mfa_methods DROP COLUMN code_attempts, DROP COLUMN code_sent_at,
    DROP COLUMN code_expires_at, DROP COLUMN code_hash, DROP COLUMN pending_target;
