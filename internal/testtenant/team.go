package testtenant

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// Execer runs a statement: a *sql.DB, *sqlx.DB or transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Team is a team a test made with SQL, and its path (its ancestors' ids,
// root first, then its own).
type Team struct {
	ID   string
	Path []string
}

// CreateTeam inserts a team under parent (nil for a top-level team) that
// gives roles to its members and its subteams' members. Tests make teams
// with SQL, computing the path themselves, so that they depend on nothing
// but the schema of migrations/0027_teams.sql.
func CreateTeam(tb testing.TB, db Execer, tenantID string, parent *Team, name string, roles ...string) Team {
	tb.Helper()
	t := Team{ID: uuid.Must(uuid.NewV7()).String()}
	var parentID any
	if parent != nil {
		parentID = parent.ID
		t.Path = slices.Clone(parent.Path)
	}
	t.Path = append(t.Path, t.ID)
	if roles == nil {
		roles = []string{}
	}
	now := time.Now()
	if _, err := db.ExecContext(context.Background(), `INSERT INTO teams (tenant_id, id, parent_id, name, roles, path, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, tenantID, t.ID, parentID, name, pq.Array(roles), pq.Array(t.Path), now); err != nil {
		tb.Fatalf("create team %s: %v", name, err)
	}
	return t
}

// AddTeamMember makes the user a member of the team with role (member or
// admin).
func AddTeamMember(tb testing.TB, db Execer, tenantID string, team Team, userID, role string) {
	tb.Helper()
	if _, err := db.ExecContext(context.Background(), `INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		VALUES ($1, $2, $3, $4, now())`, tenantID, team.ID, userID, role); err != nil {
		tb.Fatalf("add %s to team %s: %v", userID, team.ID, err)
	}
}

// RemoveTeamMember takes the user out of the team.
func RemoveTeamMember(tb testing.TB, db Execer, tenantID string, team Team, userID string) {
	tb.Helper()
	if _, err := db.ExecContext(context.Background(), `DELETE FROM team_members WHERE tenant_id = $1 AND team_id = $2 AND user_id = $3`,
		tenantID, team.ID, userID); err != nil {
		tb.Fatalf("remove %s from team %s: %v", userID, team.ID, err)
	}
}
