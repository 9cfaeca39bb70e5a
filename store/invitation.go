package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.InvitationService = (*InvitationService)(nil)

// InvitationService is the PostgreSQL implementation of
// roster.InvitationService.
type InvitationService struct {
	db *DB
}

// NewInvitationService returns an InvitationService on db.
func NewInvitationService(db *DB) *InvitationService {
	return &InvitationService{db: db}
}

const invitationColumns = `tenant_id, id, email, role, token_hash, invited_by, created_at, expires_at,
	accepted_at, revoked_at, user_id, email_id`

// invitationSelect reads invitations (aliased i) with the state of the
// mail carrying each one's current link; an invitation without one (made
// by hand) reads as if its mail were dead. Lock with FOR UPDATE OF i.
const invitationSelect = `SELECT i.tenant_id, i.id, i.email, i.role, i.token_hash, i.invited_by, i.created_at, i.expires_at,
	i.accepted_at, i.revoked_at, i.user_id, i.email_id, COALESCE(e.status, 'dead'), e.sent_at
	FROM invitations i LEFT JOIN email_outbox e ON e.tenant_id = i.tenant_id AND e.id = i.email_id`

func invitationFields(i *roster.Invitation) []any {
	return []any{&i.TenantID, &i.ID, &i.Email, &i.Role, &i.TokenHash, &i.InvitedBy, &i.CreatedAt, &i.ExpiresAt,
		&i.AcceptedAt, &i.RevokedAt, &i.UserID, &i.EmailID, &i.MailStatus, &i.SentAt}
}

// invitationOpenByEmail is the one invitation to an address that is
// neither accepted nor revoked (the partial unique index allows one).
const invitationOpenByEmail = invitationSelect + `
	WHERE i.tenant_id = $1 AND lower(i.email) = lower($2) AND i.accepted_at IS NULL AND i.revoked_at IS NULL
	FOR UPDATE OF i`

// CreateInvitation stores a new invitation with its audit event and its
// mail in the outbox, revoking an expired one to the same address first.
// EINVALID, ECONFLICT.
func (s *InvitationService) CreateInvitation(ctx context.Context, tenantID string, by roster.Actor, in *roster.Invitation, mail roster.InvitationMail) (*roster.Invitation, error) {
	var created *roster.Invitation
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		created, err = createInvitation(ctx, tx, s.db.now(), tenantID, by, in, s.db.sealMail(tenantID, mail))
		return err
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// invitationBatch is how many invitations of a bulk request share a
// transaction. Each is under a savepoint, a subtransaction; below 64 of
// them PostgreSQL keeps their ids in the transaction's own cache instead
// of overflowing to pg_subtrans, which would slow every other snapshot.
const invitationBatch = 50

// CreateInvitations stores each of invs as CreateInvitation does, in
// transactions of invitationBatch rows, each row under a savepoint so that
// a refused one (EINVALID, ECONFLICT) rolls back alone and is reported in
// errs at its index. Any other error stops the run and is returned; the
// batches committed before it stand.
func (s *InvitationService) CreateInvitations(ctx context.Context, tenantID string, by roster.Actor, invs []*roster.Invitation, mail roster.InvitationMail) ([]error, error) {
	errs := make([]error, len(invs))
	compose := s.db.sealMail(tenantID, mail)
	for start := 0; start < len(invs); start += invitationBatch {
		end := min(start+invitationBatch, len(invs))
		err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
			now := s.db.now()
			for i := start; i < end; i++ {
				if _, err := tx.ExecContext(ctx, `SAVEPOINT invitation`); err != nil {
					return translate(err)
				}
				_, err := createInvitation(ctx, tx, now, tenantID, by, invs[i], compose)
				switch code := roster.ErrorCode(err); {
				case err == nil:
				case code == roster.EINVALID || code == roster.ECONFLICT:
					if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT invitation`); err != nil {
						return translate(err)
					}
					errs[i] = err
				default:
					return err
				}
				if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT invitation`); err != nil {
					return translate(err)
				}
			}
			return nil
		})
		if err != nil {
			return errs, err
		}
	}
	return errs, nil
}

