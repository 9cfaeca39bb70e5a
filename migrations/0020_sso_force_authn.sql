-- +goose Up
-- Forced re-authentication (issue 14): a sign-in that asked its provider
-- to authenticate the user anew (OIDC prompt=login and max_age=0, SAML
-- ForceAuthn) keeps the time from which that authentication must date.
-- NULL: the sign-in did not ask.
ALTER TABLE sso_states ADD COLUMN authn_since timestamptz;

-- +goose Down
ALTER TABLE sso_states DROP COLUMN authn_since;
