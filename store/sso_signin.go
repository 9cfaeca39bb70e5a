package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// ssoActor is who records what a federated sign-in changes.
var ssoActor = roster.Actor{Type: roster.ActorSystem, ID: "sso"}

// sweepExpired deletes a bounded batch of a table's expired rows, named
// by key: every write sweeps a little, so no sweeper is needed. table and
// key are constants of this file.
func sweepExpired(ctx context.Context, tx *sqlx.Tx, table, key string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE (`+key+`) IN
		(SELECT `+key+` FROM `+table+` WHERE expires_at < $1 LIMIT 100)`, now)
	return translate(err)
}

// CreateState stores a pending sign-in.
func (s *SSOService) CreateState(ctx context.Context, st *roster.SSOState) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := sweepExpired(ctx, tx, "sso_states", "state_hash", s.db.now()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_states (state_hash, tenant_id, connection_id, return_to, request_id, authn_since, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, st.StateHash, st.TenantID, st.ConnectionID, st.ReturnTo, st.RequestID,
			sql.NullTime{Time: st.AuthnSince, Valid: !st.AuthnSince.IsZero()}, st.ExpiresAt)
		return translate(err)
	})
}

// UseState deletes the state and returns it: a second use finds nothing.
// EUNAUTHORIZED.
func (s *SSOService) UseState(ctx context.Context, stateHash []byte, now time.Time) (*roster.SSOState, error) {
	return scanState(s.db.db.QueryRowxContext(ctx, `DELETE FROM sso_states WHERE state_hash = $1 RETURNING `+ssoStateColumns, stateHash), now)
}

// PeekState returns the state without spending it. EUNAUTHORIZED.
func (s *SSOService) PeekState(ctx context.Context, stateHash []byte, now time.Time) (*roster.SSOState, error) {
	return scanState(s.db.db.QueryRowxContext(ctx, `SELECT `+ssoStateColumns+` FROM sso_states WHERE state_hash = $1`, stateHash), now)
}

const ssoStateColumns = `state_hash, tenant_id, connection_id, return_to, request_id, authn_since, expires_at`

// scanState reads a state that must be live at now. EUNAUTHORIZED.
func scanState(row *sqlx.Row, now time.Time) (*roster.SSOState, error) {
	var st roster.SSOState
	var authnSince sql.NullTime
	err := row.Scan(&st.StateHash, &st.TenantID, &st.ConnectionID, &st.ReturnTo, &st.RequestID, &authnSince, &st.ExpiresAt)
	st.AuthnSince = authnSince.Time
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !now.Before(st.ExpiresAt)) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the sign-in is unknown, already used or expired: start again")
	}
	return &st, translate(err)
}

// CreateCode stores a one-time code.
func (s *SSOService) CreateCode(ctx context.Context, c *roster.SSOCode) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := sweepExpired(ctx, tx, "sso_codes", "code_hash", s.db.now()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_codes (code_hash, tenant_id, user_id, amr, auth_time, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.CodeHash, c.TenantID, c.UserID, pq.Array(c.AMR), c.AuthTime, c.ExpiresAt)
		return translate(err)
	})
}

// UseCode deletes the code and returns it. EUNAUTHORIZED.
func (s *SSOService) UseCode(ctx context.Context, codeHash []byte, now time.Time) (*roster.SSOCode, error) {
	var c roster.SSOCode
	err := s.db.db.QueryRowxContext(ctx, `DELETE FROM sso_codes WHERE code_hash = $1
		RETURNING code_hash, tenant_id, user_id, amr, auth_time, expires_at`, codeHash).
		Scan(&c.CodeHash, &c.TenantID, &c.UserID, pq.Array(&c.AMR), &c.AuthTime, &c.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !now.Before(c.ExpiresAt)) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the code is unknown, already used or expired")
	}
	return &c, translate(err)
}

// RememberAssertion records an assertion ID; a second time is ECONFLICT.
func (s *SSOService) RememberAssertion(ctx context.Context, tenantID, connectionID, assertionID string, expires time.Time) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := sweepExpired(ctx, tx, "saml_assertions", "tenant_id, connection_id, assertion_id", s.db.now()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO saml_assertions (tenant_id, connection_id, assertion_id, expires_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, tenantID, connectionID, assertionID, expires)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return roster.Errorf(roster.ECONFLICT, "the assertion was used before")
		}
		return nil
	})
}

// SignInFederated finds, links or makes the user the provider names and
// brings their profile and role up to date, in one transaction.
// EFORBIDDEN.
func (s *SSOService) SignInFederated(ctx context.Context, c *roster.SSOConnection, id *roster.FederatedIdentity) (*roster.User, error) {
	var u *roster.User
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var err error
		if u, err = findFederatedUser(ctx, tx, c, id); err != nil {
			return err
		}
		if u == nil {
			if !c.JIT {
				return roster.Errorf(roster.EFORBIDDEN, "there is no account for %s in this organisation, and %s does not create accounts: ask an administrator to add you", id.Email, c.Name)
			}
			if u, err = createFederatedUser(ctx, s.db, tx, now, c, id); err != nil {
				return err
			}
		}
		if !u.Active && !u.PendingApproval {
			return roster.Errorf(roster.EFORBIDDEN, "the account is deactivated")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sso_identities (tenant_id, connection_id, subject, user_id, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, c.TenantID, c.ID, id.Subject, u.ID, now); err != nil {
			return translate(err)
		}
		u, err = syncFederatedUser(ctx, tx, now, c, id, u)
		return err
	})
	if err == nil && u.PendingApproval {
		// The account made just in time stays, waiting; this sign-in does not.
		return nil, (&roster.Login{User: u}).CannotSignInYet()
	}
	return u, err
}

// findFederatedUser is the user a provider's identity names, nil for none:
// the linked identity, a SCIM user whose externalId is the subject, or a
// user with the verified email of a verified domain.
func findFederatedUser(ctx context.Context, tx *sqlx.Tx, c *roster.SSOConnection, id *roster.FederatedIdentity) (*roster.User, error) {
	var userID string
	err := sqlx.GetContext(ctx, tx, &userID, `SELECT user_id FROM sso_identities
		WHERE tenant_id = $1 AND connection_id = $2 AND subject = $3`, c.TenantID, c.ID, id.Subject)
	if err == nil {
		return getUser(ctx, tx, c.TenantID, userID, true)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, translate(err)
	}
	err = sqlx.GetContext(ctx, tx, &userID, `SELECT id FROM users WHERE tenant_id = $1 AND external_id = $2
		ORDER BY created_at LIMIT 1`, c.TenantID, id.Subject)
	if err == nil {
		return getUser(ctx, tx, c.TenantID, userID, true)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, translate(err)
	}
	domain := roster.EmailDomain(id.Email)
	if !id.EmailVerified || !c.HasDomain(id.Email) {
		return nil, nil
	}
	var verified bool
	if err := sqlx.GetContext(ctx, tx, &verified, `SELECT EXISTS (SELECT 1 FROM domains
		WHERE tenant_id = $1 AND domain = $2 AND verified_at IS NOT NULL)`, c.TenantID, domain); err != nil {
		return nil, translate(err)
	}
	if !verified {
		return nil, nil
	}
	var ids []string
	if err := sqlx.SelectContext(ctx, tx, &ids, `SELECT id FROM users WHERE tenant_id = $1 AND lower(email) = lower($2) LIMIT 2`,
		c.TenantID, id.Email); err != nil {
		return nil, translate(err)
	}
	if len(ids) != 1 {
		// A shared address names no one (unique_email false).
		return nil, nil
	}
	return getUser(ctx, tx, c.TenantID, ids[0], true)
}

// createFederatedUser provisions a user just in time.
func createFederatedUser(ctx context.Context, db *DB, tx *sqlx.Tx, now time.Time, c *roster.SSOConnection, id *roster.FederatedIdentity) (*roster.User, error) {
	role, err := ssoRole(ctx, tx, c, id)
	if err != nil {
		return nil, err
	}
	policy, err := securityPolicy(ctx, tx, c.TenantID, false)
	if err != nil {
		return nil, err
	}
	in := &roster.User{Email: id.Email, GivenName: id.GivenName, FamilyName: id.FamilyName, Role: role, EmailAsGiven: true}
	policy.NewUserStatus(in)
	u, err := createUser(ctx, db, tx, now, c.TenantID, ssoActor, in)
	if roster.ErrorCode(err) == roster.ECONFLICT {
		return nil, roster.Errorf(roster.EFORBIDDEN, "an account with the address %s exists but cannot be linked: its domain is not verified for this connection", id.Email)
	}
	return u, err
}

// syncFederatedUser brings names, a verified email and the mapped role up
// to date through updateUser's guards. A change the guards refuse (the
// last admin's demotion, a taken address) is undone to a savepoint and
// only the names are brought up to date, so the sign-in itself goes on.
func syncFederatedUser(ctx context.Context, tx *sqlx.Tx, now time.Time, c *roster.SSOConnection, id *roster.FederatedIdentity, u *roster.User) (*roster.User, error) {
	names := func(v *roster.User) error {
		if id.GivenName != "" {
			v.GivenName = id.GivenName
		}
		if id.FamilyName != "" {
			v.FamilyName = id.FamilyName
		}
		return nil
	}
	all := func(v *roster.User) error {
		if id.EmailVerified && id.Email != "" && !strings.EqualFold(id.Email, v.Email) {
			v.Email, v.EmailAsGiven = id.Email, true
		}
		if id.Groups != nil && len(c.GroupRoles) > 0 {
			role, err := ssoRole(ctx, tx, c, id)
			if err != nil {
				return err
			}
			v.Role = role
		}
		return names(v)
	}
	for _, change := range []func(*roster.User) error{all, names} {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT sso_sync`); err != nil {
			return nil, translate(err)
		}
		updated, err := updateUser(ctx, tx, now, c.TenantID, ssoActor, u.ID, 0, change)
		if code := roster.ErrorCode(err); code != roster.ECONFLICT && code != roster.EINVALID {
			return updated, err
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT sso_sync`); err != nil {
			return nil, translate(err)
		}
	}
	return u, nil
}

// ssoRole is the role the provider's groups give: the highest mapped one,
// or the connection's default role when none is mapped.
func ssoRole(ctx context.Context, tx *sqlx.Tx, c *roster.SSOConnection, id *roster.FederatedIdentity) (string, error) {
	roles := c.RolesFor(id.Groups)
	if len(roles) == 0 {
		return newUserRole(ctx, tx, c.TenantID, c.DefaultRole)
	}
	if len(roles) == 1 {
		return roles[0], nil
	}
	grants, err := roleGrants(ctx, tx, c.TenantID)
	if err != nil {
		return "", err
	}
	return roster.HighestRole(roles, grants), nil
}
