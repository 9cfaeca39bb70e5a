package store

import (
	"context"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// FindPasskeysOfUsers returns the passkeys of each of the users, oldest
// first, in one statement. Users without passkeys, and ids that are no
// user of the tenant, are left out.
func (s *PasskeyService) FindPasskeysOfUsers(ctx context.Context, tenantID string, userIDs []string) (map[string][]*roster.Passkey, error) {
	ids := validUUIDs(userIDs)
	byUser := make(map[string][]*roster.Passkey, len(ids))
	if len(ids) == 0 || !isUUID(tenantID) {
		return byUser, nil
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys
		WHERE tenant_id = $1 AND user_id = ANY ($2::uuid[]) ORDER BY user_id, created_at, id`, tenantID, pq.Array(ids))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		p := &roster.Passkey{}
		if err := rows.Scan(passkeyFields(p)...); err != nil {
			return nil, translate(err)
		}
		byUser[p.UserID] = append(byUser[p.UserID], p)
	}
	return byUser, translate(rows.Err())
}
