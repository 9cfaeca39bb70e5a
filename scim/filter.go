package scim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster"
)

// Limits on a filter: far beyond what identity providers send, and small
// enough that a hostile filter is refused before it costs anything.
const (
	maxFilterLength = 4 << 10 // bytes
	maxFilterDepth  = 16      // nested parentheses and brackets
)

// parseUserFilter turns a SCIM filter on users (RFC 7644 §3.4.2.2) into a
// condition the store evaluates in SQL. A nil condition with a nil error
// means the filter holds for every user. EINVALID naming "filter" for a
// malformed filter, an unknown attribute, or an operator or value that does
// not fit the attribute's type.
func parseUserFilter(s string) (roster.Expr, error) {
	return parseFilter(s, userFilterSchema)
}

// parseGroupFilter is parseUserFilter for groups.
func parseGroupFilter(s string) (roster.Expr, error) {
	return parseFilter(s, groupFilterSchema)
}

// simpleEquality is the filter identity providers send on almost every
// request, attribute eq "value" (userName, externalId, emails.value...), with
// no escapes in the value. It skips the general parser, which is most of the
// CPU of such a lookup.
var simpleEquality = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_]*)(?:\.([A-Za-z][A-Za-z0-9_]*))?\s+(?i:eq)\s+"([^"\\]*)"\s*$`)

func parseFilter(s string, schema filterSchema) (roster.Expr, error) {
	var parsed filter.Expression
	var valuePaths []string
	if m := simpleEquality.FindStringSubmatch(s); m != nil && len(s) <= maxFilterLength &&
		utf8.ValidString(m[3]) && !strings.ContainsRune(m[3], 0) {
		path := filter.AttributePath{AttributeName: m[1]}
		if m[2] != "" {
			path.SubAttribute = &m[2]
		}
		parsed = &filter.AttributeExpression{AttributePath: path, Operator: filter.EQ, CompareValue: m[3]}
	} else {
		text, vps, err := prepareFilter(s)
		if err != nil {
			return nil, err
		}
		if parsed, err = filter.ParseFilter([]byte(text)); err != nil {
			return nil, invalidFilter("is not a valid SCIM filter (RFC 7644 §3.4.2.2)")
		}
		valuePaths = vps
	}
	t := filterTranslator{schema: schema, valuePaths: valuePaths}
	c, err := t.expr(parsed)
	if err != nil {
		return nil, err
	}
	switch {
	case c.expr != nil:
		return c.expr, nil
	case c.value:
		return nil, nil
	}
	// A filter that holds for no resource, such as emails[type eq "home"]:
	// no resource has the nil UUID as its id.
	return roster.Compare{Attr: roster.AttrID, Op: roster.OpEq, Value: "00000000-0000-0000-0000-000000000000"}, nil
}

// invalidFilter is the error of every bad filter.
func invalidFilter(format string, args ...any) *roster.Error {
	return roster.Invalid(roster.FieldError{Field: "filter", Message: fmt.Sprintf(format, args...)})
}

