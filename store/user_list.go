package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// searchExpr is what q is matched against. It must stay identical to the
// expression of the users_search_idx trigram index, or the index goes unused.
const searchExpr = `(lower(email) || ' ' || lower(user_name) || ' ' || lower(given_name) || ' ' || lower(family_name))`

// sortKey is one column of a keyset order. Each order's keys, followed by
// id, match an index of migrations/0001_init.sql.
type sortKey struct {
	expr string // SQL expression
	typ  string // its PostgreSQL type, for casting cursor values
}

var userSorts = map[string][]sortKey{
	roster.SortCreatedAt:   {{"created_at", "timestamptz"}},
	roster.SortEmail:       {{"lower(email)", "text"}},
	roster.SortName:        {{"lower(family_name)", "text"}, {"lower(given_name)", "text"}},
	roster.SortLastLoginAt: {{"coalesce(last_login_at, '-infinity'::timestamptz)", "timestamptz"}},
}

// ParseUserSort splits a sort parameter into its order and direction.
// EINVALID naming "sort" for an unknown order.
func parseUserSort(sort string) (keys []sortKey, desc bool, err error) {
	if sort == "" {
		sort = roster.SortCreatedAt
	}
	name, desc := strings.CutPrefix(sort, "-")
	keys, ok := userSorts[name]
	if !ok {
		return nil, false, roster.Invalid(roster.FieldError{Field: "sort",
			Message: "must be created_at, email, name or last_login_at, optionally prefixed with -"})
	}
	return keys, desc, nil
}

// userListRow is a user with the sort key values of its row, as JSON text so
// that a cursor carries them exactly as PostgreSQL compares them.
type userListRow struct {
	roster.User
	K0 string  `db:"k0"`
	K1 *string `db:"k1"`
}

// FindUsers returns one keyset page of a tenant's users: the filter becomes
// a WHERE clause, the cursor a row comparison on the order's index, so a deep
// page costs what the first does. EINVALID for a bad sort, limit or cursor.
func (s *UserService) FindUsers(ctx context.Context, tenantID string, f roster.UserFilter) (*roster.UserPage, error) {
	keys, desc, err := parseUserSort(f.Sort)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = roster.DefaultPageSize
	}
	if limit < 1 || limit > roster.MaxPageSize {
		return nil, roster.Invalid(roster.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", roster.MaxPageSize)})
	}

	q := &sqlBuilder{}
	where := []string{"tenant_id = " + q.arg(tenantID)}
	if f.Query != "" {
		if msg := queryProblem(f.Query); msg != "" {
			return nil, roster.Invalid(roster.FieldError{Field: "q", Message: msg})
		}
		where = append(where, searchExpr+" LIKE "+q.arg("%"+escapeLike(strings.ToLower(f.Query))+"%"))
	}
	if f.Role != "" {
		if !roster.IsRole(f.Role) {
			return nil, roster.Invalid(roster.FieldError{Field: "role", Message: "must be one of " + strings.Join(roster.Roles(), ", ")})
		}
		where = append(where, "role = "+q.arg(f.Role))
	}
	if f.Active != nil {
		where = append(where, "active = "+q.arg(*f.Active))
	}

	sortName := f.Sort
	if sortName == "" {
		sortName = roster.SortCreatedAt
	}
	exprs := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		exprs = append(exprs, k.expr)
	}
	exprs = append(exprs, "id")
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, sortName, len(keys)+1)
		if err != nil {
			return nil, err
		}
		params := make([]string, 0, len(c.Keys))
		for i, k := range keys {
			if !validKey(c.Keys[i], k.typ) {
				return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
			}
			params = append(params, q.arg(c.Keys[i])+"::"+k.typ)
		}
		if !isUUID(c.Keys[len(keys)]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		params = append(params, q.arg(c.Keys[len(keys)])+"::uuid")
		op := ">"
		if desc {
			op = "<"
		}
		where = append(where, fmt.Sprintf("(%s) %s (%s)", strings.Join(exprs, ", "), op, strings.Join(params, ", ")))
	}

	order := make([]string, len(exprs))
	for i, e := range exprs {
		order[i] = e
		if desc {
			order[i] += " DESC"
		}
	}
	k1 := "NULL"
	if len(keys) > 1 {
		k1 = "to_json(" + keys[1].expr + ") #>> '{}'"
	}
	query := `SELECT ` + userColumns + `, to_json(` + keys[0].expr + `) #>> '{}' AS k0, ` + k1 + ` AS k1
		FROM users WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + q.arg(limit+1)

	var rows []userListRow
	if err := sqlx.SelectContext(ctx, s.db.db, &rows, query, q.args...); err != nil {
		return nil, translate(err)
	}
	page := &roster.UserPage{Items: make([]*roster.User, 0, min(len(rows), limit))}
	for i := range rows {
		if i == limit {
			last := rows[i-1]
			c := cursor{Sort: sortName, Keys: []string{last.K0}}
			if last.K1 != nil {
				c.Keys = append(c.Keys, *last.K1)
			}
			c.Keys = append(c.Keys, last.ID)
			page.NextCursor = c.encode()
			break
		}
		page.Items = append(page.Items, &rows[i].User)
	}
	return page, nil
}

// sqlBuilder numbers query parameters as they are added.
type sqlBuilder struct{ args []any }

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// escapeLike makes s match itself literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// queryProblem says what is wrong with a search string, or "".
func queryProblem(q string) string {
	switch {
	case !utf8.ValidString(q):
		return "must be valid UTF-8"
	case strings.ContainsRune(q, 0):
		return "must not contain NUL"
	case utf8.RuneCountInString(q) > 256:
		return "must be at most 256 characters"
	}
	return ""
}

// validKey reports whether a cursor value can be cast to typ.
func validKey(v, typ string) bool {
	if typ == "timestamptz" {
		if v == "-infinity" || v == "infinity" {
			return true
		}
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	}
	return utf8.ValidString(v) && !strings.ContainsRune(v, 0)
}
