-- +goose Up
-- The purge (issue 16) finds expired challenges by their expiry, and keeps
-- the mail an invitation names (invitations.email_id references it).
CREATE INDEX mfa_challenges_expiry_idx ON mfa_challenges (expires_at);
CREATE INDEX invitations_email_id_idx ON invitations (tenant_id, email_id);

-- +goose Down
DROP INDEX invitations_email_id_idx;
DROP INDEX mfa_challenges_expiry_idx;
