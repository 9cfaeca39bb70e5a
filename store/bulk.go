package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.BulkService = (*BulkService)(nil)

// BulkService applies bulk actions through the single-user operations of
// UserService and MFAService, so that their guards and audit events are the
// ones every change goes through.
type BulkService struct {
	db    *DB
	users *UserService
	mfa   *MFAService

	// PublicURL is the base of the account link in MFA reminders.
	PublicURL string
}

// NewBulkService returns a BulkService on db.
func NewBulkService(db *DB, publicURL string) *BulkService {
	return &BulkService{db: db, users: NewUserService(db), mfa: NewMFAService(db), PublicURL: publicURL}
}

// bulkBatch is how many users a job reads per keyset page.
const bulkBatch = 500

// BulkUsers applies req within the call when it names ids or its filter
// selects at most MaxBulkSync users, and queues a job otherwise.
func (s *BulkService) BulkUsers(ctx context.Context, tenantID string, by roster.Actor, req roster.BulkRequest) (*roster.BulkResult, *roster.Job, error) {
	if err := validateBulk(req); err != nil {
		return nil, nil, err
	}
	if req.Filter != nil {
		f := *req.Filter
		f.Scope = req.Scope
		req.Filter = &f
		if err := knownRole(ctx, s.db.db, tenantID, f.Role); err != nil {
			return nil, nil, roster.Invalid(roster.FieldError{Field: "filter.role", Message: roster.ErrorMessage(err)})
		}
		if _, err := checkTeam(ctx, s.db, tenantID, "filter.team", f.Team, f.Scope); err != nil {
			return nil, nil, err
		}
	}
	// The role is checked before anything runs or is queued (a job keeps its
	// actor, bounds included, and checks each user again).
	if req.Action == roster.BulkSetRole {
		if err := checkRole(ctx, s.db.db, tenantID, by, "role", req.Role); err != nil {
			return nil, nil, err
		}
	}
	if req.IDs != nil {
		req.IDs = DistinctIDs(req.IDs)
	}
	ids := req.IDs
	selection := map[string]any{"ids": len(req.IDs)}
	if req.Filter != nil {
		selection = map[string]any{"filter": req.Filter.Params()}
		keys, err := s.selectUserKeys(ctx, tenantID, *req.Filter, userKey{}, roster.MaxBulkSync+1)
		if err != nil {
			return nil, nil, err
		}
		if len(keys) > roster.MaxBulkSync {
			job, err := s.queueJob(ctx, tenantID, by, req)
			return nil, job, err
		}
		ids = make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
	}
	// A filter selected within the scope already.
	idScope := req.Scope
	if req.Filter != nil {
		idScope = roster.UserScope{}
	}
	reached, err := s.inScope(ctx, tenantID, idScope, ids)
	if err != nil {
		return nil, nil, err
	}
	res := &roster.BulkResult{Failed: []roster.BulkFailure{}}
	for _, id := range ids {
		if !reached[id] {
			addOutcome(res, id, outcome{failure: "not found"})
			continue
		}
		outcome, err := s.applyOne(ctx, tenantID, by, req, id, "")
		if err != nil {
			return nil, nil, err
		}
		addOutcome(res, id, outcome)
	}
	details := bulkAuditDetails(req, res)
	details["selection"] = selection
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionUsersBulk, "users", "", details)
	})
	return res, nil, err
}

// inScope returns which of ids the scope reaches, all of them for an
// unbounded one: a team admin's ids outside their teams fail as "not
// found", as another tenant's do.
func (s *BulkService) inScope(ctx context.Context, tenantID string, scope roster.UserScope, ids []string) (map[string]bool, error) {
	reached := make(map[string]bool, len(ids))
	if scope.All() {
		for _, id := range ids {
			reached[id] = true
		}
		return reached, nil
	}
	q := &sqlBuilder{}
	where, err := userFilterConds(q, tenantID, roster.UserFilter{Scope: scope})
	if err != nil {
		return nil, err
	}
	where = append(where, "id = ANY ("+q.arg(pq.Array(ids))+"::uuid[])")
	rows, err := s.db.query(ctx, `SELECT id FROM users WHERE `+strings.Join(where, " AND "), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		reached[id] = true
	}
	return reached, translate(rows.Err())
}

// outcome is what a bulk action did to one user.
type outcome struct {
	skipped bool
	failure string // the caller-safe reason it failed, "" when it did not
}

// addOutcome counts one user's outcome in res.
func addOutcome(res *roster.BulkResult, id string, o outcome) {
	res.Matched++
	switch {
	case o.failure != "":
		res.FailedCount++
		if len(res.Failed) < roster.MaxBulkFailures {
			res.Failed = append(res.Failed, roster.BulkFailure{ID: id, Error: o.failure})
		}
	case o.skipped:
		res.Skipped++
	default:
		res.Succeeded++
	}
}

