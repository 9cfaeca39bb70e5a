-- +goose Up
-- A tenant's plan: custom roles and temporary grants need enterprise.
ALTER TABLE tenants ADD CONSTRAINT tenants_plan_check
    CHECK (plan IN ('free', 'professional', 'enterprise')) NOT VALID;

-- A tenant's custom roles; the built-in admin, developer and viewer are
-- Roster's code, not rows. users.role and the other places a role is set
-- hold the name, which Roster's own JWTs carry too.
CREATE TABLE roles (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    permissions text[] NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Every check of a credential reads its role's permissions by name.
CREATE UNIQUE INDEX roles_name_key ON roles (tenant_id, name) INCLUDE (permissions);

-- Temporary elevation: a role for a user until expires_at. A grant is live
-- while expires_at > the check's time and it is not revoked; no job ends it.
CREATE TABLE role_grants (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    user_id        uuid NOT NULL,
    role           text NOT NULL,
    reason         text NOT NULL,
    granted_by     text NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    -- Whether the natural end has been written to the audit trail.
    expiry_audited boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- A user's grants: every check of a credential reads the live ones here,
-- and the list shows the ended ones too.
CREATE INDEX role_grants_user_idx ON role_grants (tenant_id, user_id, created_at);
-- Whether a role is in use.
CREATE INDEX role_grants_role_idx ON role_grants (tenant_id, role, expires_at) WHERE revoked_at IS NULL;

-- +goose Down
DROP TABLE role_grants;
DROP TABLE roles;
ALTER TABLE tenants DROP CONSTRAINT tenants_plan_check;
