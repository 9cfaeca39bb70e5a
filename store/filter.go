package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// filterColumn is how a condition's attribute is stored.
type filterColumn struct {
	name     string
	kind     columnKind
	nullable bool
	// searched marks the users columns whose lower-cased text is part of
	// users.search, so that a substring condition on them can also be
	// asked of its trigram index.
	searched bool
}

type columnKind int

const (
	kindID     columnKind = iota // uuid
	kindText                     // text, compared case-exactly
	kindFolded                   // text, compared case-insensitively
	kindBool
	kindTime
)

var userFilterColumns = map[string]filterColumn{
	roster.AttrID:          {name: "id", kind: kindID},
	roster.AttrUserName:    {name: "user_name", kind: kindFolded, searched: true},
	roster.AttrEmail:       {name: "email", kind: kindFolded, searched: true},
	roster.AttrExternalID:  {name: "external_id", kind: kindText, nullable: true},
	roster.AttrGivenName:   {name: "given_name", kind: kindFolded, searched: true},
	roster.AttrFamilyName:  {name: "family_name", kind: kindFolded, searched: true},
	roster.AttrDisplayName: {name: "display_name", kind: kindFolded},
	roster.AttrActive:      {name: "active", kind: kindBool},
	roster.AttrCreatedAt:   {name: "created_at", kind: kindTime},
	roster.AttrUpdatedAt:   {name: "updated_at", kind: kindTime},
}

var groupFilterColumns = map[string]filterColumn{
	roster.AttrID:          {name: "id", kind: kindID},
	roster.AttrDisplayName: {name: "display_name", kind: kindFolded},
	roster.AttrExternalID:  {name: "external_id", kind: kindText, nullable: true},
	roster.AttrCreatedAt:   {name: "created_at", kind: kindTime},
	roster.AttrUpdatedAt:   {name: "updated_at", kind: kindTime},
}

// userWhere turns e into a boolean SQL expression on the users table, its
// values added to b as parameters; nil is TRUE. The caller adds the tenant
// condition. EINVALID naming "filter" for a condition that does not fit an
// attribute's type.
func userWhere(e roster.Expr, b *sqlBuilder) (string, error) {
	return filterSQL{b: b, columns: userFilterColumns, attributes: true}.expr(e)
}

// groupWhere is userWhere for the groups table, which the query must name
// groups (members are matched on groups.tenant_id and groups.id).
func groupWhere(e roster.Expr, b *sqlBuilder) (string, error) {
	return filterSQL{b: b, columns: groupFilterColumns, members: true}.expr(e)
}

// UserWhereSQL returns the SQL condition and parameters userWhere makes of
// e, its parameters numbered after first's, which it begins with. It is
// exported for tests and EXPLAIN.
func UserWhereSQL(e roster.Expr, first ...any) (string, []any, error) {
	b := &sqlBuilder{args: slices.Clone(first)}
	where, err := userWhere(e, b)
	return where, b.args, err
}

// GroupWhereSQL is UserWhereSQL for groups.
func GroupWhereSQL(e roster.Expr, first ...any) (string, []any, error) {
	b := &sqlBuilder{args: slices.Clone(first)}
	where, err := groupWhere(e, b)
	return where, b.args, err
}

// filterSQL translates conditions on one table.
type filterSQL struct {
	b          *sqlBuilder
	columns    map[string]filterColumn
	attributes bool // the table has the free-form attributes column
	members    bool // the table is groups, with group_members
}

func (f filterSQL) expr(e roster.Expr) (string, error) {
	switch e := e.(type) {
	case nil:
		return "TRUE", nil
	case roster.And, *roster.And:
		return f.chain(e, " AND ")
	case roster.Or, *roster.Or:
		return f.chain(e, " OR ")
	case roster.Not:
		return f.not(e.X)
	case *roster.Not:
		return f.not(e.X)
	case roster.Compare:
		return f.compare(e)
	case *roster.Compare:
		return f.compare(*e)
	}
	return "", fmt.Errorf("filter: unknown condition %T", e)
}

// not is SQL's NOT, except that unknown (a comparison with NULL, as with
// an absent external id) counts as false before it is negated: SCIM has no
// unknown, and not (externalId eq "x") holds for a user without one.
func (f filterSQL) not(x roster.Expr) (string, error) {
	s, err := f.expr(x)
	if err != nil {
		return "", err
	}
	return "(" + s + ") IS NOT TRUE", nil
}

// chain joins a run of ANDs (or ORs) into one flat list, so that the
// long left-leaning chains a parser makes do not nest in the SQL.
func (f filterSQL) chain(e roster.Expr, op string) (string, error) {
	var parts []string
	stack := []roster.Expr{e}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if left, right, ok := sameOperator(x, op); ok {
			stack = append(stack, right, left)
			continue
		}
		s, err := f.expr(x)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return "(" + strings.Join(parts, op) + ")", nil
}

