package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// What the SCIM scenarios add to the bench tenant, once or per run.
const (
	// scimUserPrefix starts the userName of every user the SCIM scenarios
	// create: scimbench-RUN-..., deleted by that pattern after each scenario.
	scimUserPrefix = "scimbench-"
	// externalIDs is how many seeded users get an external id (the seed
	// gives none), for the externalId filter.
	externalIDs = 5000
	// smallGroupSize is the small group's membership; -big-group the big one's.
	smallGroupSize = 10
)

// createSCIMToken makes a fresh token for /scim/v2, which needs the
// explicit scim:provision scope.
func (env *benchEnv) createSCIMToken(ctx context.Context) (string, error) {
	out, err := env.roster(ctx, "token", "create", "--tenant", env.tenantID, "--role", "admin",
		"--scopes", "scim:provision", "--name", "bench-scim", "--json")
	if err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("roster token create --scopes scim:provision did not print a token")
	}
	return tok.Token, nil
}

// ensureExternalIDs gives n seeded users an Okta-style external id
// (00u + 17 hex digits) unless that many have one already: one UPDATE,
// spread over the table, then VACUUM (ANALYZE) so that plans and
// index-only scans stay what they were.
func (env *benchEnv) ensureExternalIDs(ctx context.Context, n int) error {
	var have int
	if err := env.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND external_id IS NOT NULL`,
		env.tenantID).Scan(&have); err != nil {
		return err
	}
	if have >= n {
		return nil
	}
	logf("giving %d seeded users an external id", n-have)
	start := time.Now()
	res, err := env.db.ExecContext(ctx, `
		UPDATE users SET external_id = '00u' || substr(md5(id::text), 1, 17)
		WHERE tenant_id = $1 AND id IN (
			SELECT id FROM users
			WHERE tenant_id = $1 AND external_id IS NULL AND user_name NOT LIKE 'scimbench-%'
			ORDER BY md5(id::text) LIMIT $2)`, env.tenantID, n-have)
	if err != nil {
		return fmt.Errorf("set external ids: %w", err)
	}
	updated, _ := res.RowsAffected()
	if _, err := env.db.ExecContext(ctx, `VACUUM (ANALYZE) users`); err != nil {
		return err
	}
	logf("  %d users updated, vacuumed in %s", updated, time.Since(start).Round(time.Millisecond))
	return nil
}

// scimValues are existing users' attribute values the filters look up.
type scimValues struct {
	userNames, emails, externalIDs []string
}

// sampleSCIMValues picks up to n random users' userName and email, and up
// to n random external ids.
func (env *benchEnv) sampleSCIMValues(ctx context.Context, n int) (*scimValues, error) {
	v := &scimValues{}
	rows, err := env.db.QueryContext(ctx, `
		SELECT user_name, email FROM users
		WHERE tenant_id = $1 AND user_name NOT LIKE 'scimbench-%' ORDER BY random() LIMIT $2`, env.tenantID, n)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, email string
		if err := rows.Scan(&name, &email); err != nil {
			rows.Close()
			return nil, err
		}
		v.userNames, v.emails = append(v.userNames, name), append(v.emails, email)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if v.externalIDs, err = queryStrings(ctx, env.db, `
		SELECT external_id FROM users WHERE tenant_id = $1 AND external_id IS NOT NULL
		ORDER BY random() LIMIT $2`, env.tenantID, n); err != nil {
		return nil, err
	}
	if len(v.userNames) == 0 || len(v.externalIDs) == 0 {
		return nil, fmt.Errorf("the bench tenant has no users with external ids to filter on")
	}
	return v, nil
}

func queryStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// benchGroup is a group the PATCH scenarios change.
type benchGroup struct {
	id, name string
	members  int
	boundary string // the id of its last member in id order
}

// ensureGroup finds or makes the group named name whose members are the
// tenant's first size users in id order, and puts its membership back to
// exactly those (a run stopped between adding a member and removing it
// leaves one too many). Everything is SQL, in one transaction: 100,000
// memberships take seconds this way, once.
func (env *benchEnv) ensureGroup(ctx context.Context, name string, size int) (*benchGroup, error) {
	g := &benchGroup{name: name}
	tx, err := env.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE tenant_id = $1 ORDER BY id OFFSET $2 LIMIT 1`,
		env.tenantID, size-1).Scan(&g.boundary); err != nil {
		return nil, fmt.Errorf("the tenant has fewer than %d users for group %s: %w", size, name, err)
	}
	err = tx.QueryRowContext(ctx, `SELECT id FROM groups WHERE tenant_id = $1 AND lower(display_name) = lower($2)`,
		env.tenantID, name).Scan(&g.id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `
			INSERT INTO groups (tenant_id, id, display_name, created_at, updated_at)
			VALUES ($1, gen_random_uuid(), $2, now(), now()) RETURNING id`, env.tenantID, name).Scan(&g.id)
	}
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", name, err)
	}
	var beyond int
	if err := tx.QueryRowContext(ctx, `
		SELECT count(*), count(*) FILTER (WHERE user_id > $3) FROM group_members WHERE tenant_id = $1 AND group_id = $2`,
		env.tenantID, g.id, g.boundary).Scan(&g.members, &beyond); err != nil {
		return nil, err
	}
	if g.members == size && beyond == 0 {
		return g, nil
	}
	logf("setting group %q to %d members (had %d, %d of them extra)", name, size, g.members, beyond)
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id > $3`,
		env.tenantID, g.id, g.boundary); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO group_members (tenant_id, group_id, user_id, created_at)
		SELECT $1, $2, id, now() FROM users WHERE tenant_id = $1 AND id <= $3
		ON CONFLICT DO NOTHING`, env.tenantID, g.id, g.boundary); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2`,
		env.tenantID, g.id).Scan(&g.members); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if _, err := env.db.ExecContext(ctx, `VACUUM (ANALYZE) group_members`); err != nil {
		return nil, err
	}
	return g, nil
}

// memberCandidates picks n random users in neither group (beyond the big
// group's boundary), to be added and removed again.
func (env *benchEnv) memberCandidates(ctx context.Context, boundary string, n int) ([]string, error) {
	ids, err := queryStrings(ctx, env.db, `
		SELECT id FROM users WHERE tenant_id = $1 AND id > $2 AND user_name NOT LIKE 'scimbench-%'
		ORDER BY random() LIMIT $3`, env.tenantID, boundary, n)
	if err == nil && len(ids) < n {
		err = fmt.Errorf("only %d users outside the big group, %d needed", len(ids), n)
	}
	return ids, err
}

// deleteSCIMUsers removes the users whose userName matches pattern (a LIKE
// pattern starting with scimbench-), in one DELETE, and says how many.
func (env *benchEnv) deleteSCIMUsers(ctx context.Context, pattern string) (int64, error) {
	res, err := env.db.ExecContext(ctx, `DELETE FROM users WHERE tenant_id = $1 AND lower(user_name) LIKE $2`, env.tenantID, pattern)
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", pattern, err)
	}
	return res.RowsAffected()
}
