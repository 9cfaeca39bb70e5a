package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.AuditService = (*AuditService)(nil)

// AuditService is the PostgreSQL implementation of roster.AuditService.
type AuditService struct {
	db *DB
}

// NewAuditService returns an AuditService on db.
func NewAuditService(db *DB) *AuditService {
	return &AuditService{db: db}
}

// FindAuditEvents returns a page of the tenant's events, newest first, keyed
// on the time-ordered id. EINVALID for a bad limit or cursor.
func (s *AuditService) FindAuditEvents(ctx context.Context, tenantID string, f roster.AuditFilter) (*roster.AuditPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	q := &sqlBuilder{}
	where := []string{"tenant_id = " + q.arg(tenantID)}
	for _, cond := range []struct{ column, value, field string }{
		{"action", f.Action, "action"},
		{"target_id", f.TargetID, "target_id"},
		{"actor_id", f.ActorID, "actor_id"},
	} {
		if cond.value == "" {
			continue
		}
		if msg := queryProblem(cond.value); msg != "" {
			return nil, roster.Invalid(roster.FieldError{Field: cond.field, Message: msg})
		}
		where = append(where, cond.column+" = "+q.arg(cond.value))
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "audit", 1)
		if err != nil {
			return nil, err
		}
		if !isUUID(c.Keys[0]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		where = append(where, "id < "+q.arg(c.Keys[0])+"::uuid")
	}
	query := `SELECT tenant_id, id, occurred_at, actor_type, actor_id, action, target_type, target_id, request_id, details
		FROM audit_events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ` + q.arg(limit+1)
	var rows []*roster.AuditEvent
	if err := sqlx.SelectContext(ctx, s.db.db, &rows, query, q.args...); err != nil {
		return nil, translate(err)
	}
	page := &roster.AuditPage{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		page.NextCursor = cursor{Sort: "audit", Keys: []string{rows[limit-1].ID}}.encode()
	}
	return page, nil
}

// auditColumns are the columns an audit event is written with.
const auditColumns = `tenant_id, id, occurred_at, actor_type, actor_id, action, target_type, target_id, request_id, details`

// insertAudit writes an audit event on tx, in the transaction of the change.
func insertAudit(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, by roster.Actor, action, targetType, targetID string, details any) error {
	return insertAuditWithID(ctx, tx, now, tenantID, newID(), by, action, targetType, targetID, details)
}

// insertAuditWithID is insertAudit for a caller that needs the event's id.
func insertAuditWithID(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID, id string, by roster.Actor, action, targetType, targetID string, details any) error {
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encode audit details: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_events (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		tenantID, id, now, by.Type, by.ID, action, targetType, targetID, by.RequestID, raw)
	return translate(err)
}