// prepareFilter checks what the parser should not be trusted with (size,
// nesting, encoding) and rewrites each value path followed by a
// sub-attribute, as in emails[type eq "work"].value eq "a@b.c": Entra ID
// sends them, but the parser follows RFC 7644's grammar, which has none. The
// value path is set aside and a placeholder attribute ($vp0, $vp1...) takes
// its place, so the parser sees $vp0.value eq "a@b.c".
func prepareFilter(s string) (text string, valuePaths []string, err error) {
	switch {
	case strings.TrimSpace(s) == "":
		return "", nil, invalidFilter("is empty")
	case len(s) > maxFilterLength:
		return "", nil, invalidFilter("is longer than %d bytes", maxFilterLength)
	case !utf8.ValidString(s):
		return "", nil, invalidFilter("must be valid UTF-8")
	}
	var out strings.Builder
	depth, copied, pathStart := 0, 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			end := stringEnd(s, i)
			if end < 0 {
				return "", nil, invalidFilter("has a string without its closing quote")
			}
			i = end
		case '[':
			if pathStart >= 0 {
				return "", nil, invalidFilter("nests a [ ] value filter in another")
			}
			pathStart = attrPathStart(s, i)
			fallthrough
		case '(':
			if depth++; depth > maxFilterDepth {
				return "", nil, invalidFilter("nests more than %d levels deep", maxFilterDepth)
			}
		case ']':
			if pathStart >= 0 && i+1 < len(s) && s[i+1] == '.' {
				out.WriteString(s[copied:pathStart])
				out.WriteString(valuePathPlaceholder + strconv.Itoa(len(valuePaths)))
				valuePaths = append(valuePaths, s[pathStart:i+1])
				copied = i + 1
			}
			pathStart = -1
			fallthrough
		case ')':
			if depth--; depth < 0 {
				return "", nil, invalidFilter("has an unbalanced %c", s[i])
			}
		case '$':
			// No attribute of a resource's root starts with $ ($ref is a
			// sub-attribute), so none can pass for a placeholder.
			if pathStart < 0 && (i == 0 || s[i-1] != '.') {
				return "", nil, invalidFilter("names an unknown attribute starting with $")
			}
		}
	}
	if depth != 0 {
		return "", nil, invalidFilter("has an unbalanced ( or [")
	}
	out.WriteString(s[copied:])
	return out.String(), valuePaths, nil
}

const valuePathPlaceholder = "$vp"

// stringEnd returns the index of the quote closing the string that opens
// at s[start], or -1.
func stringEnd(s string, start int) int {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// attrPathStart returns where the attribute path before the bracket at
// s[bracket] starts, spaces before the bracket included.
func attrPathStart(s string, bracket int) int {
	i := bracket
	for i > 0 && s[i-1] == ' ' {
		i--
	}
	for i > 0 && isAttrPathByte(s[i-1]) {
		i--
	}
	return i
}

func isAttrPathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == ':' || c == '-' || c == '_' || c == '$'
}

// cond is a condition being translated: an expression for the database,
// or a constant when the answer is known without it, as for conditions on
// the type of Roster's one email, which is always the work email.
type cond struct {
	expr  roster.Expr // nil for a constant
	value bool        // the constant, when expr is nil
}

func constCond(v bool) cond { return cond{value: v} }

func (c cond) is(v bool) bool { return c.expr == nil && c.value == v }

func andCond(a, b cond) cond {
	switch {
	case a.is(false), b.is(true):
		return a
	case b.is(false), a.is(true):
		return b
	}
	return cond{expr: roster.And{Left: a.expr, Right: b.expr}}
}

func orCond(a, b cond) cond {
	switch {
	case a.is(true), b.is(false):
		return a
	case b.is(true), a.is(false):
		return b
	}
	return cond{expr: roster.Or{Left: a.expr, Right: b.expr}}
}

func notCond(a cond) cond {
	if a.expr == nil {
		return constCond(!a.value)
	}
	return cond{expr: roster.Not{X: a.expr}}
}

// filterTranslator turns the parser's tree into a condition on one
// resource type.
type filterTranslator struct {
	schema     filterSchema
	valuePaths []string // set aside by prepareFilter
}

func (t filterTranslator) expr(e filter.Expression) (cond, error) {
	return translate(e, func(e filter.Expression) (cond, error) {
		switch e := e.(type) {
		case *filter.ValuePath:
			return t.valuePath(*e, nil)
		case *filter.AttributeExpression:
			if n, ok := strings.CutPrefix(e.AttributePath.AttributeName, valuePathPlaceholder); ok {
				return t.placeholder(n, *e)
			}
			attr, err := t.schema.resolve(e.AttributePath)
			if err != nil {
				return cond{}, err
			}
			return compareAttr(attr, e.Operator, e.CompareValue)
		}
		return cond{}, invalidFilter("is not a valid SCIM filter (RFC 7644 §3.4.2.2)")
	})
}

