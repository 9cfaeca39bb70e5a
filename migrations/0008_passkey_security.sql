-- +goose Up
-- A user's security information counts their live sessions: the refresh
-- tokens neither spent nor revoked. Without this, the count would read
-- every refresh token of the tenant.
CREATE INDEX refresh_tokens_user_live_idx ON refresh_tokens (tenant_id, user_id, expires_at)
    WHERE used_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP INDEX refresh_tokens_user_live_idx;