// sameOperator returns the sides of x when x is an And (op " AND ") or an
// Or (op " OR ").
func sameOperator(x roster.Expr, op string) (left, right roster.Expr, ok bool) {
	switch x := x.(type) {
	case roster.And:
		return x.Left, x.Right, op == " AND "
	case *roster.And:
		return x.Left, x.Right, op == " AND "
	case roster.Or:
		return x.Left, x.Right, op == " OR "
	case *roster.Or:
		return x.Left, x.Right, op == " OR "
	}
	return nil, nil, false
}

func (f filterSQL) compare(c roster.Compare) (string, error) {
	if err := checkValue(c); err != nil {
		return "", err
	}
	switch {
	case c.Attr == roster.AttrExtra && f.attributes:
		return f.extra(c)
	case c.Attr == roster.AttrMember && f.members:
		return f.member(c)
	}
	col, ok := f.columns[c.Attr]
	if !ok {
		return "", invalidFilter("cannot filter on %s", c.Attr)
	}
	if c.Op == roster.OpPr {
		return present(col), nil
	}
	switch col.kind {
	case kindID:
		return f.id(col, c)
	case kindBool:
		return f.boolean(col, c)
	case kindTime:
		return f.timestamp(col, c)
	}
	return f.text(col, c)
}

// present is pr: a value, and for text a non-empty one.
func present(col filterColumn) string {
	switch {
	case col.kind != kindText && col.kind != kindFolded:
		return col.name + " IS NOT NULL"
	case col.nullable:
		return "(" + col.name + " IS NOT NULL AND " + col.name + " <> '')"
	}
	return col.name + " <> ''"
}

// id compares the uuid primary key. Ids that are not UUIDs cannot exist,
// and PostgreSQL would refuse them as uuid parameters.
func (f filterSQL) id(col filterColumn, c roster.Compare) (string, error) {
	s, ok := c.Value.(string)
	if !ok {
		return "", invalidFilter("%s is a string: compare it with a string", c.Attr)
	}
	switch {
	case c.Op == roster.OpEq && !isUUID(s):
		return "FALSE", nil
	case c.Op == roster.OpNe && !isUUID(s):
		return "TRUE", nil
	case c.Op == roster.OpEq || c.Op == roster.OpNe:
		return f.scalar(col.name, c.Op, s)
	}
	return f.textOp(col.name+"::text", c.Op, strings.ToLower(s))
}

func (f filterSQL) boolean(col filterColumn, c roster.Compare) (string, error) {
	v, ok := c.Value.(bool)
	if !ok {
		return "", invalidFilter("%s is a boolean: compare it with true or false", c.Attr)
	}
	if c.Op != roster.OpEq && c.Op != roster.OpNe {
		return "", invalidFilter("%s is a boolean: %s does not apply", c.Attr, c.Op)
	}
	return f.scalar(col.name, c.Op, v)
}

func (f filterSQL) timestamp(col filterColumn, c roster.Compare) (string, error) {
	v, ok := c.Value.(time.Time)
	if !ok || isLike(c.Op) {
		return "", invalidFilter("%s is a date: compare it with a date, by eq, ne, gt, ge, lt, le or pr", c.Attr)
	}
	return f.scalar(col.name, c.Op, v)
}

// text compares a text column; case-insensitive ones compare lower-cased
// on both sides, which is what their indexes (on lower(column)) hold.
func (f filterSQL) text(col filterColumn, c roster.Compare) (string, error) {
	s, ok := c.Value.(string)
	if !ok {
		return "", invalidFilter("%s is a string: compare it with a string", c.Attr)
	}
	if col.kind == kindText {
		return f.textOp(col.name, c.Op, s)
	}
	s = strings.ToLower(s)
	sql, err := f.textOp("lower("+col.name+")", c.Op, s)
	if err != nil || !col.searched || !isLike(c.Op) {
		return sql, err
	}
	// users.search holds the searched columns lower-cased: whatever one of
	// them contains, it contains, and its trigram index can find it.
	return "(search LIKE " + f.b.arg("%"+escapeLike(s)+"%") + " AND " + sql + ")", nil
}

func isLike(op string) bool {
	return op == roster.OpCo || op == roster.OpSw || op == roster.OpEw
}

// likePattern is the LIKE pattern of co, sw and ew.
func likePattern(op, s string) (string, bool) {
	switch op {
	case roster.OpCo:
		return "%" + escapeLike(s) + "%", true
	case roster.OpSw:
		return escapeLike(s) + "%", true
	case roster.OpEw:
		return "%" + escapeLike(s), true
	}
	return "", false
}

// textOp compares the text expr with s.
func (f filterSQL) textOp(expr, op, s string) (string, error) {
	if pattern, ok := likePattern(op, s); ok {
		return expr + " LIKE " + f.b.arg(pattern), nil
	}
	return f.scalar(expr, op, s)
}

// scalarOps are the SQL of the comparisons every type has.
var scalarOps = map[string]string{
	roster.OpEq: " = ",
	roster.OpNe: " IS DISTINCT FROM ",
	roster.OpGt: " > ",
	roster.OpGe: " >= ",
	roster.OpLt: " < ",
	roster.OpLe: " <= ",
}

func (f filterSQL) scalar(expr, op string, v any) (string, error) {
	sqlOp, ok := scalarOps[op]
	if !ok {
		return "", invalidFilter("unknown operator %q", op)
	}
	return expr + sqlOp + f.b.arg(v), nil
}

