-- +goose Up
-- Single sign-on (issue 14). A connection's settings are one JSON document
-- (what the API shows); its secret (an OIDC client secret or a SAML SP's
-- private key) is sealed with ROSTER_ENCRYPTION_KEY, bound to the tenant
-- and the connection.
CREATE TABLE sso_connections (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    type           text NOT NULL CHECK (type IN ('oidc', 'saml')),
    config         jsonb NOT NULL,
    sealed_secret  bytea,
    sp_certificate text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sso_connections_domains_idx ON sso_connections USING gin ((config -> 'domains'));

-- Who a provider's subject is, stored at the first sign-in.
CREATE TABLE sso_identities (
    tenant_id     uuid NOT NULL,
    connection_id uuid NOT NULL,
    subject       text NOT NULL,
    user_id       uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, subject),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_identities_user_idx ON sso_identities (tenant_id, user_id);

-- Sign-ins sent to a provider, single use, for ten minutes: in the
-- database so that the callback may reach any replica. Only the state's
-- SHA-256 is stored; the nonce and PKCE verifier are derived from it.
CREATE TABLE sso_states (
    state_hash    bytea PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    connection_id uuid NOT NULL,
    return_to     text NOT NULL,
    request_id    text NOT NULL DEFAULT '',
    expires_at    timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_states_expiry_idx ON sso_states (expires_at);

-- One-time codes the browser exchanges for tokens; only hashes.
CREATE TABLE sso_codes (
    code_hash  bytea PRIMARY KEY,
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    amr        text[] NOT NULL,
    auth_time  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_codes_expiry_idx ON sso_codes (expires_at);

-- SAML assertion IDs seen, kept until the assertion expires, so that a
-- replay is refused by every replica.
CREATE TABLE saml_assertions (
    tenant_id     uuid NOT NULL,
    connection_id uuid NOT NULL,
    assertion_id  text NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, assertion_id),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES sso_connections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX saml_assertions_expiry_idx ON saml_assertions (expires_at);

-- Domains a tenant claims and proves with a DNS TXT record. Only a
-- verified domain links existing accounts by email; a domain is verified
-- by one tenant at most.
CREATE TABLE domains (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    domain      text NOT NULL,
    txt_value   text NOT NULL,
    verified_at timestamptz,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX domains_tenant_domain_key ON domains (tenant_id, domain);
CREATE UNIQUE INDEX domains_verified_key ON domains (domain) WHERE verified_at IS NOT NULL;

-- +goose Down
DROP TABLE domains;
DROP TABLE saml_assertions;
DROP TABLE sso_codes;
DROP TABLE sso_states;
DROP TABLE sso_identities;
DROP TABLE sso_connections;
