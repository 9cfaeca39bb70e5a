-- +goose Up
-- Dashboard statistics at any tenant size. A live aggregate over a tenant of
-- 1,000,000 users takes 170 ms or more (docs/benchmarks.md); these counters,
-- kept by statement-level triggers, make GET /api/v1/stats a sum over a few
-- hundred rows.
--
-- Every count is split over 64 slots, each connection (backend) adding to
-- its own: a single counter row per group would make every concurrent
-- insert of the tenant wait for the one before it to commit (all new users
-- fall in the same group, today's). Two busy connections share a slot only
-- when their process ids agree modulo 64. A reader sums the slots: at most
-- 64 rows per group.
--
-- The counter tables have no foreign key to tenants on purpose: the
-- triggers write to them while a tenant's users are deleted by cascade, and
-- tenant ids are never reused.

-- The verified MFA methods as bits: totp 1, sms 2, email 4, passkey 8.
-- +goose StatementBegin
CREATE FUNCTION roster_mfa_mask(methods text[]) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN 'totp' = ANY (methods) THEN 1 ELSE 0 END
          + CASE WHEN 'sms' = ANY (methods) THEN 2 ELSE 0 END
          + CASE WHEN 'email' = ANY (methods) THEN 4 ELSE 0 END
          + CASE WHEN 'passkey' = ANY (methods) THEN 8 ELSE 0 END)::smallint
$$;
-- +goose StatementEnd

-- Users by role, status and MFA methods.
CREATE TABLE user_counts (
    tenant_id uuid NOT NULL,
    role      text NOT NULL,
    active    boolean NOT NULL,
    mfa_mask  smallint NOT NULL,
    slot      smallint NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (tenant_id, role, active, mfa_mask, slot)
);

-- Sign-ups by UTC day of created_at, role and status.
CREATE TABLE user_signup_days (
    tenant_id uuid NOT NULL,
    day       date NOT NULL,
    role      text NOT NULL,
    active    boolean NOT NULL,
    slot      smallint NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, role, active, slot)
);

-- Passkeys by their backup flags.
CREATE TABLE passkey_counts (
    tenant_id       uuid NOT NULL,
    backup_eligible boolean NOT NULL,
    backed_up       boolean NOT NULL,
    slot            smallint NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (tenant_id, backup_eligible, backed_up, slot)
);

-- The users of a statement's transition tables (old rows counted -1, new
-- rows +1) folded into the counters: one upsert per group the statement
-- touched, none for an update that moved no user between groups (a sign-in,
-- a rename). A COPY of a million users is a few thousand upserts. Rows are
-- upserted in key order, so that two statements moving users between the
-- same groups in opposite directions lock them in the same order rather
-- than deadlock.
-- +goose StatementBegin
CREATE FUNCTION roster_count_users() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pick smallint := (pg_backend_pid() % 64)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_counts AS c (tenant_id, role, active, mfa_mask, slot, n)
        SELECT tenant_id, role, active, roster_mfa_mask(mfa_methods), pick, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, role, active, mfa_mask, slot) DO UPDATE SET n = c.n + excluded.n;
        INSERT INTO user_signup_days AS c (tenant_id, day, role, active, slot, n)
        SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, role, active, pick, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, day, role, active, slot) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO user_counts AS c (tenant_id, role, active, mfa_mask, slot, n)
        SELECT tenant_id, role, active, roster_mfa_mask(mfa_methods), pick, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, role, active, mfa_mask, slot) DO UPDATE SET n = c.n + excluded.n;
        INSERT INTO user_signup_days AS c (tenant_id, day, role, active, slot, n)
        SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, role, active, pick, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, day, role, active, slot) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO user_counts AS c (tenant_id, role, active, mfa_mask, slot, n)
        SELECT tenant_id, role, active, mask, pick, sum(d)
        FROM (SELECT tenant_id, role, active, roster_mfa_mask(mfa_methods) AS mask, -1 AS d FROM old_rows
              UNION ALL
              SELECT tenant_id, role, active, roster_mfa_mask(mfa_methods), 1 FROM new_rows) AS moved
        GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, role, active, mfa_mask, slot) DO UPDATE SET n = c.n + excluded.n;
        INSERT INTO user_signup_days AS c (tenant_id, day, role, active, slot, n)
        SELECT tenant_id, day, role, active, pick, sum(d)
        FROM (SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, role, active, -1 AS d FROM old_rows
              UNION ALL
              SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, role, active, 1 FROM new_rows) AS moved
        GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant_id, day, role, active, slot) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_count_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_count_users();
CREATE TRIGGER users_count_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_count_users();
CREATE TRIGGER users_count_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_count_users();

-- +goose StatementBegin
CREATE FUNCTION roster_count_passkeys() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pick smallint := (pg_backend_pid() % 64)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO passkey_counts AS c (tenant_id, backup_eligible, backed_up, slot, n)
        SELECT tenant_id, backup_eligible, backed_up, pick, count(*) FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, backup_eligible, backed_up, slot) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO passkey_counts AS c (tenant_id, backup_eligible, backed_up, slot, n)
        SELECT tenant_id, backup_eligible, backed_up, pick, -count(*) FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, backup_eligible, backed_up, slot) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO passkey_counts AS c (tenant_id, backup_eligible, backed_up, slot, n)
        SELECT tenant_id, backup_eligible, backed_up, pick, sum(d)
        FROM (SELECT tenant_id, backup_eligible, backed_up, -1 AS d FROM old_rows
              UNION ALL
              SELECT tenant_id, backup_eligible, backed_up, 1 FROM new_rows) AS moved
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, backup_eligible, backed_up, slot) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER passkeys_count_insert AFTER INSERT ON passkeys
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_count_passkeys();
CREATE TRIGGER passkeys_count_update AFTER UPDATE ON passkeys
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_count_passkeys();
CREATE TRIGGER passkeys_count_delete AFTER DELETE ON passkeys
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_count_passkeys();

-- What exists already, counted once into slot 0.
INSERT INTO user_counts (tenant_id, role, active, mfa_mask, slot, n)
SELECT tenant_id, role, active, roster_mfa_mask(mfa_methods), 0, count(*) FROM users GROUP BY 1, 2, 3, 4;
INSERT INTO user_signup_days (tenant_id, day, role, active, slot, n)
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, role, active, 0, count(*) FROM users GROUP BY 1, 2, 3, 4;
INSERT INTO passkey_counts (tenant_id, backup_eligible, backed_up, slot, n)
SELECT tenant_id, backup_eligible, backed_up, 0, count(*) FROM passkeys GROUP BY 1, 2, 3;

-- Time decides what these count, so they cannot be counters: small partial
-- indexes find the few rows that qualify now.
CREATE INDEX users_locked_idx ON users (tenant_id, locked_until) INCLUDE (role, active)
    WHERE locked_until IS NOT NULL;
CREATE INDEX invitations_pending_idx ON invitations (tenant_id, expires_at) INCLUDE (role)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP INDEX invitations_pending_idx;
DROP INDEX users_locked_idx;
DROP TRIGGER passkeys_count_delete ON passkeys;
DROP TRIGGER passkeys_count_update ON passkeys;
DROP TRIGGER passkeys_count_insert ON passkeys;
DROP FUNCTION roster_count_passkeys();
DROP TRIGGER users_count_delete ON users;
DROP TRIGGER users_count_update ON users;
DROP TRIGGER users_count_insert ON users;
DROP FUNCTION roster_count_users();
DROP TABLE passkey_counts;
DROP TABLE user_signup_days;
DROP TABLE user_counts;
DROP FUNCTION roster_mfa_mask(text[]);
