package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

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
	return queryWindow(ctx, s.db, "users", userColumns, where, order, b, q.Offset, q.Count,
		func(rows *sql.Rows) (*roster.User, error) {
			var u roster.User
			return &u, rows.Scan(userFields(&u)...)
		})
}

// queryWindow reads the rows offset to offset+count of a filtered, ordered
// table, and how many rows match in all.
func queryWindow[T any](ctx context.Context, db *DB, table, columns, where, order string, b *sqlBuilder,
	offset, count int, scan func(*sql.Rows) (T, error)) ([]T, int, error) {
	filterArgs := slices.Clone(b.args)
	items := make([]T, 0, max(count, 0))
	if count > 0 {
		query := `SELECT ` + columns + ` FROM ` + table + ` WHERE ` + where + ` ORDER BY ` + order +
			` LIMIT ` + b.arg(count) + ` OFFSET ` + b.arg(max(offset, 0))
		rows, err := db.query(ctx, query, b.args...)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			item, err := scan(rows)
			if err != nil {
				return nil, 0, translate(err)
			}
			items = append(items, item)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, translate(err)
		}
		// A first page that is not full holds every match: no count is
		// needed, which spares the lookups identity providers make all day.
		if offset <= 0 && len(items) < count {
			return items, len(items), nil
		}
	}
	var total int
	if err := db.queryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+where, filterArgs...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	return items, total, nil
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
