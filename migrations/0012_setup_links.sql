-- +goose Up
-- One-time links where a user sets their password: the first admin of a
-- tenant made by `roster tenant create`, who has none, or an admin locked
-- out (`roster user reset-link`). One per user: a new link replaces the old
-- one. Only the SHA-256 of the token is stored.
CREATE TABLE setup_links (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX setup_links_token_key ON setup_links (token_hash);

-- +goose Down
DROP TABLE setup_links;
