package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	// of is the key of a listed user, read from its own fields, for a key
	// Go computes exactly as PostgreSQL does (a time); nil for a text key,
	// which the page selects as PostgreSQL computes it (lower() follows
	// the database's collation, not Go's case tables).
	of func(u *roster.User) string
}

var userSorts = map[string][]sortKey{
	roster.SortCreatedAt:   {{"created_at", "timestamptz", func(u *roster.User) string { return timeKey(&u.CreatedAt) }}},
	roster.SortEmail:       {{"lower(email)", "text", nil}},
	roster.SortName:        {{"lower(family_name)", "text", nil}, {"lower(given_name)", "text", nil}},
	roster.SortLastLoginAt: {{"coalesce(last_login_at, '-infinity'::timestamptz)", "timestamptz", func(u *roster.User) string { return timeKey(u.LastLoginAt) }}},
}

// timeKey is a timestamptz cursor key: microseconds, as PostgreSQL keeps
// them, and nil as the -infinity that sorts never-signed-in users first.
func timeKey(t *time.Time) string {
	if t == nil {
		return "-infinity"
	}
	return t.UTC().Format(time.RFC3339Nano)
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

// FindUsers returns one keyset page of a tenant's users, without their
// attributes. EINVALID for a bad sort, limit, filter or cursor.
func (s *UserService) FindUsers(ctx context.Context, tenantID string, f roster.UserFilter) (*roster.UserPage, error) {
	if err := knownRole(ctx, s.db.db, tenantID, f.Role); err != nil {
		return nil, err
	}
	reach, err := checkTeam(ctx, s.db, tenantID, "team", f.Team, f.Scope)
	if err != nil {
		return nil, err
	}
	l, err := buildUserList(tenantID, f, &reach)
	if err != nil {
		return nil, err
	}
	query := l.pageSQL()
	if l.addresses {
		// An address prefix gives a whole local part: a few users at
		// most, found first.
		query = l.matchesFirstSQL()
	} else if l.search != "" {
		rare, err := s.searchIsRare(ctx, l)
		if err != nil {
			return nil, err
		}
		if rare {
			query = l.matchesFirstSQL()
		}
	}
	// Without q the best plan is the sort's index whatever the values, so
	// the statement is prepared once per shape; with q the planner must see
	// the words to choose between the words index and the sort's.
	rows, err := s.db.query(ctx, query, l.b.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &roster.UserPage{Items: make([]*roster.User, 0, l.limit)}
	textKeys := make([]string, l.textKeys)
	for rows.Next() {
		if len(page.Items) == l.limit {
			// One row more than the page: there is a next page, which
			// starts after the last row shown.
			page.NextCursor = l.cursorAfter(page.Items[l.limit-1], textKeys)
			break
		}
		u := &roster.User{TenantID: tenantID}
		dest := userListFields(u)
		for i := range textKeys {
			dest = append(dest, &textKeys[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, translate(err)
		}
		page.Items = append(page.Items, u)
	}
	return page, translate(rows.Err())
}

// searchSample is how many users in the list's order searchIsRare reads.
const searchSample = 1000

// rareSearch is the share of sampled users below which a search is rare:
// walking the sort's index would then read more rows than the search's
// matches, all of which the words index finds at once.
const rareSearch = 0.005

// searchIsRare says whether the search matches so few users that its
// matches are best found first and then sorted. PostgreSQL cannot tell:
// it never estimates a word prefix below half a percent of the rows, so
// left alone it walks the sort's index for a prefix nobody has, through
// the whole tenant. The users the page would start with are a sample that
// says how common the words are, in the part of the list being read.
func (s *UserService) searchIsRare(ctx context.Context, l *userList) (bool, error) {
	var hits, seen int
	err := s.db.queryRow(ctx, `SELECT count(*) FILTER (WHERE words @@ `+l.search+`), count(*) FROM (
		SELECT words FROM users WHERE `+strings.Join(l.where, " AND ")+` ORDER BY `+l.order+` LIMIT `+fmt.Sprint(searchSample)+`) AS sample`,
		l.b.args...).Scan(&hits, &seen)
	if err != nil {
		return false, translate(err)
	}
	return seen == searchSample && float64(hits) < rareSearch*searchSample, nil
}

// userList is the SQL of one page of users, in parts.
type userList struct {
	b    *sqlBuilder
	sort string    // the sort's name, which its cursors carry
	keys []sortKey // the sort's keys, before id
	// textKeys is how many of keys the page selects after the user's
	// columns: those Go cannot compute from the user.
	textKeys int
	// addresses is whether q has an e-mail address prefix.
	addresses bool
	where     []string // the filter but q, and the cursor
	search    string   // q's condition's tsquery parameter, "" without q
	cols      string   // the selected columns and the text sort keys
	order     string
	limit     int
	// limitSQL is limit+1: a parameter, so that one prepared statement
	// serves every page size, except with q, whose statements are planned
	// for their values anyway and whose sample shares the parameters.
	limitSQL string
}

// UserListQuery is the SQL FindUsers runs for a filter when the planner
// may choose: the filter becomes a WHERE clause and the cursor a row
// comparison on the sort's index, so a deep page costs what the first does.
// It is exported for the benchmark's EXPLAIN. EINVALID for a bad sort,
// limit, filter or cursor.
func UserListQuery(tenantID string, f roster.UserFilter) (string, []any, error) {
	l, err := buildUserList(tenantID, f, nil)
	if err != nil {
		return "", nil, err
	}
	return l.pageSQL(), l.b.args, nil
}

// pageSQL selects the page (and one row more) in the sort's order.
func (l *userList) pageSQL() string {
	return `SELECT ` + l.cols + ` FROM users WHERE ` + strings.Join(l.conds(), " AND ") +
		` ORDER BY ` + l.order + ` LIMIT ` + l.limitSQL
}

// matchesFirstSQL is pageSQL for a rare search: every match is found
// through the words index before the page is sorted out of them.
func (l *userList) matchesFirstSQL() string {
	return `WITH matches AS MATERIALIZED (SELECT ` + l.cols + ` FROM users WHERE ` + strings.Join(l.conds(), " AND ") + `)
		SELECT * FROM matches ORDER BY ` + l.order + ` LIMIT ` + l.limitSQL
}

// cursorAfter is the cursor of the page that starts after u, the last
// user shown, whose text sort keys the page selected into textKeys.
func (l *userList) cursorAfter(u *roster.User, textKeys []string) string {
	keys := make([]string, 0, len(l.keys)+1)
	for _, k := range l.keys {
		if k.of != nil {
			keys = append(keys, k.of(u))
		} else {
			keys, textKeys = append(keys, textKeys[0]), textKeys[1:]
		}
	}
	return cursor{Sort: l.sort, Keys: append(keys, u.ID)}.encode()
}

func (l *userList) conds() []string {
	if l.search == "" {
		return l.where
	}
	return append(slices.Clip(l.where), planPerValue+"words @@ "+l.search)
}

// buildUserList is the SQL of one page; reach is what checkTeam found of
// the filter's teams, nil to leave the planner the choice.
func buildUserList(tenantID string, f roster.UserFilter, reach *teamReach) (*userList, error) {
	keys, desc, err := parseUserSort(f.Sort)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	l := &userList{b: &sqlBuilder{}, limit: limit}
	rest := f
	rest.Query = ""
	if l.where, err = userConds(l.b, tenantID, rest, reach); err != nil {
		return nil, err
	}
	var addresses []string
	if l.search, addresses, err = searchConds(l.b, f.Query); err != nil {
		return nil, err
	}
	l.where = append(l.where, addresses...)
	l.addresses = len(addresses) > 0

	exprs := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		exprs = append(exprs, k.expr)
	}
	exprs = append(exprs, "id")
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, cmp.Or(f.Sort, roster.SortCreatedAt), len(keys)+1)
		if err != nil {
			return nil, err
		}
		badCursor := roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		params := make([]string, 0, len(c.Keys))
		for i, k := range keys {
			if !validKey(c.Keys[i], k.typ) {
				return nil, badCursor
			}
			params = append(params, l.b.arg(c.Keys[i])+"::"+k.typ)
		}
		if !isUUID(c.Keys[len(keys)]) {
			return nil, badCursor
		}
		params = append(params, l.b.arg(c.Keys[len(keys)])+"::uuid")
		op := ">"
		if desc {
			op = "<"
		}
		l.where = append(l.where, fmt.Sprintf("(%s) %s (%s)", strings.Join(exprs, ", "), op, strings.Join(params, ", ")))
	}

	order := make([]string, len(exprs))
	for i, e := range exprs {
		order[i] = e
		if desc {
			order[i] += " DESC"
		}
	}
	l.order = strings.Join(order, ", ")
	l.sort, l.keys = cmp.Or(f.Sort, roster.SortCreatedAt), keys
	l.cols = userListColumns
	for _, k := range keys {
		if k.of == nil {
			l.cols += ", " + k.expr
			l.textKeys++
		}
	}
	l.limitSQL = fmt.Sprint(limit + 1)
	if l.search == "" {
		l.limitSQL = l.b.arg(limit + 1)
	}
	return l, nil
}

// userFilterConds turns the selection of a filter (q, role, active, mfa,
// mfa_method, team, the caller's scope) into WHERE conditions, the tenant's first: the users list and
// bulk actions select through it, so they select the same users.
func userFilterConds(q *sqlBuilder, tenantID string, f roster.UserFilter) ([]string, error) {
	return userConds(q, tenantID, f, nil)
}

// userConds is userFilterConds with what checkTeam found of the filter's
// teams (teamMembersCond).
func userConds(q *sqlBuilder, tenantID string, f roster.UserFilter, reach *teamReach) ([]string, error) {
	tenant := q.arg(tenantID)
	where := []string{"tenant_id = " + tenant}
	search, addresses, err := searchConds(q, f.Query)
	if err != nil {
		return nil, err
	}
	if search != "" {
		where = append(where, planPerValue+"words @@ "+search)
	}
	where = append(where, addresses...)
	if f.Email != "" {
		if msg := emailFilterProblem(f.Email); msg != "" {
			return nil, roster.Invalid(roster.FieldError{Field: "email", Message: msg})
		}
		where = append(where, "lower(email) = lower("+q.arg(f.Email)+")")
	}
	if f.Role != "" {
		if msg := roster.RoleNameProblem(f.Role); msg != "" {
			return nil, roster.Invalid(roster.FieldError{Field: "role", Message: msg})
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
	// A literal, not a parameter, so that true is users_pending_approval_idx.
	if f.PendingApproval != nil {
		where = append(where, map[bool]string{true: "pending_approval", false: "NOT pending_approval"}[*f.PendingApproval])
	}
	// Spelt as the expression of users_last_login_sort_idx, so that either
	// is a range of it.
	if f.NeverSignedIn {
		where = append(where, "coalesce(last_login_at, '-infinity'::timestamptz) = '-infinity'")
	}
	if f.LastLoginBefore != nil {
		where = append(where, planPerValue+"coalesce(last_login_at, '-infinity'::timestamptz) > '-infinity' AND coalesce(last_login_at, '-infinity'::timestamptz) < "+
			q.arg(*f.LastLoginBefore))
	}
	if msg := teamProblem(f.Team); msg != "" {
		return nil, roster.Invalid(roster.FieldError{Field: "team", Message: msg})
	}
	if cond := teamMembersCond(q, tenant, f.Team, f.Scope, reach); cond != "" {
		where = append(where, cond)
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

// searchConds turns q into conditions: words, the tsquery parameter its
// word prefixes must match ("" when it has none), and addresses, one
// condition per e-mail address prefix. EINVALID naming "q" for a bad
// search.
func searchConds(b *sqlBuilder, q string) (words string, addresses []string, err error) {
	if msg := queryProblem(q); msg != "" {
		return "", nil, roster.Invalid(roster.FieldError{Field: "q", Message: msg})
	}
	prefixes, starts := searchTerms(q)
	if len(prefixes) > 0 {
		words = b.arg(prefixTSQuery(prefixes)) + "::tsquery"
	}
	for _, start := range starts {
		// The term's local part is the address's: one key of
		// users_email_local_idx.
		local, _, _ := strings.Cut(start, "@")
		addresses = append(addresses, "split_part(lower(email), '@', 1) = lower("+b.arg(local)+") AND starts_with(lower(email), lower("+b.arg(start)+"))")
	}
	return words, addresses, nil
}

// emailFilterProblem says what is wrong with an email filter, or "": it
// must be text an address could be.
func emailFilterProblem(email string) string {
	if msg := queryProblem(email); msg != "" {
		return msg
	}
	if len(email) > roster.MaxEmailLength {
		return fmt.Sprintf("must be at most %d characters", roster.MaxEmailLength)
	}
	return ""
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
