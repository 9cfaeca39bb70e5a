package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.PrivacyService = (*PrivacyService)(nil)

// PrivacyService is the PostgreSQL implementation of roster.PrivacyService.
type PrivacyService struct{ db *DB }

// NewPrivacyService returns a PrivacyService on db.
func NewPrivacyService(db *DB) *PrivacyService { return &PrivacyService{db: db} }

// PersonalRecords reads a person's attributes, groups, teams and linked
// identities. ENOTFOUND.
func (s *PrivacyService) PersonalRecords(ctx context.Context, tenantID, userID string) (*roster.PersonalRecords, error) {
	if !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	rec := &roster.PersonalRecords{Groups: []roster.GroupMembership{}, Teams: []roster.TeamRecord{}, Identities: []roster.LinkedIdentity{}}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT attributes FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).
			Scan(&rec.Attributes)
		if errors.Is(err, sql.ErrNoRows) {
			return roster.Errorf(roster.ENOTFOUND, "user not found")
		} else if err != nil {
			return err
		}
		if err := sqlx.SelectContext(ctx, tx, &rec.Groups, `
			SELECT m.group_id, g.display_name, m.created_at AS since
			FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
			WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY g.display_name, g.id`, tenantID, userID); err != nil {
			return err
		}
		if err := sqlx.SelectContext(ctx, tx, &rec.Teams, `
			SELECT m.team_id, t.name, m.role, m.created_at AS since
			FROM team_members m JOIN teams t ON t.tenant_id = m.tenant_id AND t.id = m.team_id
			WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY t.name, t.id`, tenantID, userID); err != nil {
			return err
		}
		return sqlx.SelectContext(ctx, tx, &rec.Identities, `
			SELECT connection_id, subject, created_at
			FROM sso_identities WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, connection_id`, tenantID, userID)
	})
	if err != nil {
		return nil, translate(err)
	}
	return rec, nil
}

// EraseUser is roster.PrivacyService's erasure.
func (s *PrivacyService) EraseUser(ctx context.Context, tenantID string, by roster.Actor, id, transferTo string) error {
	if !isUUID(id) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		u, err := getUser(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if err := checkHeir(ctx, tx, tenantID, id, transferTo); err != nil {
			return err
		}
		if err := checkUserWithin(ctx, tx, tenantID, by, u); err != nil {
			return err
		}
		if err := guardManagerLoss(ctx, tx, tenantID, by, u, nil); err != nil {
			return err
		}
		e := &erasure{tx: tx, tenantID: tenantID, user: u, values: personalValues(u), now: s.db.now()}
		for _, step := range []func(context.Context) error{e.scrubTrail, e.scrubInvitations, e.scrubMail, e.scrubSignIns} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		if transferTo != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE invitations SET invited_by = $3 WHERE tenant_id = $1 AND invited_by = $2`,
				tenantID, id, transferTo); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`DELETE FROM signin_failures WHERE tenant_id = $1 AND kind = 'account' AND key = $2`,
			`DELETE FROM api_tokens WHERE tenant_id = $1 AND user_id = $2`,
			`DELETE FROM users WHERE tenant_id = $1 AND id = $2`,
		} {
			if _, err := tx.ExecContext(ctx, q, tenantID, id); err != nil {
				return err
			}
		}
		details := map[string]any{}
		if transferTo != "" {
			details["transferred_to"] = transferTo
		}
		return insertAudit(ctx, tx, e.now, tenantID, by, roster.ActionUserErased, "user", id, details)
	})
}

// checkHeir checks the user an erased one's invitations go to: another
// user of the tenant. EINVALID naming transfer_to.
func checkHeir(ctx context.Context, tx *sqlx.Tx, tenantID, id, heir string) error {
	if heir == "" {
		return nil
	}
	bad := roster.Invalid(roster.FieldError{Field: "transfer_to", Message: "must be another user of the tenant"})
	if heir == id || !isUUID(heir) {
		return bad
	}
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2)`, tenantID, heir); err != nil {
		return err
	}
	if !ok {
		return bad
	}
	return nil
}

// personalFields are the user fields that name a person, under the keys
// the audit trail records them by.
var personalFields = []string{"email", "user_name", "given_name", "family_name", "display_name", "external_id"}

// personalValues are the person's values of personalFields, lower-cased.
func personalValues(u *roster.User) map[string]bool {
	values := map[string]bool{}
	for _, v := range []string{u.Email, u.UserName, u.GivenName, u.FamilyName, u.DisplayName} {
		if v != "" {
			values[strings.ToLower(v)] = true
		}
	}
	if u.ExternalID != nil && *u.ExternalID != "" {
		values[strings.ToLower(*u.ExternalID)] = true
	}
	return values
}

// erasure is one erasure's work on its transaction.
type erasure struct {
	tx       *sqlx.Tx
	tenantID string
	user     *roster.User
	values   map[string]bool // what names the person, lower-cased
	now      time.Time
}