// translate translates e's and, or and not, and with leaf what they join.
func translate(e filter.Expression, leaf func(filter.Expression) (cond, error)) (cond, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		left, err := translate(e.Left, leaf)
		if err != nil {
			return cond{}, err
		}
		right, err := translate(e.Right, leaf)
		if err != nil {
			return cond{}, err
		}
		if e.Operator == filter.AND {
			return andCond(left, right), nil
		}
		return orCond(left, right), nil
	case *filter.NotExpression:
		x, err := translate(e.Expression, leaf)
		return notCond(x), err
	}
	return leaf(e)
}

// placeholder translates $vpN.sub op value: the value path set aside as N,
// then the comparison on sub.
func (t filterTranslator) placeholder(n string, e filter.AttributeExpression) (cond, error) {
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || i >= len(t.valuePaths) || e.AttributePath.SubAttribute == nil {
		return cond{}, invalidFilter("is not a valid SCIM filter (RFC 7644 §3.4.2.2)")
	}
	vp, err := filter.ParseValuePath([]byte(t.valuePaths[i]))
	if err != nil {
		return cond{}, invalidFilter("has an invalid value filter %s", t.valuePaths[i])
	}
	e.AttributePath = filter.AttributePath{AttributeName: *e.AttributePath.SubAttribute}
	return t.valuePath(vp, &e)
}

// valuePath translates attr[elementFilter], followed by then, a comparison
// on a sub-attribute of the same element, in attr[...].sub op value.
func (t filterTranslator) valuePath(vp filter.ValuePath, then *filter.AttributeExpression) (cond, error) {
	attr, err := t.schema.resolve(vp.AttributePath)
	if err != nil {
		return cond{}, err
	}
	if attr.def.typ != typeComplex || !attr.def.multi {
		return cond{}, invalidFilter("%s is not a multi-valued attribute: [ ] does not apply", attr)
	}
	// Conditions on different sub-attributes must hold for the same
	// element, which a condition on "any element" cannot say; Roster has
	// one email, so there conditions on an element are conditions on it.
	if !attr.def.oneValue && (then != nil || !comparisonsOnly(vp.ValueFilter)) {
		return cond{}, invalidFilter("%s[ ] supports only comparisons joined by or, and no sub-attribute after it", attr)
	}
	c, err := t.element(attr, vp.ValueFilter)
	if err != nil || then == nil {
		return c, err
	}
	sub, err := attr.sub(then.AttributePath)
	if err != nil {
		return cond{}, err
	}
	thenCond, err := compareAttr(sub, then.Operator, then.CompareValue)
	return andCond(c, thenCond), err
}

// comparisonsOnly reports whether e is a comparison or several joined by
// or: what "any element matches" says exactly.
func comparisonsOnly(e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		return true
	case *filter.LogicalExpression:
		return e.Operator == filter.OR && comparisonsOnly(e.Left) && comparisonsOnly(e.Right)
	}
	return false
}

// element translates the filter inside attr[...], whose attributes are
// attr's sub-attributes.
func (t filterTranslator) element(attr attrRef, e filter.Expression) (cond, error) {
	return translate(e, func(e filter.Expression) (cond, error) {
		x, ok := e.(*filter.AttributeExpression)
		if !ok {
			return cond{}, invalidFilter("has an invalid value filter on %s", attr)
		}
		sub, err := attr.sub(x.AttributePath)
		if err != nil {
			return cond{}, err
		}
		return compareAttr(sub, x.Operator, x.CompareValue)
	})
}

