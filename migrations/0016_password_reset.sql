-- +goose Up
-- A setup link is also how a forgotten password is reset: the same single
-- use, hashed token and one link per user, with a shorter life and its own
-- mail. purpose says which it is, for the audit trail and the mail sent
-- once the password is changed.
ALTER TABLE setup_links ADD COLUMN purpose text NOT NULL DEFAULT 'setup' CHECK (purpose IN ('setup', 'reset'));

-- +goose Down
ALTER TABLE setup_links DROP COLUMN purpose;