// member is "the group has this user": only eq.
func (f filterSQL) member(c roster.Compare) (string, error) {
	s, ok := c.Value.(string)
	if c.Op != roster.OpEq || !ok {
		return "", invalidFilter("members can only be compared with eq and a user id")
	}
	if !isUUID(s) {
		return "FALSE", nil
	}
	return "EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = groups.tenant_id" +
		" AND m.group_id = groups.id AND m.user_id = " + f.b.arg(s) + ")", nil
}

// extra compares a value inside users.attributes, where a multi-valued
// SCIM attribute is an array: phoneNumbers.value is every phone number's
// value, and a condition holds when it holds for one of them (ne: for
// none). Arrays are read in jsonpath's lax mode, which steps into them;
// anything else with a plain lookup, at a fraction of the cost. SCIM nests
// no deeper than attribute and sub-attribute, so an array can only be the
// last step of the path or the one before.
func (f filterSQL) extra(c roster.Compare) (string, error) {
	if len(c.Path) == 0 {
		return "", invalidFilter("a condition on attributes needs a path")
	}
	path := f.b.arg(pq.StringArray(c.Path)) + "::text[]"
	arrays := "jsonb_typeof(attributes #> " + path + ") = 'array'"
	if len(c.Path) > 1 {
		parent := f.b.arg(pq.StringArray(c.Path[:len(c.Path)-1])) + "::text[]"
		arrays = "jsonb_typeof(attributes #> " + parent + ") = 'array' OR " + arrays
	}
	lax, err := laxPath(c.Path)
	if err != nil {
		return "", err
	}
	lax = f.b.arg(lax) + "::jsonpath"
	op := c.Op
	if op == roster.OpNe {
		op = roster.OpEq
	}
	test, err := f.jsonTest(op, c.Value)
	if err != nil {
		return "", err
	}
	sql := "CASE WHEN " + arrays +
		" THEN EXISTS (SELECT 1 FROM jsonb_path_query(attributes, " + lax + ") AS v WHERE " + test("v") + ")" +
		" ELSE " + test("(attributes #> "+path+")") + " END"
	if c.Op == roster.OpNe {
		return "(" + sql + ") IS NOT TRUE", nil
	}
	return sql, nil
}

// laxPath is the jsonpath of a path's values; its [*] steps into an array
// at the end of the path, and is the value itself for anything else.
func laxPath(path []string) (string, error) {
	lax := "$"
	for _, key := range path {
		quoted, err := json.Marshal(key)
		if err != nil {
			return "", fmt.Errorf("filter: quote path: %w", err)
		}
		lax += "." + string(quoted)
	}
	return lax + "[*]", nil
}

// jsonTest is a condition on a JSON value, whose SQL it is given; its
// parameters are added once, when it is made.
type jsonTest func(v string) string

func (f filterSQL) jsonTest(op string, value any) (jsonTest, error) {
	if op == roster.OpPr {
		return func(v string) string { return v + " #>> '{}' <> ''" }, nil
	}
	switch value := value.(type) {
	case string:
		s := strings.ToLower(value)
		sqlOp, p := scalarOps[op], ""
		if pattern, ok := likePattern(op, s); ok {
			sqlOp, p = " LIKE ", f.b.arg(pattern)
		} else {
			p = f.b.arg(s)
		}
		return func(v string) string { return "lower(" + v + " #>> '{}')" + sqlOp + p }, nil
	case bool:
		if op != roster.OpEq {
			return nil, invalidFilter("%v is a boolean: %s does not apply", value, op)
		}
		p := f.b.arg(strconv.FormatBool(value)) + "::jsonb"
		return func(v string) string { return v + " = " + p }, nil
	case float64:
		raw, err := json.Marshal(value)
		if err != nil || isLike(op) {
			return nil, invalidFilter("%s %v does not apply to a number", op, value)
		}
		p, sqlOp := f.b.arg(string(raw))+"::jsonb", scalarOps[op]
		// jsonb sorts every number before every string or boolean.
		return func(v string) string { return "(jsonb_typeof(" + v + ") = 'number' AND " + v + sqlOp + p + ")" }, nil
	}
	return nil, invalidFilter("free-form attributes compare with strings, numbers and booleans, not %T", value)
}

// checkValue refuses unknown operators, and text PostgreSQL cannot take
// as a parameter.
func checkValue(c roster.Compare) error {
	texts := slices.Clone(c.Path)
	if s, ok := c.Value.(string); ok {
		texts = append(texts, s)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return invalidFilter("values must be valid UTF-8 without NUL")
		}
	}
	if c.Op == roster.OpPr || c.Attr == roster.AttrMember {
		return nil
	}
	if _, ok := scalarOps[c.Op]; !ok && !isLike(c.Op) {
		return invalidFilter("unknown operator %q", c.Op)
	}
	return nil
}

func invalidFilter(format string, args ...any) error {
	return roster.Invalid(roster.FieldError{Field: "filter", Message: fmt.Sprintf(format, args...)})
}
