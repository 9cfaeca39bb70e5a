-- +goose Up
-- What identity providers send beyond Roster's own user fields, kept as sent.
ALTER TABLE users ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';

CREATE TABLE groups (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    display_name text NOT NULL,
    external_id  text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_key ON groups (tenant_id, lower(display_name));
CREATE INDEX groups_external_id_idx ON groups (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX groups_created_at_idx ON groups (tenant_id, created_at, id);

-- One row per membership: adding a member to a group of 100,000 is one
-- insert, as it is for a group of 10.
CREATE TABLE group_members (
    tenant_id  uuid NOT NULL,
    group_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user_idx ON group_members (tenant_id, user_id);

-- +goose Down
DROP TABLE group_members;
DROP TABLE groups;
ALTER TABLE users DROP COLUMN attributes;
