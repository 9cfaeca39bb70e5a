package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// securityPolicyKey is where a tenant's security policy lives in its
// settings.
const securityPolicyKey = "security_policy"

// tenantUniqueEmail reads the unique_email policy of tenant $2 for a user
// being inserted, under a share lock of the tenant row: a policy change,
// which holds that row's update lock, waits for the insert and then sees
// its row, or the insert waits for it and reads the new policy.
const tenantUniqueEmail = `SELECT ` + uniqueEmailSetting + ` FROM tenants WHERE id = $2 FOR SHARE`

// uniqueEmailSetting is the unique_email policy of a tenants row.
const uniqueEmailSetting = `coalesce((settings -> '` + securityPolicyKey + `' ->> 'unique_email')::boolean, true)`

// SecurityPolicy returns the tenant's security policy, with the defaults
// for fields it never set. ENOTFOUND.
func (s *TenantService) SecurityPolicy(ctx context.Context, tenantID string) (*roster.SecurityPolicy, error) {
	return securityPolicy(ctx, s.db.db, tenantID, false)
}

func securityPolicy(ctx context.Context, q sqlx.QueryerContext, tenantID string, forUpdate bool) (*roster.SecurityPolicy, error) {
	if !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	query := `SELECT coalesce(settings -> '` + securityPolicyKey + `', '{}') FROM tenants WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var raw []byte
	if err := q.QueryRowxContext(ctx, query, tenantID).Scan(&raw); err != nil {
		return nil, notFound(translate(err), "tenant")
	}
	p := roster.DefaultSecurityPolicy()
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("decode the security policy of tenant %s: %w", tenantID, err)
	}
	return p, nil
}

// SetSecurityPolicy validates and stores the policy, audited with the
// policy before and after. EINVALID, ENOTFOUND, ECONFLICT naming
// unique_email when it turns on while users share an address, or naming
// allowed_networks when they leave out the address of the request's
// client, who would lock themselves out.
func (s *TenantService) SetSecurityPolicy(ctx context.Context, tenantID string, by roster.Actor, p *roster.SecurityPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if c := roster.ClientFromContext(ctx); c.Address != "" && !p.AllowsAddress(c.Address) {
		return &roster.Error{Code: roster.ECONFLICT, Message: "the allowed networks leave out your own address: you would lock yourself out",
			Fields: []roster.FieldError{{Field: "allowed_networks", Message: "must include your address, " + c.Address}}}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode the security policy: %w", err)
	}
	defer s.db.networks.forget(tenantID)
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		old, err := securityPolicy(ctx, tx, tenantID, true)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE tenants SET settings = jsonb_set(settings, '{`+securityPolicyKey+`}', $2), updated_at = $3 WHERE id = $1`,
			tenantID, string(raw), now); err != nil {
			return translate(err)
		}
		if p.UniqueEmail != old.UniqueEmail {
			if err := setEmailUnique(ctx, tx, tenantID, p.UniqueEmail); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTenantUpdated, "tenant", tenantID,
			map[string]any{securityPolicyKey: map[string]any{"from": old, "to": p}})
	})
}

// setEmailUnique makes every user of the tenant subject to the unique
// address index, or frees them of it.
func setEmailUnique(ctx context.Context, tx *sqlx.Tx, tenantID string, unique bool) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET email_unique = $2 WHERE tenant_id = $1 AND email_unique <> $2`, tenantID, unique)
	if err = translate(err); roster.ErrorCode(err) == roster.ECONFLICT {
		return &roster.Error{Code: roster.ECONFLICT, Message: "users share email addresses: give each an address of their own first",
			Fields: []roster.FieldError{{Field: "unique_email", Message: "cannot be true while users share an email address"}}}
	}
	return err
}
