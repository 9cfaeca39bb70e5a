package store

import (
	"context"
	"net/netip"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.SignInHistoryService = (*SignInHistoryService)(nil)

// SignInHistoryService is the PostgreSQL implementation of
// roster.SignInHistoryService; LoginService writes the history.
type SignInHistoryService struct {
	db *DB
}

// NewSignInHistoryService returns a SignInHistoryService on db.
func NewSignInHistoryService(db *DB) *SignInHistoryService {
	return &SignInHistoryService{db: db}
}

// insertSignIn records a, from the request's client, at now on tx.
func insertSignIn(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, a *roster.SignInAttempt) error {
	client := roster.ClientFromContext(ctx)
	a.ID, a.At = newID(), now
	a.Address, a.UserAgent = clip(client.Address, 64), clip(client.UserAgent, 512)
	amr := a.AMR
	if amr == nil {
		amr = []string{}
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO sign_ins (tenant_id, id, user_id, at, address, network, user_agent, method, result, reason, amr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		tenantID, a.ID, nullUUID(a.UserID), a.At, a.Address, deviceNetwork(a.Address), a.UserAgent,
		a.Method, a.Result, a.Reason, pq.Array(amr))
	return translate(err)
}

// deviceNetwork is the network part of a device: the address's /24 for
// IPv4, its /48 for IPv6 (a household's or an office's usual prefix), or
// the address as given when it is not one.
func deviceNetwork(address string) string {
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return address
	}
	addr = addr.Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return address
	}
	return p.String()
}

// signInDevice answers, before a success of the user is recorded, whether
// they signed in successfully before at all, and whether from this device
// (network and user agent) since $5: two probes of sign_ins_device_idx,
// the first ordered as the index is so that no plan reads the table.
const signInDevice = `SELECT
	(SELECT network FROM sign_ins WHERE tenant_id = $1 AND user_id = $2 AND result = 'success'
	 ORDER BY tenant_id, user_id, network LIMIT 1) IS NOT NULL,
	EXISTS (SELECT 1 FROM sign_ins WHERE tenant_id = $1 AND user_id = $2 AND result = 'success'
	        AND network = $3 AND user_agent = $4 AND at > $5)`

// mailNewDevice queues the new sign-in mail when a, a success not yet
// recorded, comes from a device u has not signed in from within
// roster.NewDeviceWindow; never on a first sign-in. The caller holds u's
// row locked, so two sign-ins from one new device mail once.
func mailNewDevice(ctx context.Context, tx sqlx.ExtContext, now time.Time, u *roster.User, a *roster.SignInAttempt) error {
	client := roster.ClientFromContext(ctx)
	var before, known bool
	err := tx.QueryRowxContext(ctx, signInDevice, u.TenantID, u.ID, deviceNetwork(clip(client.Address, 64)),
		clip(client.UserAgent, 512), now.Add(-roster.NewDeviceWindow)).Scan(&before, &known)
	if err != nil {
		return translate(err)
	}
	if !before || known {
		return nil
	}
	shown := *a
	shown.At, shown.Address, shown.UserAgent = now, clip(client.Address, 64), clip(client.UserAgent, 512)
	_, err = enqueueEmail(ctx, tx, now, u.TenantID, "", roster.NewSignInEmail(u, &shown))
	if roster.ErrorCode(err) == roster.EINVALID {
		return nil // an address the outbox cannot take: the sign-in stands
	}
	return err
}

// FindSignIns returns a page of the user's history, newest first, from
// sign_ins_user_idx. EINVALID naming limit or cursor.
func (s *SignInHistoryService) FindSignIns(ctx context.Context, tenantID, userID string, f roster.SignInFilter) (*roster.SignInPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	page := &roster.SignInPage{Items: []*roster.SignInAttempt{}}
	if !isUUID(tenantID) || !isUUID(userID) {
		return page, nil
	}
	args := []any{tenantID, userID, limit + 1}
	after := ""
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "sign-ins", 2)
		if err != nil {
			return nil, err
		}
		if !validKey(c.Keys[0], "timestamptz") || !isUUID(c.Keys[1]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		args = append(args, c.Keys[0], c.Keys[1])
		// The first condition bounds the index scan; the second leaves out
		// the rows of the cursor's own instant it has passed.
		after = ` AND at <= $4::timestamptz AND (at < $4::timestamptz OR id > $5::uuid)`
	}
	rows, err := s.db.db.QueryContext(ctx, signInsOfUser+after+` ORDER BY at DESC, id LIMIT $3`, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a roster.SignInAttempt
		var user *string
		if err := rows.Scan(&a.ID, &user, &a.At, &a.Address, &a.UserAgent, &a.Method, &a.Result, &a.Reason, pq.Array(&a.AMR)); err != nil {
			return nil, translate(err)
		}
		if user != nil {
			a.UserID = *user
		}
		page.Items = append(page.Items, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Items) > limit {
		last := page.Items[limit-1]
		page.Items = page.Items[:limit]
		page.NextCursor = cursor{Sort: "sign-ins", Keys: []string{last.At.UTC().Format(time.RFC3339Nano), last.ID}}.encode()
	}
	return page, nil
}

// signInsOfUser selects a user's history; the page's condition and order
// follow.
const signInsOfUser = `SELECT id, user_id, at, address, user_agent, method, result, reason, amr
	FROM sign_ins WHERE tenant_id = $1 AND user_id = $2`

// statsFailedSignIns counts the tenant's failed sign-ins since $2, known
// accounts or not, from sign_ins_failed_idx alone.
const statsFailedSignIns = `SELECT count(*) FROM sign_ins WHERE tenant_id = $1 AND result = 'failure' AND at > $2`
