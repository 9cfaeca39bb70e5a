package store

import (
	"context"
	"strconv"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.EventService = (*EventService)(nil)

// EventService is the PostgreSQL implementation of roster.EventService:
// the events feed, read from the audit trail.
type EventService struct {
	db *DB
}

// NewEventService returns an EventService on db.
func NewEventService(db *DB) *EventService {
	return &EventService{db: db}
}

// feedPosition is a place in the feed: the (txid, id) of the last event
// passed. txid is kept as text, as PostgreSQL prints an xid8.
type feedPosition struct {
	TxID string
	ID   string
}

// feedStart is before every event.
var feedStart = feedPosition{TxID: "0", ID: "00000000-0000-0000-0000-000000000000"}

func (p feedPosition) encode() string {
	return cursor{Sort: "events", Keys: []string{p.TxID, p.ID}}.encode()
}

// decodeFeedPosition parses a feed cursor; "" is the start. EINVALID naming
// field.
func decodeFeedPosition(s, field string) (feedPosition, error) {
	if s == "" {
		return feedStart, nil
	}
	c, err := decodeCursor(s, "events", 2)
	if err == nil {
		if _, perr := strconv.ParseUint(c.Keys[0], 10, 64); perr == nil && isUUID(c.Keys[1]) {
			return feedPosition{TxID: c.Keys[0], ID: c.Keys[1]}, nil
		}
	}
	return feedPosition{}, roster.Invalid(roster.FieldError{Field: field, Message: "is not a cursor of the events feed"})
}

// feedHorizon is the oldest transaction still running: every audit event
// of an older transaction has committed or rolled back, and no event can
// appear below it any more.
func feedHorizon(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var h string
	err := q.QueryRowxContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&h)
	return h, translate(err)
}

// feedEvent is an audit event with its feed position.
type feedEvent struct {
	roster.AuditEvent
	TxID string `db:"txid"`
}

// readFeed returns up to limit events of the tenant after pos and below
// horizon, of types (all when empty), and the position to go on from: the
// last event's when the page is full, else the horizon, which everything
// below has been read up to.
func readFeed(ctx context.Context, q sqlx.QueryerContext, tenantID string, pos feedPosition, types []string, limit int, horizon string) ([]*feedEvent, feedPosition, error) {
	var rows []*feedEvent
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT tenant_id, id, occurred_at, actor_type, actor_id, action, target_type, target_id, request_id, details, txid::text AS txid
		FROM audit_events
		WHERE tenant_id = $1 AND txid IS NOT NULL AND (txid, id) > ($2::xid8, $3::uuid) AND txid < $4::xid8
		  AND `+roster.EventSourceSQL(types)+`
		ORDER BY txid, id LIMIT $5`, tenantID, pos.TxID, pos.ID, horizon, limit)
	if err != nil {
		return nil, pos, translate(err)
	}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		return rows, feedPosition{TxID: last.TxID, ID: last.ID}, nil
	}
	// Positions and horizons are decimal xid8s, parsed before they get here.
	h, _ := strconv.ParseUint(horizon, 10, 64)
	p, _ := strconv.ParseUint(pos.TxID, 10, 64)
	if h < p {
		return rows, pos, nil // a cursor from a newer snapshot than this one: never go back
	}
	return rows, feedPosition{TxID: horizon, ID: feedStart.ID}, nil
}

// FindEvents returns a page of the tenant's feed. EINVALID for a bad
// cursor, type or limit.
func (s *EventService) FindEvents(ctx context.Context, tenantID string, f roster.EventFilter) (*roster.EventPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	pos, err := decodeFeedPosition(f.After, "after")
	if err != nil {
		return nil, err
	}
	for _, t := range f.Types {
		if !roster.IsEventType(t) {
			return nil, roster.Invalid(roster.FieldError{Field: "types", Message: "has an unknown event type"})
		}
	}
	horizon, err := feedHorizon(ctx, s.db.db)
	if err != nil {
		return nil, err
	}
	rows, next, err := readFeed(ctx, s.db.db, tenantID, pos, f.Types, limit, horizon)
	if err != nil {
		return nil, err
	}
	page := &roster.EventPage{Items: make([]*roster.Event, 0, len(rows)), NextCursor: next.encode()}
	for _, r := range rows {
		ev, err := roster.NewEvent(&r.AuditEvent, roster.EventTypeOf(&r.AuditEvent))
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, ev)
	}
	return page, nil
}
