-- +goose Up
-- A session is a sign-in: the family of refresh tokens it rotates through,
-- whose id the access tokens carry as "sid". This is what a person sees of
-- it (where and with what it last came, how it signed in); whether it is
-- alive is its refresh tokens' business: one neither spent, revoked nor
-- expired.
CREATE TABLE sessions (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    user_id      uuid NOT NULL,
    amr          text[] NOT NULL DEFAULT '{}',
    address      text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id, created_at);

-- The sessions of tokens issued before this migration, with what is known.
INSERT INTO sessions (tenant_id, id, user_id, amr, created_at, last_seen_at)
SELECT DISTINCT ON (tenant_id, family_id) tenant_id, family_id, user_id, amr,
       min(created_at) OVER (PARTITION BY tenant_id, family_id), max(created_at) OVER (PARTITION BY tenant_id, family_id)
FROM refresh_tokens
ORDER BY tenant_id, family_id, created_at;

-- +goose Down
DROP TABLE sessions;