// applyOne applies the action to one user through the single-user
// operation. A refusal (not found, a guard, a rule) is the user's failure;
// any other error, such as a lost database, stops the whole action.
func (s *BulkService) applyOne(ctx context.Context, tenantID string, by roster.Actor, req roster.BulkRequest, id, dedupeKey string) (outcome, error) {
	var err error
	switch req.Action {
	case roster.BulkDeactivate, roster.BulkActivate, roster.BulkSetRole:
		_, err = s.users.UpdateUser(ctx, tenantID, by, id, 0, bulkChange(req))
	case roster.BulkDelete:
		err = s.users.DeleteUser(ctx, tenantID, by, id, 0)
	case roster.BulkResetMFA:
		err = s.mfa.ResetMFA(ctx, tenantID, by, id)
	case roster.BulkRemindMFA:
		var skipped bool
		skipped, err = s.remindMFA(ctx, tenantID, by, id, dedupeKey)
		if err == nil {
			return outcome{skipped: skipped}, nil
		}
	default:
		return outcome{}, fmt.Errorf("bulk action %q has no operation", req.Action)
	}
	return userOutcome(err)
}

// userOutcome sorts a single-user operation's error: a refusal (not found,
// a guard, a rule) is the user's failure, with a caller-safe reason; any
// other error, such as a lost database, stops the whole action.
func userOutcome(err error) (outcome, error) {
	switch roster.ErrorCode(err) {
	case "":
		return outcome{}, nil
	case roster.ENOTFOUND:
		return outcome{failure: "not found"}, nil
	case roster.ECONFLICT, roster.EINVALID, roster.EPRECONDITION, roster.EFORBIDDEN:
		return outcome{failure: roster.ErrorMessage(err)}, nil
	}
	return outcome{}, err
}

// onTx reports whether an action's single-user operation can run on a
// caller's transaction, so that a job records the user's outcome in the
// same commit as the change.
func onTx(action string) bool {
	switch action {
	case roster.BulkDeactivate, roster.BulkActivate, roster.BulkSetRole, roster.BulkRemindMFA:
		return true
	}
	return false
}

// applyOneOn is applyOne on tx, for the actions onTx allows: the same
// updateUser that UserService.UpdateUser runs, or the reminder.
func (s *BulkService) applyOneOn(ctx context.Context, tx *sqlx.Tx, tenantID string, by roster.Actor, req roster.BulkRequest, id, dedupeKey string) (outcome, error) {
	if req.Action == roster.BulkRemindMFA {
		skipped, err := s.remindMFAOn(ctx, tx, tenantID, by, id, dedupeKey)
		if err == nil {
			return outcome{skipped: skipped}, nil
		}
		return userOutcome(err)
	}
	_, err := updateUser(ctx, tx, s.db.now(), tenantID, by, id, 0, bulkChange(req))
	return userOutcome(err)
}

// bulkChange is the change an update action makes to a user.
func bulkChange(req roster.BulkRequest) func(u *roster.User) error {
	return func(u *roster.User) error {
		switch req.Action {
		case roster.BulkDeactivate:
			u.Active = false
		case roster.BulkActivate:
			u.Active = true
		default:
			u.Role = req.Role
		}
		return nil
	}
}

// remindMFA puts an MFA reminder in the outbox with its audit event, in one
// transaction. It skips (true) a user who is inactive, already has a second
// factor, or was reminded under the same dedupe key: as Okta and Entra do,
// a reminder nobody needs is not an error. ENOTFOUND.
func (s *BulkService) remindMFA(ctx context.Context, tenantID string, by roster.Actor, id, dedupeKey string) (bool, error) {
	var skipped bool
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		skipped, err = s.remindMFAOn(ctx, tx, tenantID, by, id, dedupeKey)
		return err
	})
	return skipped, err
}

