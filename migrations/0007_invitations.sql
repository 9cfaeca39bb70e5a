-- +goose Up
-- An invitation to join a tenant in a role. Only the hash of its token is
-- stored. Its status is derived: accepted, revoked, expired (expires_at has
-- passed), else pending.
CREATE TABLE invitations (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    email       text NOT NULL,
    role        text NOT NULL,
    token_hash  bytea NOT NULL,
    invited_by  text NOT NULL,   -- the actor id: a user or an API token
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    user_id     uuid,            -- the user the acceptance made
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
-- One open invitation per address; an expired one is closed by the next.
CREATE UNIQUE INDEX invitations_open_email_key ON invitations (tenant_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_created_idx ON invitations (tenant_id, created_at, id);
-- Pending and expired invitations are few beside the accepted ones: their
-- list pages (and a count of the pending) read only them.
CREATE INDEX invitations_open_created_idx ON invitations (tenant_id, created_at, id)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP TABLE invitations;
