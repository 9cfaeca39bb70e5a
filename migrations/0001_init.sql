-- +goose Up
-- Every tenant-owned table leads its primary key with tenant_id so that the
-- schema can be distributed by tenant (Citus-style) without rewriting keys.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL,
    name       text NOT NULL,
    plan       text NOT NULL DEFAULT 'free',
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (lower(slug));

CREATE TABLE users (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    user_name     text NOT NULL,
    email         text NOT NULL,
    given_name    text NOT NULL DEFAULT '',
    family_name   text NOT NULL DEFAULT '',
    display_name  text NOT NULL DEFAULT '',
    external_id   text,
    role          text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    version       bigint NOT NULL DEFAULT 1,
    -- What q matches: stored, so that filtering rows costs no lower() calls.
    search        text NOT NULL GENERATED ALWAYS AS (
        lower(email) || ' ' || lower(user_name) || ' ' || lower(given_name) || ' ' || lower(family_name)
    ) STORED,
    PRIMARY KEY (tenant_id, id)
);
-- Uniqueness is case-insensitive and per tenant.
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, lower(email));
CREATE UNIQUE INDEX users_user_name_key ON users (tenant_id, lower(user_name));
CREATE INDEX users_external_id_idx ON users (tenant_id, external_id) WHERE external_id IS NOT NULL;

-- Keyset pagination: one index per sort order, each ending in id so that a
-- cursor (sort value, id) is a range scan whatever the page depth.
CREATE INDEX users_created_at_idx ON users (tenant_id, created_at, id);
CREATE INDEX users_email_sort_idx ON users (tenant_id, lower(email), id);
CREATE INDEX users_name_sort_idx ON users (tenant_id, lower(family_name), lower(given_name), id);
CREATE INDEX users_last_login_sort_idx ON users (tenant_id, coalesce(last_login_at, '-infinity'::timestamptz), id);
-- The common administrator filter: role and status, newest first.
CREATE INDEX users_role_active_created_idx ON users (tenant_id, role, active, created_at, id);
-- Substring search (q): trigrams of the four searchable names.
CREATE INDEX users_search_idx ON users USING gin (search gin_trgm_ops);

CREATE TABLE api_tokens (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    prefix       text NOT NULL,
    token_hash   bytea NOT NULL,
    role         text NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    user_id      uuid,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- A token is found by its hash before its tenant is known.
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);

CREATE TABLE audit_events (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_type  text NOT NULL,
    actor_id    text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    request_id  text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_events_action_idx ON audit_events (tenant_id, action, id);
CREATE INDEX audit_events_target_idx ON audit_events (tenant_id, target_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE tenants;
