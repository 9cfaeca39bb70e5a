package store

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.DomainService = (*DomainService)(nil)

// DomainService is the PostgreSQL implementation of roster.DomainService.
type DomainService struct {
	db *DB
}

// NewDomainService returns a DomainService on db.
func NewDomainService(db *DB) *DomainService {
	return &DomainService{db: db}
}

const domainColumns = `id, tenant_id, domain, txt_value, verified_at, created_at`

func scanDomain(row interface{ Scan(...any) error }) (*roster.Domain, error) {
	var d roster.Domain
	if err := row.Scan(&d.ID, &d.TenantID, &d.Domain, &d.TXTValue, &d.VerifiedAt, &d.CreatedAt); err != nil {
		return nil, err
	}
	return &d, nil
}

// CreateDomain stores a claim. ECONFLICT when the tenant has it.
func (s *DomainService) CreateDomain(ctx context.Context, tenantID string, by roster.Actor, d *roster.Domain) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		d.ID, d.TenantID, d.CreatedAt = newID(), tenantID, now
		_, err := tx.ExecContext(ctx, `INSERT INTO domains (`+domainColumns+`) VALUES ($1, $2, $3, $4, NULL, $5)`,
			d.ID, tenantID, d.Domain, d.TXTValue, now)
		if err = translate(err); roster.ErrorCode(err) == roster.ECONFLICT {
			return &roster.Error{Code: roster.ECONFLICT, Message: d.Domain + " is claimed already",
				Fields: []roster.FieldError{{Field: "domain", Message: "is claimed already"}}}
		} else if err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionDomainClaimed, "domain", d.ID, map[string]any{"domain": d.Domain})
	})
}

// ListDomains returns the tenant's domains, oldest first.
func (s *DomainService) ListDomains(ctx context.Context, tenantID string) ([]*roster.Domain, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	list := []*roster.Domain{}
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, d)
	}
	return list, translate(rows.Err())
}

// FindDomain returns one domain. ENOTFOUND.
func (s *DomainService) FindDomain(ctx context.Context, tenantID, id string) (*roster.Domain, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "domain not found")
	}
	d, err := scanDomain(s.db.db.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return d, notFound(translate(err), "domain")
}

// MarkDomainVerified records the proof. ENOTFOUND, ECONFLICT.
func (s *DomainService) MarkDomainVerified(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.Domain, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "domain not found")
	}
	var d *roster.Domain
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var err error
		d, err = scanDomain(tx.QueryRowContext(ctx, `UPDATE domains SET verified_at = coalesce(verified_at, $3)
			WHERE tenant_id = $1 AND id = $2 RETURNING `+domainColumns, tenantID, id, now))
		if err = notFound(translate(err), "domain"); roster.ErrorCode(err) == roster.ECONFLICT {
			return roster.Errorf(roster.ECONFLICT, "another organisation verified this domain")
		} else if err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionDomainVerified, "domain", id, map[string]any{"domain": d.Domain})
	})
	return d, err
}

// DeleteDomain drops a claim. ENOTFOUND.
func (s *DomainService) DeleteDomain(ctx context.Context, tenantID string, by roster.Actor, id string) error {
	if !isUUID(id) {
		return roster.Errorf(roster.ENOTFOUND, "domain not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM domains WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err := rowAffected(res, err, "domain"); err != nil {
			return err
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionDomainDeleted, "domain", id, map[string]any{})
	})
}