// compareAttr translates attr op value.
func compareAttr(attr attrRef, op filter.CompareOperator, value any) (cond, error) {
	if attr.def.typ == typeComplex {
		if !attr.def.multi || attr.def.find("value") == nil {
			return cond{}, invalidFilter("%s has sub-attributes: name one, as in %s.%s", attr, attr, attr.def.subs[0].name)
		}
		attr = attr.with(*attr.def.find("value"))
	}
	if attr.def.to == "" && attr.def.fixed == nil {
		return cond{}, invalidFilter("%s cannot be filtered on", attr)
	}
	if value == nil && op != filter.PR {
		// RFC 7644 has no null comparisons, but "eq null" can only mean
		// "has no value".
		switch op {
		case filter.EQ:
			c, err := compareAttr(attr, filter.PR, nil)
			return notCond(c), err
		case filter.NE:
			return compareAttr(attr, filter.PR, nil)
		}
		return cond{}, invalidFilter("%s %s null: null is only compared with eq and ne", attr, op)
	}
	v, err := compareValue(attr, op, value)
	if err != nil {
		return cond{}, err
	}
	if attr.def.fixed != nil {
		return constCond(matchesFixed(attr.def.fixed, op, v)), nil
	}
	if attr.def.to == roster.AttrMember && op != filter.EQ {
		return cond{}, invalidFilter("%s supports only eq", attr)
	}
	c := roster.Compare{Attr: attr.def.to, Op: string(op), Value: v}
	if c.Attr == roster.AttrExtra {
		c.Path = attr.path
	}
	return cond{expr: c}, nil
}

// compareValue checks that op and value fit attr's type, and returns the
// value as roster.Compare holds it.
func compareValue(attr attrRef, op filter.CompareOperator, value any) (any, error) {
	if op == filter.PR {
		return nil, nil
	}
	if s, ok := value.(string); ok {
		// The parser keeps strings as written, escapes included; a string
		// its grammar accepts is a JSON string once quoted.
		var decoded string
		if err := json.Unmarshal([]byte(`"`+s+`"`), &decoded); err != nil {
			return nil, invalidFilter("has an invalid string %q", s)
		}
		if strings.ContainsRune(decoded, 0) {
			return nil, invalidFilter("has a string containing NUL")
		}
		value = decoded
	}
	switch attr.def.typ {
	case typeBoolean:
		return booleanValue(attr, op, value)
	case typeDateTime:
		return dateValue(attr, op, value)
	}
	s, ok := value.(string)
	if !ok {
		return nil, invalidFilter("%s is a string: compare it with a quoted string", attr)
	}
	return s, nil
}

func booleanValue(attr attrRef, op filter.CompareOperator, value any) (bool, error) {
	b, ok := value.(bool)
	if !ok {
		return false, invalidFilter("%s is a boolean: compare it with true or false", attr)
	}
	if op != filter.EQ && op != filter.NE {
		return false, invalidFilter("%s is a boolean: %s does not apply, only eq, ne and pr", attr, op)
	}
	return b, nil
}

func dateValue(attr attrRef, op filter.CompareOperator, value any) (time.Time, error) {
	s, ok := value.(string)
	if !ok {
		return time.Time{}, invalidFilter("%s is a date: compare it with a quoted RFC 3339 date", attr)
	}
	if op == filter.CO || op == filter.SW || op == filter.EW {
		return time.Time{}, invalidFilter("%s is a date: %s does not apply", attr, op)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidFilter("%s is a date: %q is not an RFC 3339 date such as \"2011-05-13T04:42:34Z\"", attr, s)
	}
	return t.UTC(), nil
}

// matchesFixed evaluates op on an attribute whose value is the same for
// every resource: strings compare case-insensitively.
func matchesFixed(fixed any, op filter.CompareOperator, v any) bool {
	if op == filter.PR {
		return true
	}
	if b, ok := fixed.(bool); ok {
		return (op == filter.EQ) == (v == b)
	}
	return compareStrings(fixed.(string), v.(string), op)
}

// compareStrings applies a filter operator to two strings, case-insensitively
// as SCIM compares attributes that are not caseExact.
func compareStrings(have, want string, op filter.CompareOperator) bool {
	have, want = strings.ToLower(have), strings.ToLower(want)
	switch op {
	case filter.EQ:
		return have == want
	case filter.NE:
		return have != want
	case filter.CO:
		return strings.Contains(have, want)
	case filter.SW:
		return strings.HasPrefix(have, want)
	case filter.EW:
		return strings.HasSuffix(have, want)
	case filter.GT:
		return have > want
	case filter.GE:
		return have >= want
	case filter.LT:
		return have < want
	case filter.LE:
		return have <= want
	}
	return false
}

