package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// The bench tenant's teams: benchTeams teams under benchRoots top-level
// ones, nested up to maxTeamDepth levels, with about one membership per
// user.
const (
	benchTeams     = 10_000
	benchRoots     = 10
	maxTeamDepth   = 10
	secondaryShare = 20 // one user in secondaryShare is in a second team too
)

// The teams the team scenarios ask about, named by the seed: a leaf of
// smallTeamSize members, a team whose subtree has about a thousand
// members, and the top-level team with the most.
const (
	smallTeamName = "Bench small"
	midTeamName   = "Bench mid"
	bigTeamName   = "Bench big"
	smallTeamSize = 10
)

// benchTeam is one seeded team.
type benchTeam struct {
	id       uuid.UUID
	parent   int // index of the parent, -1 at the top
	path     []uuid.UUID
	children int
	size     int // direct members
	subtree  int // members of the team and its subteams (first memberships)
	name     string
}

// ensureTeams seeds the tenant's teams and memberships when it does not
// have benchTeams teams: in one transaction, after removing any partial
// set, so that a run stopped halfway seeds again.
func (env *benchEnv) ensureTeams(ctx context.Context) error {
	var teams, members int
	if err := env.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM teams WHERE tenant_id = $1),
		(SELECT count(*) FROM team_members WHERE tenant_id = $1)`, env.tenantID).Scan(&teams, &members); err != nil {
		return err
	}
	if teams == benchTeams && members > 0 {
		logf("tenant %s already has %d teams and %d memberships", env.tenantID, teams, members)
		return env.findBenchTeams(ctx)
	}
	start := time.Now()
	tree := benchTeamTree(env.users)
	logf("seeding %d teams and about %d memberships", len(tree), env.users+env.users/secondaryShare)
	tx, err := env.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	for _, q := range []string{`DELETE FROM team_members WHERE tenant_id = $1`, `DELETE FROM teams WHERE tenant_id = $1`} {
		if _, err := tx.ExecContext(ctx, q, env.tenantID); err != nil {
			return err
		}
	}
	if err := copyTeams(ctx, tx, env.tenantID, tree); err != nil {
		return err
	}
	if err := insertMemberships(ctx, tx, env.tenantID, tree); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, table := range []string{"teams", "team_members"} {
		if _, err := env.db.ExecContext(ctx, `VACUUM (ANALYZE) `+table); err != nil {
			return err
		}
	}
	logf("  seeded teams in %s", time.Since(start).Round(time.Millisecond))
	return env.findBenchTeams(ctx)
}

// findBenchTeams reads the ids of the teams the scenarios ask about.
func (env *benchEnv) findBenchTeams(ctx context.Context) error {
	env.teams = map[string]string{}
	for size, name := range map[string]string{"small": smallTeamName, "mid": midTeamName, "big": bigTeamName} {
		var id string
		if err := env.db.QueryRowContext(ctx, `SELECT id FROM teams WHERE tenant_id = $1 AND name = $2`, env.tenantID, name).Scan(&id); err != nil {
			return fmt.Errorf("team %q: %w", name, err)
		}
		env.teams[size] = id
	}
	return nil
}

// benchTeamTree grows the teams from benchRoots top-level ones, each new
// team under a random earlier one that is not at the deepest level (so
// early teams gather large subtrees, as divisions do), then shares about
// 95% of users among them: leaves get most, teams with subteams a few
// (their leads), and names the three the scenarios use.
func benchTeamTree(users int) []*benchTeam {
	rng := rand.New(rand.NewPCG(15, 27))
	tree := make([]*benchTeam, 0, benchTeams)
	for i := range benchTeams {
		t := &benchTeam{id: uuid.Must(uuid.NewV7()), parent: -1, name: fmt.Sprintf("Team %05d", i)}
		if i >= benchRoots {
			for {
				t.parent = rng.IntN(i)
				if len(tree[t.parent].path) < maxTeamDepth {
					break
				}
			}
			tree[t.parent].children++
			t.path = append(t.path, tree[t.parent].path...)
		} else {
			t.name = fmt.Sprintf("Division %02d", i)
		}
		t.path = append(t.path, t.id)
		tree = append(tree, t)
	}
	weights, total := make([]int, len(tree)), 0
	for i, t := range tree {
		weights[i] = 5 + rng.IntN(20)
		if t.children == 0 {
			weights[i] = 50 + rng.IntN(100)
		}
		total += weights[i]
	}
	budget := users - users/secondaryShare
	small := len(tree) - 1 // the last team has no subteams
	for i, t := range tree {
		t.size = max(1, weights[i]*budget/total)
	}
	tree[small].size, tree[small].name = smallTeamSize, smallTeamName
	for i := len(tree) - 1; i >= 0; i-- {
		t := tree[i]
		t.subtree += t.size
		if t.parent >= 0 {
			tree[t.parent].subtree += t.subtree
		}
	}
	mid, big := -1, 0
	for i, t := range tree {
		if len(t.path) >= 3 && (mid < 0 || abs(t.subtree-1000) < abs(tree[mid].subtree-1000)) {
			mid = i
		}
		if t.parent < 0 && t.subtree > tree[big].subtree {
			big = i
		}
	}
	tree[mid].name, tree[big].name = midTeamName, bigTeamName
	return tree
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// copyTeams writes the teams with COPY, parents before their subteams;
// one team in fifty gives its members the developer role.
func copyTeams(ctx context.Context, tx *sql.Tx, tenantID string, tree []*benchTeam) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("teams", "tenant_id", "id", "parent_id", "name", "roles", "path", "created_at", "updated_at"))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for i, t := range tree {
		var parent any
		if t.parent >= 0 {
			parent = tree[t.parent].id.String()
		}
		roles := []string{}
		if i%50 == 7 {
			roles = []string{"developer"}
		}
		path := make([]string, len(t.path))
		for j, id := range t.path {
			path[j] = id.String()
		}
		if _, err := stmt.ExecContext(ctx, tenantID, t.id.String(), parent, t.name, pq.Array(roles), pq.Array(path), now, now); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return err
	}
	return stmt.Close()
}

// insertMemberships gives each team a run of users in a fixed random order
// of the tenant's users (the first of each run is the team's admin), then
// puts one user in secondaryShare in a second team too, never the small
// one, so that subtrees share some members.
func insertMemberships(ctx context.Context, tx *sql.Tx, tenantID string, tree []*benchTeam) error {
	ids, sizes := make([]string, len(tree)), make([]int64, len(tree))
	var others []string
	for i, t := range tree {
		ids[i], sizes[i] = t.id.String(), int64(t.size)
		if t.name != smallTeamName {
			others = append(others, ids[i])
		}
	}
	_, err := tx.ExecContext(ctx, `
		WITH runs AS (
			SELECT team_id, sum(size) OVER (ORDER BY ord) - size AS first, size
			FROM unnest($2::uuid[], $3::bigint[]) WITH ORDINALITY AS r (team_id, size, ord)),
		seats AS (
			SELECT team_id, first + n AS rn, n = 1 AS lead FROM runs, generate_series(1, size) AS n),
		shuffled AS (
			SELECT id, row_number() OVER (ORDER BY md5(id::text)) AS rn FROM users WHERE tenant_id = $1)
		INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		SELECT $1, s.team_id, u.id, CASE WHEN s.lead THEN 'admin' ELSE 'member' END, now()
		FROM seats s JOIN shuffled u ON u.rn = s.rn`,
		tenantID, pq.Array(ids), pq.Array(sizes))
	if err != nil {
		return fmt.Errorf("memberships: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO team_members (tenant_id, team_id, user_id, role, created_at)
		SELECT $1, ($2::uuid[])[1 + (rn * 7919) % cardinality($2::uuid[])], id, 'member', now()
		FROM (SELECT id, row_number() OVER (ORDER BY md5(id::text || 'second')) AS rn FROM users WHERE tenant_id = $1) u
		WHERE rn % $3 = 0
		ON CONFLICT DO NOTHING`, tenantID, pq.Array(others), secondaryShare)
	if err != nil {
		return fmt.Errorf("second memberships: %w", err)
	}
	return nil
}

