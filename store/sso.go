package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.SSOService = (*SSOService)(nil)

// SSOService is the PostgreSQL implementation of roster.SSOService.
type SSOService struct {
	db *DB
}

// NewSSOService returns an SSOService on db.
func NewSSOService(db *DB) *SSOService {
	return &SSOService{db: db}
}

const ssoConnectionColumns = `id, tenant_id, config, sealed_secret, sp_certificate, created_at, updated_at`

// scanConnection reads one row of ssoConnectionColumns.
func scanConnection(row interface{ Scan(...any) error }) (*roster.SSOConnection, error) {
	var (
		c      roster.SSOConnection
		config []byte
	)
	id, tenant := "", ""
	var created, updated time.Time
	var sealed []byte
	var cert string
	if err := row.Scan(&id, &tenant, &config, &sealed, &cert, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return nil, fmt.Errorf("decode SSO connection %s: %w", id, err)
	}
	c.ID, c.TenantID, c.SealedSecret, c.SPCertificate, c.CreatedAt, c.UpdatedAt = id, tenant, sealed, cert, created, updated
	return &c, nil
}

// connectionConfig is the JSON stored for c: its public form.
func connectionConfig(c *roster.SSOConnection) (string, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode SSO connection: %w", err)
	}
	return string(raw), nil
}

// CreateConnection stores c (Validate already passed) with its audit
// event. ECONFLICT when another connection routes one of its domains.
func (s *SSOService) CreateConnection(ctx context.Context, tenantID string, by roster.Actor, c *roster.SSOConnection) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if c.ID == "" {
			c.ID = newID()
		}
		c.TenantID, c.CreatedAt, c.UpdatedAt = tenantID, now, now
		if err := domainsFree(ctx, tx, c); err != nil {
			return err
		}
		if err := checkConnectionRoles(ctx, tx, tenantID, by, c); err != nil {
			return err
		}
		config, err := connectionConfig(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sso_connections (`+ssoConnectionColumns+`, type)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.ID, tenantID, config, c.SealedSecret, c.SPCertificate, now, now, c.Type); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionSSOConnectionCreated, "sso_connection", c.ID,
			map[string]any{"type": c.Type, "name": c.Name, "domains": c.Domains})
	})
}

// domainsFree refuses a domain another connection of the tenant routes:
// discovery by email must find one connection. The tenant row's lock
// orders concurrent changes.
func domainsFree(ctx context.Context, tx *sqlx.Tx, c *roster.SSOConnection) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, c.TenantID); err != nil {
		return translate(err)
	}
	raw, err := json.Marshal(c.Domains)
	if err != nil {
		return fmt.Errorf("encode domains: %w", err)
	}
	var taken []string
	err = sqlx.SelectContext(ctx, tx, &taken, `
		SELECT DISTINCT d FROM sso_connections, jsonb_array_elements_text(config -> 'domains') d
		WHERE tenant_id = $1 AND id <> $2 AND d IN (SELECT jsonb_array_elements_text($3::jsonb))`,
		c.TenantID, c.ID, string(raw))
	if err != nil {
		return translate(err)
	}
	if len(taken) > 0 {
		return &roster.Error{Code: roster.ECONFLICT, Message: "another connection routes " + taken[0],
			Fields: []roster.FieldError{{Field: "domains", Message: taken[0] + " is another connection's"}}}
	}
	return nil
}

// FindConnection returns one of the tenant's connections. ENOTFOUND.
func (s *SSOService) FindConnection(ctx context.Context, tenantID, id string) (*roster.SSOConnection, error) {
	if !isUUID(id) || !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "connection not found")
	}
	c, err := scanConnection(s.db.db.QueryRowxContext(ctx,
		`SELECT `+ssoConnectionColumns+` FROM sso_connections WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return c, notFound(translate(err), "connection")
}

// ListConnections returns the tenant's connections, oldest first.
func (s *SSOService) ListConnections(ctx context.Context, tenantID string) ([]*roster.SSOConnection, error) {
	rows, err := s.db.db.QueryxContext(ctx,
		`SELECT `+ssoConnectionColumns+` FROM sso_connections WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	list := []*roster.SSOConnection{}
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, c)
	}
	return list, translate(rows.Err())
}

// FindConnectionByDomain returns the enabled connection routing domain.
// ENOTFOUND.
func (s *SSOService) FindConnectionByDomain(ctx context.Context, tenantID, domain string) (*roster.SSOConnection, error) {
	c, err := scanConnection(s.db.db.QueryRowxContext(ctx, `SELECT `+ssoConnectionColumns+` FROM sso_connections
		WHERE tenant_id = $1 AND config -> 'domains' ? $2 AND (config ->> 'enabled')::boolean
		ORDER BY created_at LIMIT 1`, tenantID, domain))
	return c, notFound(translate(err), "connection")
}

// UpdateConnection applies change to the locked row and writes it.
// ENOTFOUND, EINVALID, ECONFLICT.
func (s *SSOService) UpdateConnection(ctx context.Context, tenantID string, by roster.Actor, id string, change func(*roster.SSOConnection) error) (*roster.SSOConnection, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "connection not found")
	}
	var updated *roster.SSOConnection
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		c, err := scanConnection(tx.QueryRowxContext(ctx,
			`SELECT `+ssoConnectionColumns+` FROM sso_connections WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id))
		if err != nil {
			return notFound(translate(err), "connection")
		}
		before := c.Name
		if err := change(c); err != nil {
			return err
		}
		c.ID, c.TenantID, c.UpdatedAt = id, tenantID, now
		if err := domainsFree(ctx, tx, c); err != nil {
			return err
		}
		if err := checkConnectionRoles(ctx, tx, tenantID, by, c); err != nil {
			return err
		}
		config, err := connectionConfig(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sso_connections SET config = $3, sealed_secret = $4, sp_certificate = $5, updated_at = $6
			WHERE tenant_id = $1 AND id = $2`, tenantID, id, config, c.SealedSecret, c.SPCertificate, now); err != nil {
			return translate(err)
		}
		updated = c
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionSSOConnectionUpdated, "sso_connection", id,
			map[string]any{"name": map[string]string{"from": before, "to": c.Name}, "enabled": c.Enabled, "domains": c.Domains})
	})
	return updated, err
}

// DeleteConnection removes a connection with its identities and pending
// sign-ins. ENOTFOUND.
func (s *SSOService) DeleteConnection(ctx context.Context, tenantID string, by roster.Actor, id string) error {
	if !isUUID(id) {
		return roster.Errorf(roster.ENOTFOUND, "connection not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_connections WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err := rowAffected(res, err, "connection"); err != nil {
			return err
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionSSOConnectionDeleted, "sso_connection", id, map[string]any{})
	})
}

// checkConnectionRoles holds the roles a connection gives to the one
// check of a role someone sets.
func checkConnectionRoles(ctx context.Context, tx *sqlx.Tx, tenantID string, by roster.Actor, c *roster.SSOConnection) error {
	if c.DefaultRole != "" { // "": the tenant's default role
		if err := checkRole(ctx, tx, tenantID, by, "default_role", c.DefaultRole); err != nil {
			return err
		}
	}
	for _, g := range slices.Sorted(maps.Keys(c.GroupRoles)) {
		if err := checkRole(ctx, tx, tenantID, by, "group_roles", c.GroupRoles[g]); err != nil {
			return err
		}
	}
	return nil
}