// attrType is a SCIM attribute type (RFC 7643 §2.3) as far as filters
// care: strings stand for references and binaries too.
type attrType int

const (
	typeString attrType = iota
	typeBoolean
	typeDateTime
	typeComplex
)

// attrDef is an attribute of a SCIM schema, and where Roster keeps it.
type attrDef struct {
	name  string // as RFC 7643 spells it, which is how it is stored
	typ   attrType
	multi bool
	subs  []attrDef
	// to is the roster attribute a condition on it is a condition on, ""
	// when it cannot be filtered on.
	to string
	// fixed, when set, is its value for every resource: the type and
	// primary flag of Roster's one email.
	fixed any
	// oneValue marks a multi-valued attribute of which Roster keeps one
	// value (emails).
	oneValue bool
}

func (d attrDef) find(name string) *attrDef {
	for i := range d.subs {
		if strings.EqualFold(d.subs[i].name, name) {
			return &d.subs[i]
		}
	}
	return nil
}

// filterSchema is a resource type's attributes: its core schema's and
// those of its one extension.
type filterSchema struct {
	core, extension attrDef // complex attributes named by their URNs
}

// attrRef is an attribute found in a schema, with its path from the
// resource's root: the extension's URN if any, the attribute, the
// sub-attribute.
type attrRef struct {
	def  attrDef
	path []string
}

// String names the attribute as filters do, for error messages.
func (a attrRef) String() string {
	if len(a.path) > 0 && strings.HasPrefix(a.path[0], "urn:") {
		return a.path[0] + ":" + strings.Join(a.path[1:], ".")
	}
	return strings.Join(a.path, ".")
}

func (a attrRef) with(sub attrDef) attrRef {
	return attrRef{def: sub, path: append(a.path[:len(a.path):len(a.path)], sub.name)}
}

// sub resolves p, written inside a's brackets, as a sub-attribute of a.
func (a attrRef) sub(p filter.AttributePath) (attrRef, error) {
	if p.URIPrefix != nil || p.SubAttribute != nil {
		return attrRef{}, invalidFilter("%s has no sub-attribute %s", a, p)
	}
	d := a.def.find(p.AttributeName)
	if d == nil {
		return attrRef{}, invalidFilter("%s has no sub-attribute %s", a, p.AttributeName)
	}
	return a.with(*d), nil
}

// resolve finds the attribute p names, case-insensitively as RFC 7643 §2.1
// wants.
func (s filterSchema) resolve(p filter.AttributePath) (attrRef, error) {
	root := attrRef{def: s.core}
	switch uri := p.URI(); {
	case uri == "" || strings.EqualFold(uri, s.core.name):
	case s.extension.name != "" && strings.EqualFold(uri, s.extension.name):
		root = attrRef{def: s.extension, path: []string{s.extension.name}}
	default:
		return attrRef{}, invalidFilter("names %s, which is not a schema of this resource", uri)
	}
	d := root.def.find(p.AttributeName)
	if d == nil {
		return attrRef{}, invalidFilter("names an unknown attribute %s", p)
	}
	attr := root.with(*d)
	if p.SubAttribute == nil {
		return attr, nil
	}
	if d.typ != typeComplex {
		return attrRef{}, invalidFilter("names an unknown attribute %s", p)
	}
	return attr.sub(filter.AttributePath{AttributeName: *p.SubAttribute})
}

