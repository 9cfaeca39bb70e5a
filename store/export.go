package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.UserExportService = (*UserService)(nil)

// exportBatch is how many users an export reads per query: a keyset walk
// of short queries holds no transaction open while a slow client reads.
const exportBatch = 1000

// ExportUsers records the export, then walks the users the filter selects
// in creation order, a batch at a time, calling each for every one.
// EINVALID for a bad filter; each's error stops the walk.
func (s *UserService) ExportUsers(ctx context.Context, tenantID string, by roster.Actor, format string, f roster.UserFilter, each func(*roster.ExportedUser) error) error {
	if !slices.Contains(roster.ExportFormats(), format) {
		return roster.Invalid(roster.FieldError{Field: "format", Message: "must be one of " + strings.Join(roster.ExportFormats(), ", ")})
	}
	if err := knownRole(ctx, s.db.db, tenantID, f.Role); err != nil {
		return err
	}
	if _, err := checkTeam(ctx, s.db, tenantID, "team", f.Team, f.Scope); err != nil {
		return err
	}
	if _, err := userFilterConds(&sqlBuilder{}, tenantID, f); err != nil {
		return err
	}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionUsersExported, "tenant", tenantID,
			map[string]any{"format": format, "filters": f.Params()})
	})
	if err != nil {
		return err
	}
	var after *exportKey
	for {
		batch, err := s.exportBatch(ctx, tenantID, f, after)
		if err != nil {
			return err
		}
		for _, u := range batch {
			if err := each(u); err != nil {
				return err
			}
		}
		if len(batch) < exportBatch {
			return nil
		}
		last := batch[len(batch)-1]
		after = &exportKey{createdAt: last.CreatedAt, id: last.ID}
	}
}

// exportKey is where a batch ended: its last user's (created_at, id).
type exportKey struct {
	createdAt time.Time
	id        string
}

// exportBatch reads the batch after the key, nil for the first, on the
// list's users_created_at_idx order; the connection goes back to the pool
// before the batch is written to the client.
func (s *UserService) exportBatch(ctx context.Context, tenantID string, f roster.UserFilter, after *exportKey) ([]*roster.ExportedUser, error) {
	q := &sqlBuilder{}
	where, err := userFilterConds(q, tenantID, f)
	if err != nil {
		return nil, err
	}
	if after != nil {
		where = append(where, "(created_at, id) > ("+q.arg(after.createdAt)+"::timestamptz, "+q.arg(after.id)+"::uuid)")
	}
	query := `SELECT ` + userColumns + `, mfa_methods FROM users WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY created_at, id LIMIT ` + q.arg(exportBatch)
	rows, err := s.db.query(ctx, query, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	batch := make([]*roster.ExportedUser, 0, exportBatch)
	for rows.Next() {
		u := &roster.ExportedUser{User: &roster.User{}}
		var methods pq.StringArray
		if err := rows.Scan(append(userFields(u.User), &methods)...); err != nil {
			return nil, translate(err)
		}
		u.MFAMethods = methods
		batch = append(batch, u)
	}
	return batch, translate(rows.Err())
}