// erasureBatch is how many audit events an erasure rewrites a statement.
const erasureBatch = 500

// scrubTrail replaces the person's values in the details of the events
// about them, by them and about the invitations sent to them. Events
// about them are read first: their changes hold the names and addresses
// the person had before, which are erased too.
func (e *erasure) scrubTrail(ctx context.Context) error {
	var invitations []string
	if err := e.tx.SelectContext(ctx, &invitations, `SELECT id::text FROM invitations WHERE tenant_id = $1 AND lower(email) = lower($2)`,
		e.tenantID, e.user.Email); err != nil {
		return err
	}
	for _, sel := range []struct {
		column string
		ids    []string
	}{{"target_id", []string{e.user.ID}}, {"target_id", invitations}, {"actor_id", []string{e.user.ID}}} {
		if len(sel.ids) == 0 {
			continue
		}
		if err := e.scrubEvents(ctx, sel.column, sel.ids); err != nil {
			return err
		}
	}
	return nil
}

// scrubEvents rewrites the events whose column is one of ids, a batch at
// a time in id order.
func (e *erasure) scrubEvents(ctx context.Context, column string, ids []string) error {
	after := "00000000-0000-0000-0000-000000000000"
	for {
		var rows []struct {
			ID      string          `db:"id"`
			Details json.RawMessage `db:"details"`
		}
		// column is one of two constants of scrubTrail.
		if err := e.tx.SelectContext(ctx, &rows, `SELECT id, details FROM audit_events
			WHERE tenant_id = $1 AND `+column+` = ANY($2) AND id > $3 ORDER BY id LIMIT $4`,
			e.tenantID, pq.Array(ids), after, erasureBatch); err != nil {
			return err
		}
		for _, r := range rows {
			scrubbed, changed, err := e.scrub(r.Details)
			if err != nil {
				return err
			}
			if changed {
				if _, err := e.tx.ExecContext(ctx, `UPDATE audit_events SET details = $3 WHERE tenant_id = $1 AND id = $2`,
					e.tenantID, r.ID, scrubbed); err != nil {
					return err
				}
			}
			after = r.ID
		}
		if len(rows) < erasureBatch {
			return nil
		}
	}
}

// scrub replaces in details every string that is one of the person's
// values, and the values of personal fields under "changes" (what the
// person was called before), with roster.ErasedValue.
func (e *erasure) scrub(details json.RawMessage) (json.RawMessage, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(details))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, fmt.Errorf("audit details: %w", err)
	}
	changed := false
	if m, ok := v.(map[string]any); ok {
		if changes, ok := m["changes"].(map[string]any); ok {
			for _, f := range personalFields {
				if _, ok := changes[f]; ok {
					changes[f], changed = map[string]any{"from": roster.ErasedValue, "to": roster.ErasedValue}, true
				}
			}
		}
	}
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			if e.values[strings.ToLower(t)] {
				changed = true
				return roster.ErasedValue
			}
		case map[string]any:
			for k, x := range t {
				t[k] = walk(x)
			}
		case []any:
			for i, x := range t {
				t[i] = walk(x)
			}
		}
		return v
	}
	v = walk(v)
	if !changed {
		return details, false, nil
	}
	out, err := json.Marshal(v)
	return out, true, err
}

// scrubInvitations replaces the address of the invitations sent to the
// person, and revokes the one still open.
func (e *erasure) scrubInvitations(ctx context.Context) error {
	_, err := e.tx.ExecContext(ctx, `UPDATE invitations SET email = $3,
			revoked_at = CASE WHEN accepted_at IS NULL AND revoked_at IS NULL THEN $4 ELSE revoked_at END
		WHERE tenant_id = $1 AND lower(email) = lower($2)`, e.tenantID, e.user.Email, roster.ErasedValue, e.now)
	return err
}

// scrubMail replaces the address, subject and body of the mail queued or
// sent to the person; what was still waiting is not sent.
func (e *erasure) scrubMail(ctx context.Context) error {
	_, err := e.tx.ExecContext(ctx, `UPDATE email_outbox SET recipient = $3, subject = $3, body = '',
			status = CASE WHEN status = 'pending' THEN 'dead' ELSE status END
		WHERE tenant_id = $1 AND lower(recipient) = lower($2)`, e.tenantID, e.user.Email, roster.ErasedValue)
	return err
}

// scrubSignIns keeps the person's sign-in history, which outlives them as
// the trail does, without the addresses and user agents that tell where
// and on what they signed in.
func (e *erasure) scrubSignIns(ctx context.Context) error {
	_, err := e.tx.ExecContext(ctx, `UPDATE sign_ins SET address = '', network = '', user_agent = $3
		WHERE tenant_id = $1 AND user_id = $2`, e.tenantID, e.user.ID, roster.ErasedValue)
	return err
}
