package store

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster"
)

// userSortColumns are the attributes a UserQuery may sort by, as the SQL
// they sort on; text sorts are case-insensitive like the attributes.
var userSortColumns = map[string]string{
	roster.AttrID:          "id",
	roster.AttrUserName:    "lower(user_name)",
	roster.AttrEmail:       "lower(email)",
	roster.AttrExternalID:  "external_id",
	roster.AttrGivenName:   "lower(given_name)",
	roster.AttrFamilyName:  "lower(family_name)",
	roster.AttrDisplayName: "lower(display_name)",
	roster.AttrActive:      "active",
	roster.AttrCreatedAt:   "created_at",
	roster.AttrUpdatedAt:   "updated_at",
}

// QueryUsers returns the window of users that q selects, in a stable order
// (ties broken by id), and how many match in all. The condition is
// evaluated by PostgreSQL. EINVALID for a condition or sort it cannot use.
func (s *UserService) QueryUsers(ctx context.Context, tenantID string, q roster.UserQuery) ([]*roster.User, int, error) {
	b := &sqlBuilder{}
	where := "tenant_id = " + b.arg(tenantID)
	if q.Where != nil {
		cond, err := userWhere(q.Where, b)
		if err != nil {
			return nil, 0, err
		}
		where += " AND (" + cond + ")"
	}
	order, err := queryOrder(userSortColumns, q.SortBy, q.Descending)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE `+where, b.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	if q.Count <= 0 || q.Offset >= total {
		return []*roster.User{}, total, nil
	}
	query := `SELECT ` + userColumns + ` FROM users WHERE ` + where + ` ORDER BY ` + order +
		` LIMIT ` + b.arg(q.Count) + ` OFFSET ` + b.arg(max(q.Offset, 0))
	rows, err := s.db.db.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	users := make([]*roster.User, 0, q.Count)
	for rows.Next() {
		var u roster.User
		if err := rows.Scan(userFields(&u)...); err != nil {
			return nil, 0, translate(err)
		}
		users = append(users, &u)
	}
	return users, total, translate(rows.Err())
}

// queryOrder is the ORDER BY of a query window: the sort column, then id so
// that equal values keep one order from page to page.
func queryOrder(columns map[string]string, sortBy string, desc bool) (string, error) {
	column := "created_at"
	if sortBy != "" {
		c, ok := columns[sortBy]
		if !ok {
			return "", roster.Invalid(roster.FieldError{Field: "sortBy", Message: fmt.Sprintf("cannot sort by %s", sortBy)})
		}
		column = c
	}
	if desc {
		return column + " DESC, id DESC", nil
	}
	return column + ", id", nil
}
