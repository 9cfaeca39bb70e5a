package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.UserService = (*UserService)(nil)

// UserService is the PostgreSQL implementation of roster.UserService.
type UserService struct {
	db *DB
}

// NewUserService returns a UserService on db.
func NewUserService(db *DB) *UserService {
	return &UserService{db: db}
}

const userColumns = `id, tenant_id, user_name, email, given_name, family_name, display_name,
	external_id, role, active, created_at, updated_at, last_login_at, version, attributes, pending_approval`

// userFields returns pointers to u's fields in userColumns order, for Scan:
// explicit scanning costs a fraction of reflection on every listed row.
func userFields(u *roster.User) []any {
	return []any{&u.ID, &u.TenantID, &u.UserName, &u.Email, &u.GivenName, &u.FamilyName, &u.DisplayName,
		&u.ExternalID, &u.Role, &u.Active, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt, &u.Version, &u.Attributes, &u.PendingApproval}
}

// userListColumns are the columns a list of users shows: every field but
// the tenant (the caller's) and the free-form attributes, which a list
// never shows and which cost PostgreSQL a jsonb output per row.
const userListColumns = `id, user_name, email, given_name, family_name, display_name,
	external_id, role, active, created_at, updated_at, last_login_at, version, pending_approval`

// userListFields returns pointers to u's fields in userListColumns order.
func userListFields(u *roster.User) []any {
	return []any{&u.ID, &u.UserName, &u.Email, &u.GivenName, &u.FamilyName, &u.DisplayName,
		&u.ExternalID, &u.Role, &u.Active, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt, &u.Version, &u.PendingApproval}
}

// getUser reads one user on q, locking its row when forUpdate.
func getUser(ctx context.Context, q sqlx.QueryerContext, tenantID, id string, forUpdate bool) (*roster.User, error) {
	query := UserGetByIDSQL
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var u roster.User
	if err := q.QueryRowxContext(ctx, query, tenantID, id).Scan(userFields(&u)...); err != nil {
		return nil, notFound(translate(err), "user")
	}
	return &u, nil
}

// UserGetByIDSQL reads one user by primary key; exported for the
// benchmark's EXPLAIN.
const UserGetByIDSQL = `SELECT ` + userColumns + ` FROM users WHERE tenant_id = $1 AND id = $2`