// invitationInsertAudited inserts an invitation, its mail and its audit
// event in one statement: one round trip per invitation of a bulk request.
const invitationInsertAudited = `WITH mail AS (
		INSERT INTO email_outbox (tenant_id, id, recipient, subject, body, next_attempt_at, created_at)
		VALUES ($1, $13, $14, $15, $16, $7, $7)),
	inserted AS (
		INSERT INTO invitations (` + invitationColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL, $13) RETURNING id)
	INSERT INTO audit_events (` + auditColumns + `)
	SELECT $1, $9, $7, $10, $6, '` + roster.ActionInvitationCreated + `', 'invitation', inserted.id::text, $11, $12
	FROM inserted`

// createInvitation checks and inserts one invitation on tx, and queues its
// mail.
func createInvitation(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, in *roster.Invitation, compose func(*roster.Invitation) (roster.Email, error)) (*roster.Invitation, error) {
	inv := *in
	inv.Normalize()
	if err := inv.Validate(); err != nil {
		return nil, err
	}
	if err := checkRole(ctx, tx, tenantID, by, "role", inv.Role); err != nil {
		return nil, err
	}
	inv.ID, inv.TenantID, inv.InvitedBy, inv.CreatedAt = newID(), tenantID, by.ID, now
	inv.AcceptedAt, inv.RevokedAt, inv.UserID = nil, nil, nil
	if err := refuseUserEmail(ctx, tx, tenantID, inv.Email); err != nil {
		return nil, err
	}
	var open roster.Invitation
	err := tx.QueryRowxContext(ctx, invitationOpenByEmail, tenantID, inv.Email).Scan(invitationFields(&open)...)
	switch {
	case err == nil && open.Status(now) == roster.InvitationPending:
		return nil, emailConflict("has a pending invitation: resend or revoke it")
	case err == nil:
		// Expired: it gives way to the new one, and says so.
		if err := setRevoked(ctx, tx, now, tenantID, by, open.ID,
			map[string]any{"email": open.Email, "reason": "expired", "replaced_by": inv.ID}); err != nil {
			return nil, err
		}
	case roster.ErrorCode(translate(err)) != roster.ENOTFOUND:
		return nil, translate(err)
	}
	details, err := json.Marshal(map[string]any{"email": inv.Email, "role": inv.Role, "expires_at": inv.ExpiresAt})
	if err != nil {
		return nil, fmt.Errorf("encode audit details: %w", err)
	}
	m, err := invitationMail(&inv, compose)
	if err != nil {
		return nil, err
	}
	emailID := newID()
	_, err = tx.ExecContext(ctx, invitationInsertAudited,
		inv.TenantID, inv.ID, inv.Email, inv.Role, inv.TokenHash, inv.InvitedBy, inv.CreatedAt, inv.ExpiresAt,
		newID(), by.Type, by.RequestID, string(details), emailID, m.To, m.Subject, m.Body)
	if err != nil {
		return nil, translate(err)
	}
	inv.EmailID, inv.MailStatus, inv.SentAt = &emailID, roster.EmailPending, nil
	return &inv, nil
}

// invitationMail composes the message carrying inv's current link, as the
// outbox takes it. EINVALID, naming "email" for a recipient it refuses.
func invitationMail(inv *roster.Invitation, compose func(*roster.Invitation) (roster.Email, error)) (roster.Email, error) {
	m, err := compose(inv)
	if err != nil {
		return m, err
	}
	err = checkEmail(m)
	if slices.ContainsFunc(roster.ErrorFields(err), func(f roster.FieldError) bool { return f.Field == "to" }) {
		return m, roster.Invalid(roster.FieldError{Field: "email", Message: "must be an address mail can be sent to"})
	}
	return m, err
}

// cancelInvitationMail cancels the mail carrying an invitation's current
// link unless it has gone out (or died) already: its link is about to stop
// working. A worker sending it at this moment may still deliver it; the
// link then answers 410.
func cancelInvitationMail(ctx context.Context, tx *sqlx.Tx, tenantID, id string) error {
	_, err := tx.ExecContext(ctx, `UPDATE email_outbox e SET status = 'cancelled', body = ''
		FROM invitations i
		WHERE i.tenant_id = $1 AND i.id = $2 AND e.tenant_id = i.tenant_id AND e.id = i.email_id AND e.status = 'pending'`,
		tenantID, id)
	return translate(err)
}

// refuseUserEmail returns ECONFLICT naming "email" when a user of the
// tenant has the address.
func refuseUserEmail(ctx context.Context, tx sqlx.QueryerContext, tenantID, email string) error {
	var taken bool
	err := sqlx.GetContext(ctx, tx, &taken,
		`SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND lower(email) = lower($2))`, tenantID, email)
	if err != nil {
		return translate(err)
	}
	if taken {
		return emailConflict("is already a user's address")
	}
	return nil
}

func emailConflict(msg string) error {
	return &roster.Error{Code: roster.ECONFLICT, Message: "email " + msg,
		Fields: []roster.FieldError{{Field: "email", Message: msg}}}
}

func setRevoked(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, id string, details map[string]any) error {
	if err := cancelInvitationMail(ctx, tx, tenantID, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, now); err != nil {
		return translate(err)
	}
	return insertAudit(ctx, tx, now, tenantID, by, roster.ActionInvitationRevoked, "invitation", id, details)
}

// invitationStatusWhere is the condition of each status at the time $now.
var invitationStatusWhere = map[string]string{
	roster.InvitationPending:  "i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $now",
	roster.InvitationExpired:  "i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at <= $now",
	roster.InvitationAccepted: "i.accepted_at IS NOT NULL",
	roster.InvitationRevoked:  "i.accepted_at IS NULL AND i.revoked_at IS NOT NULL",
}

// FindInvitations returns a page of the tenant's invitations, newest first,
// keyed on (created_at, id). EINVALID for a bad status, limit or cursor.
func (s *InvitationService) FindInvitations(ctx context.Context, tenantID string, f roster.InvitationFilter) (*roster.InvitationPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	q := &sqlBuilder{}
	where := []string{"i.tenant_id = " + q.arg(tenantID)}
	if f.Status != "" {
		cond, ok := invitationStatusWhere[f.Status]
		if !ok {
			return nil, roster.Invalid(roster.FieldError{Field: "status", Message: "must be pending, accepted, expired or revoked"})
		}
		if strings.Contains(cond, "$now") {
			cond = strings.ReplaceAll(cond, "$now", q.arg(s.db.now()))
		}
		where = append(where, cond)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "invitations", 2)
		if err != nil {
			return nil, err
		}
		if !validKey(c.Keys[0], "timestamptz") || !isUUID(c.Keys[1]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		where = append(where, "(i.created_at, i.id) < ("+q.arg(c.Keys[0])+"::timestamptz, "+q.arg(c.Keys[1])+"::uuid)")
	}
	query := invitationSelect + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY i.created_at DESC, i.id DESC LIMIT ` + q.arg(limit+1)
	rows, err := s.db.db.QueryxContext(ctx, query, q.args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	page := &roster.InvitationPage{Items: []*roster.Invitation{}}
	for rows.Next() {
		var inv roster.Invitation
		if err := rows.Scan(invitationFields(&inv)...); err != nil {
			return nil, translate(err)
		}
		page.Items = append(page.Items, &inv)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Items) > limit {
		last := page.Items[limit-1]
		page.Items = page.Items[:limit]
		page.NextCursor = cursor{Sort: "invitations",
			Keys: []string{last.CreatedAt.UTC().Format(time.RFC3339Nano), last.ID}}.encode()
	}
	return page, nil
}

