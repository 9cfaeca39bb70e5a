-- +goose Up
-- Sign-up and admin approval.
--
-- A signed-up admin proves their address with a one-time link before the
-- account works: a setup link of purpose verify (the same single use,
-- hashed token and one link per user as a password reset).
ALTER TABLE setup_links DROP CONSTRAINT setup_links_purpose_check;
ALTER TABLE setup_links ADD CONSTRAINT setup_links_purpose_check CHECK (purpose IN ('setup', 'reset', 'verify'));

-- Under the approval_required policy a new user waits, deactivated, until
-- an admin approves them; activating them is the approval.
ALTER TABLE users ADD COLUMN pending_approval boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD CONSTRAINT users_pending_inactive CHECK (NOT (pending_approval AND active));
-- The directory's pending_approval filter and the stats figure: a few rows
-- of a large tenant, in the default order.
CREATE INDEX users_pending_approval_idx ON users (tenant_id, created_at, id) INCLUDE (role) WHERE pending_approval;

-- +goose Down
DROP INDEX users_pending_approval_idx;
ALTER TABLE users DROP CONSTRAINT users_pending_inactive;
ALTER TABLE users DROP COLUMN pending_approval;
DELETE FROM setup_links WHERE purpose = 'verify';
ALTER TABLE setup_links DROP CONSTRAINT setup_links_purpose_check;
ALTER TABLE setup_links ADD CONSTRAINT setup_links_purpose_check CHECK (purpose IN ('setup', 'reset'));