// FindUsersByEmail returns the users with this address, in any case, on
// users_email_sort_idx.
func (s *UserService) FindUsersByEmail(ctx context.Context, tenantID, email string) ([]*roster.User, error) {
	if !isUUID(tenantID) {
		return nil, nil
	}
	rows, err := s.db.query(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND lower(email) = lower($2)
		ORDER BY lower(email), id LIMIT `+fmt.Sprint(roster.MaxPageSize), tenantID, email)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []*roster.User
	for rows.Next() {
		var u roster.User
		if err := rows.Scan(userFields(&u)...); err != nil {
			return nil, translate(err)
		}
		users = append(users, &u)
	}
	return users, translate(rows.Err())
}

const userInsert = `INSERT INTO users (` + userColumns + `, password_hash, email_unique)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $22, nullif($16, ''),
	        coalesce((` + tenantUniqueEmail + `), true))`

const userUpdate = `UPDATE users SET user_name = $3, email = $4, given_name = $5, family_name = $6,
	display_name = $7, external_id = $8, role = $9, active = $10, updated_at = $11, version = $12,
	attributes = $13, password_hash = coalesce(nullif($14, ''), password_hash), pending_approval = $15
	WHERE tenant_id = $1 AND id = $2`

// CreateUser validates and stores a new user. EINVALID, ECONFLICT.
func (s *UserService) CreateUser(ctx context.Context, tenantID string, by roster.Actor, u *roster.User) (*roster.User, error) {
	var created *roster.User
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		created, err = createUser(ctx, s.db, tx, s.db.now(), tenantID, by, u)
		return err
	})
	return created, err
}

// createUser inserts a user and its audit event on tx.
// userInsertAudited inserts a user and its audit event in one statement.
// Prepared once per connection, it makes a new user one round trip inside
// its transaction: what provisioning at an identity provider's pace costs.
const userInsertAudited = `WITH inserted AS (` + userInsert + ` RETURNING id)
	INSERT INTO audit_events (` + auditColumns + `)
	SELECT $2, $17, $11, $18, $19, '` + roster.ActionUserCreated + `', 'user', inserted.id::text, $20, $21
	FROM inserted`

func createUser(ctx context.Context, db *DB, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, in *roster.User) (*roster.User, error) {
	u := *in
	u.Normalize()
	role, err := newUserRole(ctx, tx, tenantID, u.Role)
	if err != nil {
		return nil, err
	}
	u.Role = role
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if err := checkRole(ctx, tx, tenantID, by, "role", u.Role); err != nil {
		return nil, err
	}
	u.ID, u.TenantID, u.CreatedAt, u.UpdatedAt, u.Version = newID(), tenantID, now, now, 1
	details, err := json.Marshal(map[string]any{"email": u.Email, "user_name": u.UserName, "role": u.Role,
		"active": u.Active, "password_set": u.SetPasswordHash != "", "pending_approval": u.PendingApproval})
	if err != nil {
		return nil, fmt.Errorf("encode audit details: %w", err)
	}
	args := []any{u.ID, u.TenantID, u.UserName, u.Email, u.GivenName, u.FamilyName,
		u.DisplayName, u.ExternalID, u.Role, u.Active, u.CreatedAt, u.UpdatedAt, u.LastLoginAt, u.Version,
		string(u.Attributes), u.SetPasswordHash,
		newID(), by.Type, by.ID, by.RequestID, string(details), u.PendingApproval}
	u.SetPasswordHash = "" // the hash does not travel back
	if stmt, perr := db.prepared(ctx, userInsertAudited); perr == nil {
		_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, userInsertAudited, args...)
	}
	if err != nil {
		return nil, translate(err)
	}
	return &u, nil
}

// FindUserByID returns one user of the tenant. ENOTFOUND.
func (s *UserService) FindUserByID(ctx context.Context, tenantID, id string) (*roster.User, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	stmt, err := s.db.prepared(ctx, UserGetByIDSQL)
	if err != nil {
		return nil, err
	}
	var u roster.User
	if err := stmt.QueryRowContext(ctx, tenantID, id).Scan(userFields(&u)...); err != nil {
		return nil, notFound(translate(err), "user")
	}
	return &u, nil
}

// UpdateUser applies change to the locked row and writes the result with its
// audit event in one transaction. ENOTFOUND, EINVALID, ECONFLICT, EPRECONDITION.
func (s *UserService) UpdateUser(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64, change func(*roster.User) error) (*roster.User, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var updated *roster.User
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		updated, err = updateUser(ctx, tx, s.db.now(), tenantID, by, id, ifVersion, change)
		return err
	})
	return updated, err
}

// updateUser is UpdateUser on a transaction, for every change to a user
// (a group push changing roles too), so that the guards and the audit
// trail cannot be bypassed.
func updateUser(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, id string, ifVersion int64, change func(*roster.User) error) (*roster.User, error) {
	before, err := getUser(ctx, tx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("user", ifVersion, before.Version); err != nil {
		return nil, err
	}
	after := *before
	if err := change(&after); err != nil {
		return nil, err
	}
	// What identifies a row and its history is not the caller's to change.
	after.ID, after.TenantID, after.CreatedAt, after.LastLoginAt, after.Version =
		before.ID, before.TenantID, before.CreatedAt, before.LastLoginAt, before.Version
	// A user waits for approval from their creation on; activating them
	// is the approval.
	after.PendingApproval = before.PendingApproval && !after.Active
	after.Normalize()
	if err := after.ValidateUpdate(before); err != nil {
		return nil, err
	}
	changes := userChanges(before, &after)
	newHash := after.SetPasswordHash
	after.SetPasswordHash = "" // the hash does not travel back
	if newHash != "" {
		changes["password"] = map[string]any{"set": true}
	}
	if len(changes) == 0 {
		return before, nil
	}
	if err := guardUserChange(ctx, tx, tenantID, by, before, &after); err != nil {
		return nil, err
	}
	after.UpdatedAt, after.Version = now, before.Version+1
	_, err = tx.ExecContext(ctx, userUpdate, tenantID, id, after.UserName, after.Email, after.GivenName,
		after.FamilyName, after.DisplayName, after.ExternalID, after.Role, after.Active, after.UpdatedAt,
		after.Version, string(after.Attributes), newHash, after.PendingApproval)
	if err != nil {
		return nil, translate(err)
	}
	action := roster.ActionUserUpdated
	if before.PendingApproval && !after.PendingApproval {
		action = roster.ActionUserApproved
	} else if before.Active && !after.Active {
		action = roster.ActionUserDeactivated
	} else if !before.Active && after.Active {
		action = roster.ActionUserActivated
	}
	return &after, insertAudit(ctx, tx, now, tenantID, by, action, "user", id, map[string]any{"changes": changes})
}

// DeleteUser removes a user and the API tokens that act for them. ENOTFOUND,
// ECONFLICT for the last active admin or oneself, EPRECONDITION.
func (s *UserService) DeleteUser(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64) error {
	if !isUUID(id) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		u, err := getUser(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if err := checkVersion("user", ifVersion, u.Version); err != nil {
			return err
		}
		if err := checkUserWithin(ctx, tx, tenantID, by, u); err != nil {
			return err
		}
		if err := guardManagerLoss(ctx, tx, tenantID, by, u, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE tenant_id = $1 AND user_id = $2`, tenantID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionUserDeleted, "user", id,
			map[string]any{"email": u.Email, "user_name": u.UserName, "role": u.Role})
	})
}

