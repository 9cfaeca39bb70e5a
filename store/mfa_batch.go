package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// FindMFAStatuses returns the second factors of each of the users, in one
// statement: a page of users costs one read, not one per user. Ids that
// are no user of the tenant are left out.
func (s *MFAService) FindMFAStatuses(ctx context.Context, tenantID string, userIDs []string) (map[string]*roster.MFAStatus, error) {
	ids := validUUIDs(userIDs)
	statuses := make(map[string]*roster.MFAStatus, len(ids))
	if len(ids) == 0 || !isUUID(tenantID) {
		return statuses, nil
	}
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT u.id, u.mfa_methods, coalesce(u.mfa_default, ''),
		    (SELECT count(*) FROM recovery_codes r
		     WHERE r.tenant_id = u.tenant_id AND r.user_id = u.id AND r.used_at IS NULL),
		    coalesce((SELECT json_agg(json_build_object('type', m.type, 'target', coalesce(m.target, ''),
		            'verified', m.verified, 'created_at', m.created_at, 'verified_at', m.verified_at,
		            'last_used_at', m.last_used_at) ORDER BY m.created_at, m.type)
		        FROM mfa_methods m WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id), '[]')
		FROM users u WHERE u.tenant_id = $1 AND u.id = ANY ($2::uuid[])`, tenantID, pq.Array(ids))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id       string
			st       roster.MFAStatus
			enrolled []byte
		)
		if err := rows.Scan(&id, pq.Array(&st.Methods), &st.Default, &st.RecoveryCodesRemaining, &enrolled); err != nil {
			return nil, translate(err)
		}
		if st.Enrolled, err = decodeMFAMethods(enrolled); err != nil {
			return nil, err
		}
		statuses[id] = &st
	}
	return statuses, translate(rows.Err())
}

// mfaMethodJSON is a method row as json_build_object writes it.
type mfaMethodJSON struct {
	Type       string     `json:"type"`
	Target     string     `json:"target"`
	Verified   bool       `json:"verified"`
	CreatedAt  time.Time  `json:"created_at"`
	VerifiedAt *time.Time `json:"verified_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func decodeMFAMethods(raw []byte) ([]roster.MFAMethod, error) {
	var rows []mfaMethodJSON
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("decode mfa methods: %w", err)
	}
	methods := make([]roster.MFAMethod, 0, len(rows))
	for _, r := range rows {
		methods = append(methods, roster.MFAMethod{Type: r.Type, Target: r.Target, Verified: r.Verified,
			CreatedAt: r.CreatedAt.UTC(), VerifiedAt: utcOrNil(r.VerifiedAt), LastUsedAt: utcOrNil(r.LastUsedAt)})
	}
	return methods, nil
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
