package store

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

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

// parseUserSort splits a sort parameter into its order and direction.
// EINVALID naming "sort" for an unknown order.
func parseUserSort(sort string) (keys []sortKey, desc bool, err error) {
	name, desc := strings.CutPrefix(cmp.Or(sort, roster.SortCreatedAt), "-")
	keys, ok := userSorts[name]
	if !ok {
		return nil, false, roster.Invalid(roster.FieldError{Field: "sort",
			Message: "must be created_at, email, name or last_login_at, optionally prefixed with -"})
	}
	return keys, desc, nil
}

// FindUsers returns one keyset page of a tenant's users. EINVALID for a bad
// sort, limit, filter or cursor.
func (s *UserService) FindUsers(ctx context.Context, tenantID string, f roster.UserFilter) (*roster.UserPage, error) {
	query, args, err := UserListQuery(tenantID, f)
	if err != nil {
		return nil, err
	}
	limit := cmp.Or(f.Limit, roster.DefaultPageSize)
	// Without q the best plan is the sort's index whatever the values, so
	// the statement is prepared once per shape; with q (a LIKE) the planner
	// must see the pattern to choose between the trigram and sort indexes.
	rows, err := s.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &roster.UserPage{Items: make([]*roster.User, 0, limit)}
	var k0 string
	var k1 *string
	for rows.Next() {
		if len(page.Items) == limit {
			// One row more than the page: there is a next page, which
			// starts after the last row shown, whose keys k0 and k1 hold.
			keys := []string{k0}
			if k1 != nil {
				keys = append(keys, *k1)
			}
			page.NextCursor = cursor{Sort: cmp.Or(f.Sort, roster.SortCreatedAt), Keys: append(keys, page.Items[limit-1].ID)}.encode()
			break
		}
		var u roster.User
		if err := rows.Scan(append(userFields(&u), &k0, &k1)...); err != nil {
			return nil, translate(err)
		}
		page.Items = append(page.Items, &u)
	}
	return page, translate(rows.Err())
}

// UserListQuery is the SQL FindUsers runs for a filter: the filter becomes
// a WHERE clause and the cursor a row comparison on the sort's index, so a
// deep page costs what the first does. It is exported for the benchmark's
// EXPLAIN. EINVALID for a bad sort, limit, filter or cursor.
func UserListQuery(tenantID string, f roster.UserFilter) (string, []any, error) {
	keys, desc, err := parseUserSort(f.Sort)
	if err != nil {
		return "", nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return "", nil, err
	}

	q := &sqlBuilder{}
	where, err := userFilterConds(q, tenantID, f)
	if err != nil {
		return "", nil, err
	}

	exprs := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		exprs = append(exprs, k.expr)
	}
	exprs = append(exprs, "id")
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, cmp.Or(f.Sort, roster.SortCreatedAt), len(keys)+1)
		if err != nil {
			return "", nil, err
		}
		badCursor := roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		params := make([]string, 0, len(c.Keys))
		for i, k := range keys {
			if !validKey(c.Keys[i], k.typ) {
				return "", nil, badCursor
			}
			params = append(params, q.arg(c.Keys[i])+"::"+k.typ)
		}
		if !isUUID(c.Keys[len(keys)]) {
			return "", nil, badCursor
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
	// The sort keys come back as JSON text so that a cursor carries them
	// exactly as PostgreSQL compares them.
	query := `SELECT ` + userColumns + `, to_json(` + keys[0].expr + `) #>> '{}' AS k0, ` + k1 + ` AS k1
		FROM users WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + q.arg(limit+1)
	return query, q.args, nil
}

// userFilterConds turns the selection of a filter (q, role, active, mfa,
// mfa_method) into WHERE conditions, the tenant's first: the users list and
// bulk actions select through it, so they select the same users.
func userFilterConds(q *sqlBuilder, tenantID string, f roster.UserFilter) ([]string, error) {
	where := []string{"tenant_id = " + q.arg(tenantID)}
	if f.Query != "" {
		if msg := queryProblem(f.Query); msg != "" {
			return nil, roster.Invalid(roster.FieldError{Field: "q", Message: msg})
		}
		where = append(where, "search LIKE "+q.arg("%"+escapeLike(strings.ToLower(f.Query))+"%"))
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
	mfa := f.MFA
	if f.MFAMethod != "" {
		if !roster.IsMFAMethod(f.MFAMethod) {
			return nil, roster.Invalid(roster.FieldError{Field: "mfa_method", Message: "must be one of " + strings.Join(roster.MFAMethods(), ", ")})
		}
		where = append(where, q.arg(f.MFAMethod)+" = ANY (mfa_methods)")
		if mfa == nil {
			// Implied, and said so that the index below narrows the scan.
			enabled := true
			mfa = &enabled
		}
	}
	if mfa != nil {
		// Spelt as the expression of users_mfa_created_idx, so that the
		// default order is a range scan of it: "= false" or NOT would be
		// rewritten by the planner into "<= 0", which no index has.
		cond := "(cardinality(mfa_methods) > 0) IS TRUE"
		if !*mfa {
			cond = "(cardinality(mfa_methods) > 0) IS FALSE"
		}
		where = append(where, cond)
	}
	return where, nil
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

// pageLimit is a list's page size: the default for 0, else 1 to the
// maximum. EINVALID naming "limit" otherwise.
func pageLimit(limit int) (int, error) {
	limit = cmp.Or(limit, roster.DefaultPageSize)
	if limit < 1 || limit > roster.MaxPageSize {
		return 0, roster.Invalid(roster.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", roster.MaxPageSize)})
	}
	return limit, nil
}