// guardManagerLoss refuses a change that takes the permission to manage
// roles (roles:write, an admin's) away from an active holder of it
// (deactivation, a role without it, deletion: after nil) when that is
// oneself or the tenant's last active holder. The tenant row is locked so
// two holders demoting each other at once cannot both succeed.
func guardManagerLoss(ctx context.Context, tx sqlx.ExtContext, tenantID string, by roster.Actor, u, after *roster.User) error {
	if !u.Active {
		return nil
	}
	if held, err := grantsManage(ctx, tx, tenantID, u.Role); err != nil || !held {
		return err
	}
	if after != nil && after.Active {
		if kept, err := grantsManage(ctx, tx, tenantID, after.Role); err != nil || kept {
			return err
		}
	}
	if by.UserID == u.ID {
		return roster.Errorf(roster.ECONFLICT, "you cannot deactivate, demote or delete yourself")
	}
	return guardLastManager(ctx, tx, tenantID, u.ID, "")
}

// guardLastManager refuses a change after which no active user but
// exceptUser, and none holding exceptRole, holds roles:write. Lock first,
// count after, in two statements: in READ COMMITTED each statement sees
// what committed before it began, so the count must start after the lock
// is held to see a concurrent demotion.
func guardLastManager(ctx context.Context, tx sqlx.ExtContext, tenantID, exceptUser, exceptRole string) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenantID); err != nil {
		return translate(err)
	}
	managers, err := managerRoles(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	managers = slices.DeleteFunc(managers, func(r string) bool { return r == exceptRole })
	if exceptUser == "" {
		exceptUser = "00000000-0000-0000-0000-000000000000"
	}
	var others bool
	err = sqlx.GetContext(ctx, tx, &others, `
		SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND role = ANY($3) AND active AND id <> $2)`,
		tenantID, exceptUser, pq.Array(managers))
	if err != nil {
		return translate(err)
	}
	if !others {
		return roster.Errorf(roster.ECONFLICT, "the tenant's last active admin (the last holder of %s) cannot be deactivated, demoted or deleted, nor lose it", manageRoles)
	}
	return nil
}

// grantsManage reports whether the tenant's role grants roles:write.
func grantsManage(ctx context.Context, q sqlx.QueryerContext, tenantID, role string) (bool, error) {
	perms, _, err := rolePermissions(ctx, q, tenantID, role)
	return slices.Contains(perms, manageRoles), err
}

// guardUserChange holds the rules of a change to a user: a bounded actor
// changes nothing of a user above them (an address changed is an account
// taken over), and sets only a role of the tenant within their own; the
// tenant keeps a holder of roles:write.
func guardUserChange(ctx context.Context, tx *sqlx.Tx, tenantID string, by roster.Actor, before, after *roster.User) error {
	if by.UserID != before.ID {
		if err := checkUserWithin(ctx, tx, tenantID, by, before); err != nil {
			return err
		}
	}
	if before.Role == after.Role && before.Active == after.Active {
		return nil
	}
	if before.Role != after.Role {
		if err := checkRole(ctx, tx, tenantID, by, "role", after.Role); err != nil {
			return err
		}
	}
	return guardManagerLoss(ctx, tx, tenantID, by, before, after)
}

// userChanges lists the fields that differ, as {"field": {"from", "to"}}.
func userChanges(before, after *roster.User) map[string]map[string]any {
	changes := map[string]map[string]any{}
	diff := func(field string, from, to any) {
		if from != to {
			changes[field] = map[string]any{"from": from, "to": to}
		}
	}
	diff("user_name", before.UserName, after.UserName)
	diff("email", before.Email, after.Email)
	diff("given_name", before.GivenName, after.GivenName)
	diff("family_name", before.FamilyName, after.FamilyName)
	diff("display_name", before.DisplayName, after.DisplayName)
	diff("external_id", deref(before.ExternalID), deref(after.ExternalID))
	diff("role", before.Role, after.Role)
	diff("active", before.Active, after.Active)
	if !sameJSON(before.Attributes, after.Attributes) {
		changes["attributes"] = map[string]any{"from": before.Attributes, "to": after.Attributes}
	}
	return changes
}

// sameJSON reports whether two JSON documents hold the same value, whatever
// their key order and spacing (jsonb gives both back its own way).
func sameJSON(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// notFound names the missing resource in an ENOTFOUND error.
func notFound(err error, what string) error {
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return roster.Errorf(roster.ENOTFOUND, "%s not found", what)
	}
	return err
}