// remindMFAOn is remindMFA on tx.
func (s *BulkService) remindMFAOn(ctx context.Context, tx *sqlx.Tx, tenantID string, by roster.Actor, id, dedupeKey string) (bool, error) {
	if !isUUID(id) {
		return false, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var u roster.User
	var hasMFA bool
	err := tx.QueryRowxContext(ctx, `
		SELECT id, email, user_name, given_name, active, cardinality(mfa_methods) > 0
		FROM users WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenantID, id).
		Scan(&u.ID, &u.Email, &u.UserName, &u.GivenName, &u.Active, &hasMFA)
	if err != nil {
		return false, notFound(translate(err), "user")
	}
	if !u.Active || hasMFA {
		return true, nil
	}
	now := s.db.now()
	emailID, err := enqueueEmail(ctx, tx, now, tenantID, dedupeKey, roster.MFAReminderEmail(s.PublicURL, &u))
	if err != nil || emailID == "" {
		return emailID == "", err
	}
	return false, insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFAReminderQueued, "user", id,
		map[string]any{"email_id": emailID})
}

// validateBulk checks a request: a known action, exactly one of ids and
// filter, a role for set_role only, and at most MaxBulkIDs distinct ids,
// which it collapses. EINVALID naming the field.
func validateBulk(req roster.BulkRequest) error {
	var fields []roster.FieldError
	add := func(field, msg string) { fields = append(fields, roster.FieldError{Field: field, Message: msg}) }
	if !slices.Contains(roster.BulkActions(), req.Action) {
		add("action", "must be one of "+strings.Join(roster.BulkActions(), ", "))
	}
	switch {
	case req.IDs == nil && req.Filter == nil:
		add("ids", "either ids or filter is required")
	case req.IDs != nil && req.Filter != nil:
		add("filter", "must not be sent with ids")
	case req.IDs != nil && len(req.IDs) == 0:
		add("ids", "must not be empty")
	case len(DistinctIDs(req.IDs)) > roster.MaxBulkIDs:
		add("ids", fmt.Sprintf("must hold at most %d ids; use a filter for more", roster.MaxBulkIDs))
	}
	for i, id := range req.IDs {
		if !isUUID(id) {
			add(fmt.Sprintf("ids[%d]", i), "must be a UUID")
		}
	}
	if req.Action == roster.BulkSetRole {
		if msg := roster.RoleNameProblem(req.Role); msg != "" {
			add("role", msg)
		}
	} else if req.Action != roster.BulkSetRole && req.Role != "" {
		add("role", "is only for set_role")
	}
	if req.Filter != nil {
		f := *req.Filter
		if f.Sort != "" || f.Cursor != "" || f.Limit != 0 {
			add("filter", "selects with the users list's filters only, no sort, limit or cursor")
		} else if _, err := userFilterConds(&sqlBuilder{}, "", f); err != nil {
			for _, fe := range roster.ErrorFields(err) {
				add("filter."+fe.Field, fe.Message)
			}
		}
	}
	if len(fields) > 0 {
		return roster.Invalid(fields...)
	}
	return nil
}

// DistinctIDs returns ids without repeats, in their first order.
func DistinctIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.ToLower(id); !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// userKey is a user's position in the default (creation) order.
type userKey struct {
	CreatedAt time.Time
	ID        string
}

// String is the key as a job stores it; "" before the first user.
func (k userKey) String() string {
	if k.ID == "" {
		return ""
	}
	return k.CreatedAt.UTC().Format(time.RFC3339Nano) + " " + k.ID
}

func parseUserKey(s string) (userKey, error) {
	if s == "" {
		return userKey{}, nil
	}
	at, id, ok := strings.Cut(s, " ")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !isUUID(id) {
		return userKey{}, fmt.Errorf("job cursor %q is malformed", s)
	}
	return userKey{CreatedAt: t, ID: id}, nil
}

// selectUserKeys returns the keys of up to limit users the filter selects
// after the key, in creation order: the users list's conditions and its
// default order's index, so a walk over a million users reads one page at
// a time.
func (s *BulkService) selectUserKeys(ctx context.Context, tenantID string, f roster.UserFilter, after userKey, limit int) ([]userKey, error) {
	q := &sqlBuilder{}
	where, err := userFilterConds(q, tenantID, f)
	if err != nil {
		return nil, err
	}
	if after.ID != "" {
		where = append(where, "(created_at, id) > ("+q.arg(after.CreatedAt)+"::timestamptz, "+q.arg(after.ID)+"::uuid)")
	}
	rows, err := s.db.query(ctx, `SELECT created_at, id FROM users WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at, id LIMIT `+q.arg(limit), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := make([]userKey, 0, min(limit, bulkBatch))
	for rows.Next() {
		var k userKey
		if err := rows.Scan(&k.CreatedAt, &k.ID); err != nil {
			return nil, translate(err)
		}
		keys = append(keys, k)
	}
	return keys, translate(rows.Err())
}

// countUsers counts the users the filter selects.
func (s *BulkService) countUsers(ctx context.Context, tenantID string, f roster.UserFilter) (int64, error) {
	q := &sqlBuilder{}
	where, err := userFilterConds(q, tenantID, f)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.db.queryRow(ctx, `SELECT count(*) FROM users WHERE `+strings.Join(where, " AND "), q.args...).Scan(&n)
	return n, translate(err)
}

// bulkAuditDetails are the details of a users.bulk_action event.
func bulkAuditDetails(req roster.BulkRequest, res *roster.BulkResult) map[string]any {
	d := map[string]any{"action": req.Action, "matched": res.Matched, "succeeded": res.Succeeded,
		"skipped": res.Skipped, "failed": res.FailedCount}
	if req.Role != "" {
		d["role"] = req.Role
	}
	return d
}

// errLeaseLost stops a job whose lease another worker has taken over.
var errLeaseLost = errors.New("job lease lost")
