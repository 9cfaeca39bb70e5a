-- +goose Up
-- A tenant may let users share an email address (security policy
-- unique_email false). The address stays unique among the rows whose
-- email_unique is true; the store sets it from the tenant's policy as it
-- inserts a user (reading the policy under a share lock of the tenant row)
-- and on every user of the tenant when the policy changes (under that
-- row's update lock), so a policy that wants unique addresses has them.
-- Lookups by address use users_email_sort_idx (tenant_id, lower(email), id).
-- users_user_name_key is made again after it: PostgreSQL checks unique
-- indexes in the order they were made, and a user whose user name defaults
-- to a taken address is told the address is taken, as before.
ALTER TABLE users ADD COLUMN email_unique boolean NOT NULL DEFAULT true;
DROP INDEX users_email_key;
DROP INDEX users_user_name_key;
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, lower(email)) WHERE email_unique;
CREATE UNIQUE INDEX users_user_name_key ON users (tenant_id, lower(user_name));

-- +goose Down
DROP INDEX users_email_key;
DROP INDEX users_user_name_key;
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, lower(email));
CREATE UNIQUE INDEX users_user_name_key ON users (tenant_id, lower(user_name));
ALTER TABLE users DROP COLUMN email_unique;
