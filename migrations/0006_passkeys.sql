-- +goose Up
-- WebAuthn credentials (passkeys). The public key is COSE-encoded as the
-- authenticator sent it; nothing here is secret. sign_count and
-- clone_warning are the anti-replay state; backup_eligible and backed_up
-- (synced vs device-bound) are kept current from every assertion.
CREATE TABLE passkeys (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    user_id          uuid NOT NULL,
    credential_id    bytea NOT NULL,
    public_key       bytea NOT NULL,
    attestation_type text NOT NULL DEFAULT '',
    aaguid           uuid,
    sign_count       bigint NOT NULL DEFAULT 0,
    clone_warning    boolean NOT NULL DEFAULT false,
    backup_eligible  boolean NOT NULL DEFAULT false,
    backed_up        boolean NOT NULL DEFAULT false,
    user_verified    boolean NOT NULL DEFAULT false,
    transports       text[] NOT NULL DEFAULT '{}',
    name             text NOT NULL,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz,
    use_count        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- An assertion names its credential; a credential belongs to one user.
CREATE UNIQUE INDEX passkeys_credential_key ON passkeys (tenant_id, credential_id);
CREATE INDEX passkeys_user_idx ON passkeys (tenant_id, user_id, created_at);

-- A WebAuthn ceremony in progress: begun by one request, finished by
-- another, perhaps on another replica. The finishing request finds it by
-- the challenge its client data carries, and deletes it (single use).
CREATE TABLE webauthn_sessions (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('registration', 'login', 'mfa', 'step_up')),
    user_id          uuid,   -- NULL for a discoverable (usernameless) sign-in
    mfa_challenge_id uuid,   -- the sign-in a second-factor ceremony belongs to
    challenge        text NOT NULL,
    session_data     jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX webauthn_sessions_challenge_key ON webauthn_sessions (challenge);
CREATE INDEX webauthn_sessions_expires_idx ON webauthn_sessions (expires_at);

-- +goose Down
DROP TABLE webauthn_sessions;
DROP TABLE passkeys;
