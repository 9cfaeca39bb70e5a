-- +goose Up
-- Tenant settings an admin edits at /api/v1/tenant. default_role is the
-- role of users who arrive without one (SCIM, single sign-on just in time,
-- sign-up); the tenant's free preferences live in settings -> 'preferences'.
ALTER TABLE tenants
    ADD COLUMN logo_url      text,
    ADD COLUMN contact_email text,
    ADD COLUMN default_role  text NOT NULL DEFAULT 'viewer';

-- +goose Down
ALTER TABLE tenants DROP COLUMN default_role, DROP COLUMN contact_email, DROP COLUMN logo_url;
