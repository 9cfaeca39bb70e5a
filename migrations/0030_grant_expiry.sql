-- +goose Up
-- The grants whose natural end the audit trail (and so the grant.expired
-- webhook) has not recorded yet: a worker records them within a minute.
CREATE INDEX role_grants_unaudited_idx ON role_grants (expires_at)
    WHERE NOT expiry_audited AND revoked_at IS NULL;

-- +goose Down
DROP INDEX role_grants_unaudited_idx;