// Attribute definitions, after RFC 7643 §§3.1, 4.1-4.3, and where Roster
// keeps them.
var (
	metaAttr = complexAttr("meta", false,
		attrDef{name: "resourceType"},
		attrDef{name: "created", typ: typeDateTime, to: roster.AttrCreatedAt},
		attrDef{name: "lastModified", typ: typeDateTime, to: roster.AttrUpdatedAt},
		attrDef{name: "location"},
		attrDef{name: "version"},
	)

	userFilterSchema = filterSchema{
		core: complexAttr(userSchemaURN, false,
			attrDef{name: "id", to: roster.AttrID},
			attrDef{name: "externalId", to: roster.AttrExternalID},
			metaAttr,
			attrDef{name: "userName", to: roster.AttrUserName},
			complexAttr("name", false,
				extraAttr("formatted"),
				attrDef{name: "familyName", to: roster.AttrFamilyName},
				attrDef{name: "givenName", to: roster.AttrGivenName},
				extraAttr("middleName"),
				extraAttr("honorificPrefix"),
				extraAttr("honorificSuffix"),
			),
			attrDef{name: "displayName", to: roster.AttrDisplayName},
			extraAttr("nickName"),
			extraAttr("profileUrl"),
			extraAttr("title"),
			extraAttr("userType"),
			extraAttr("preferredLanguage"),
			extraAttr("locale"),
			extraAttr("timezone"),
			attrDef{name: "active", typ: typeBoolean, to: roster.AttrActive},
			attrDef{name: "password"},
			attrDef{name: "emails", typ: typeComplex, multi: true, oneValue: true, subs: []attrDef{
				{name: "value", to: roster.AttrEmail},
				extraAttr("display"),
				{name: "type", fixed: "work"},
				{name: "primary", typ: typeBoolean, fixed: true},
			}},
			multiValuedAttr("phoneNumbers"),
			multiValuedAttr("ims"),
			multiValuedAttr("photos"),
			complexAttr("addresses", true,
				extraAttr("formatted"),
				extraAttr("streetAddress"),
				extraAttr("locality"),
				extraAttr("region"),
				extraAttr("postalCode"),
				extraAttr("country"),
				extraAttr("type"),
				attrDef{name: "primary", typ: typeBoolean, to: roster.AttrExtra},
			),
			// A user's groups are its memberships, filtered from /Groups.
			complexAttr("groups", true, attrDef{name: "value"}, attrDef{name: "$ref"}, attrDef{name: "display"}, attrDef{name: "type"}),
			multiValuedAttr("entitlements"),
			multiValuedAttr("roles"),
			multiValuedAttr("x509Certificates"),
		),
		extension: complexAttr(enterpriseSchemaURN, false,
			extraAttr("employeeNumber"),
			extraAttr("costCenter"),
			extraAttr("organization"),
			extraAttr("division"),
			extraAttr("department"),
			complexAttr("manager", false, extraAttr("value"), extraAttr("$ref"), extraAttr("displayName")),
		),
	}

	groupFilterSchema = filterSchema{
		core: complexAttr(groupSchemaURN, false,
			attrDef{name: "id", to: roster.AttrID},
			attrDef{name: "externalId", to: roster.AttrExternalID},
			metaAttr,
			attrDef{name: "displayName", to: roster.AttrDisplayName},
			complexAttr("members", true,
				attrDef{name: "value", to: roster.AttrMember},
				attrDef{name: "$ref"},
				attrDef{name: "display"},
				attrDef{name: "type"},
			),
		),
	}
)

// extraAttr is a string attribute kept in a user's free-form attributes.
func extraAttr(name string) attrDef { return attrDef{name: name, to: roster.AttrExtra} }

func complexAttr(name string, multi bool, subs ...attrDef) attrDef {
	return attrDef{name: name, typ: typeComplex, multi: multi, subs: subs}
}

// multiValuedAttr is a multi-valued attribute with the usual value, display,
// type and primary, kept in a user's free-form attributes.
func multiValuedAttr(name string) attrDef {
	return complexAttr(name, true, extraAttr("value"), extraAttr("display"), extraAttr("type"),
		attrDef{name: "primary", typ: typeBoolean, to: roster.AttrExtra})
}