// lockInvitation reads one invitation of the tenant with its row locked.
// ENOTFOUND.
func lockInvitation(ctx context.Context, tx *sqlx.Tx, tenantID, id string) (*roster.Invitation, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "invitation not found")
	}
	var inv roster.Invitation
	err := tx.QueryRowxContext(ctx, invitationSelect+`
		WHERE i.tenant_id = $1 AND i.id = $2 FOR UPDATE OF i`, tenantID, id).Scan(invitationFields(&inv)...)
	if err != nil {
		return nil, notFound(translate(err), "invitation")
	}
	return &inv, nil
}

// refuseClosed returns ECONFLICT for an invitation accepted or revoked.
func refuseClosed(inv *roster.Invitation, now time.Time) error {
	if st := inv.Status(now); st == roster.InvitationAccepted || st == roster.InvitationRevoked {
		return roster.Errorf(roster.ECONFLICT, "the invitation was %s already", st)
	}
	return nil
}

// RevokeInvitation marks a pending or expired invitation revoked, with its
// audit event. ENOTFOUND, ECONFLICT.
func (s *InvitationService) RevokeInvitation(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.Invitation, error) {
	var inv *roster.Invitation
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var err error
		if inv, err = lockInvitation(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if err := refuseClosed(inv, now); err != nil {
			return err
		}
		inv.RevokedAt = &now
		if inv.MailStatus == roster.EmailPending {
			inv.MailStatus = roster.EmailCancelled
		}
		return setRevoked(ctx, tx, now, tenantID, by, id, map[string]any{"email": inv.Email, "role": inv.Role})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// RenewInvitation replaces the token and expiry of a pending or expired
// invitation, with its audit event; the mail with the old link is
// cancelled unless it went out, and mail's message queued. ENOTFOUND,
// ECONFLICT.
func (s *InvitationService) RenewInvitation(ctx context.Context, tenantID string, by roster.Actor, id string, tokenHash []byte, expiresAt time.Time, mail roster.InvitationMail) (*roster.Invitation, error) {
	var inv *roster.Invitation
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var err error
		if inv, err = lockInvitation(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if err := refuseClosed(inv, now); err != nil {
			return err
		}
		if err := refuseUserEmail(ctx, tx, tenantID, inv.Email); err != nil {
			return err
		}
		if err := cancelInvitationMail(ctx, tx, tenantID, id); err != nil {
			return err
		}
		inv.TokenHash, inv.ExpiresAt = tokenHash, expiresAt
		m, err := invitationMail(inv, s.db.sealMail(tenantID, mail))
		if err != nil {
			return err
		}
		emailID, err := enqueueEmail(ctx, tx, now, tenantID, "", m)
		if err != nil {
			return err
		}
		inv.EmailID, inv.MailStatus, inv.SentAt = &emailID, roster.EmailPending, nil
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET token_hash = $3, expires_at = $4, email_id = $5
			WHERE tenant_id = $1 AND id = $2`, tenantID, id, tokenHash, expiresAt, inv.EmailID); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionInvitationResent, "invitation", id,
			map[string]any{"email": inv.Email, "expires_at": expiresAt})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// FindInvitationByTokenHash returns the invitation with this token hash.
// ENOTFOUND.
func (s *InvitationService) FindInvitationByTokenHash(ctx context.Context, tokenHash []byte) (*roster.Invitation, error) {
	var inv roster.Invitation
	err := s.db.db.QueryRowxContext(ctx, invitationSelect+` WHERE i.token_hash = $1`,
		tokenHash).Scan(invitationFields(&inv)...)
	if err != nil {
		return nil, notFound(translate(err), "invitation")
	}
	return &inv, nil
}

// AcceptInvitation creates the invited user and marks the invitation
// accepted in one transaction; the row lock makes a second acceptance of
// the same token wait and then find it accepted. EGONE, EINVALID, ECONFLICT.
func (s *InvitationService) AcceptInvitation(ctx context.Context, tokenHash []byte, requestID string, in *roster.User) (*roster.Invitation, *roster.User, error) {
	var inv roster.Invitation
	var created *roster.User
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		err := tx.QueryRowxContext(ctx, invitationSelect+` WHERE i.token_hash = $1 FOR UPDATE OF i`,
			tokenHash).Scan(invitationFields(&inv)...)
		if roster.ErrorCode(translate(err)) == roster.ENOTFOUND {
			return roster.InvitationGone("")
		} else if err != nil {
			return translate(err)
		}
		if st := inv.Status(now); st != roster.InvitationPending {
			return roster.InvitationGone(st)
		}
		u := *in
		u.Email, u.Role, u.Active = inv.Email, inv.Role, !u.PendingApproval
		by := roster.Actor{Type: roster.ActorInvitation, ID: inv.ID, RequestID: requestID}
		if created, err = createUser(ctx, s.db, tx, now, inv.TenantID, by, &u); err != nil {
			return err
		}
		inv.AcceptedAt, inv.UserID = &now, &created.ID
		// The invitee has the link already: a copy still queued is pointless.
		if err := cancelInvitationMail(ctx, tx, inv.TenantID, inv.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = $3, user_id = $4
			WHERE tenant_id = $1 AND id = $2`, inv.TenantID, inv.ID, now, created.ID); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, inv.TenantID, by, roster.ActionInvitationAccepted, "invitation", inv.ID,
			map[string]any{"email": inv.Email, "role": inv.Role, "user_id": created.ID})
	})
	if err != nil {
		return nil, nil, err
	}
	return &inv, created, nil
}