// teamSizes are the team scenarios' teams, smallest first.
var teamSizes = []string{"small", "mid", "big"}

// teamScenarios are the users list and its count narrowed to a team's
// subtree, for each of the seeded teams, and the big one with the seed's
// story.
func teamScenarios(env *benchEnv) []*scenario {
	var out []*scenario
	for _, size := range teamSizes {
		out = append(out, listScenario("team="+size, listFilter{team: env.teams[size], limit: pageSize},
			"the members of a team and its subteams ("+teamNote[size]+")"))
	}
	yes, no := true, false
	out = append(out, listScenario("team=big&mfa=disabled&active=true", listFilter{team: env.teams["big"], mfa: &no, active: &yes, limit: pageSize},
		"the big subtree's active members without a second factor"))
	out = append(out, listScenario("team=mid&sort=email", listFilter{team: env.teams["mid"], sort: "email", limit: pageSize},
		"the mid subtree in email order"))
	for _, size := range teamSizes {
		out = append(out, countScenario("count team="+size, listFilter{team: env.teams[size]},
			"a team's count, stopped after the cap like a search's"))
	}
	return out
}

// teamNote says what each seeded team is.
var teamNote = map[string]string{
	"small": "a team of 10 with no subteams",
	"mid":   "a team whose subtree has about 1,000 members",
	"big":   "the top-level team with the most members, 100,000 or more",
}
