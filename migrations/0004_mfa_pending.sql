-- +goose Up
-- A TOTP enrolment awaiting its first code keeps its secret apart from the
-- one in use (secret), so that a user moving to a new phone keeps signing in
-- with the old authenticator until the new one has proved itself. secret is
-- NULL until a first enrolment is confirmed.
ALTER TABLE mfa_methods
    ADD COLUMN pending_secret bytea,
    ADD COLUMN pending_since  timestamptz;

-- +goose Down
ALTER TABLE mfa_methods DROP COLUMN pending_since, DROP COLUMN pending_secret;
