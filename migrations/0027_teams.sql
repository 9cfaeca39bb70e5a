-- +goose Up
-- Teams: a tenant's own nested subgroups (up to 10 levels), managed in
-- Roster, unlike the flat groups identity providers push over SCIM.
--
-- path lists the team's ancestors and the team itself, root first, so that
-- a team's subtree is every team whose path holds its id (one GIN lookup,
-- whatever the depth), its depth is the path's length, and a move rewrites
-- the paths of the subtree in one statement.
CREATE TABLE teams (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    parent_id   uuid,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    -- Roles every member of the team and of its subteams holds.
    roles       text[] NOT NULL DEFAULT '{}',
    path        uuid[] NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES teams (tenant_id, id),
    CHECK (cardinality(path) BETWEEN 1 AND 10 AND path[cardinality(path)] = id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (tenant_id, lower(name));
CREATE INDEX teams_path_idx ON teams USING gin (path);
CREATE INDEX teams_parent_idx ON teams (tenant_id, parent_id, lower(name));
-- Whether a role is in use.
CREATE INDEX teams_roles_idx ON teams USING gin (roles);

-- One row per membership; an admin of a team manages the members of the
-- team and of its subteams, and sees those users.
CREATE TABLE team_members (
    tenant_id  uuid NOT NULL,
    team_id    uuid NOT NULL,
    user_id    uuid NOT NULL,
    role       text NOT NULL CHECK (role IN ('member', 'admin')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, team_id, user_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- A user's teams: every check of a credential reads them.
CREATE INDEX team_members_user_idx ON team_members (tenant_id, user_id) INCLUDE (team_id, role);

-- +goose Down
DROP TABLE team_members;
DROP TABLE teams;
