package roster

// Expr is a condition on a resource's attributes. A transport builds it
// (SCIM turns its filter parameter into one) and the store turns it into
// SQL, so that a filter is always evaluated by the database, on its indexes.
type Expr interface{ isExpr() }

// Comparison operators, as in RFC 7644 §3.4.2.2.
const (
	OpEq = "eq" // equal
	OpNe = "ne" // not equal
	OpCo = "co" // contains
	OpSw = "sw" // starts with
	OpEw = "ew" // ends with
	OpGt = "gt" // greater than
	OpGe = "ge" // greater than or equal
	OpLt = "lt" // less than
	OpLe = "le" // less than or equal
	OpPr = "pr" // present (has a non-empty value)
)

// Compare tests one attribute against a value.
type Compare struct {
	// Attr names a stored attribute of the resource: for users one of
	// UserAttrs, for groups one of GroupAttrs, or AttrExtra.
	Attr string
	// Path is the path inside the extra attributes when Attr is AttrExtra,
	// e.g. ["title"] or ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "employeeNumber"].
	Path []string
	Op   string
	// Value is a string, bool, float64 or time.Time; nil for OpPr.
	Value any
}

// And, Or and Not combine conditions.
type (
	And struct{ Left, Right Expr }
	Or  struct{ Left, Right Expr }
	Not struct{ X Expr }
)

func (Compare) isExpr() {}
func (And) isExpr()     {}
func (Or) isExpr()      {}
func (Not) isExpr()     {}

// Attributes a user condition can name. Text attributes other than
// external_id compare case-insensitively.
const (
	AttrID          = "id"
	AttrUserName    = "user_name"
	AttrEmail       = "email"
	AttrExternalID  = "external_id"
	AttrGivenName   = "given_name"
	AttrFamilyName  = "family_name"
	AttrDisplayName = "display_name"
	AttrActive      = "active"
	AttrCreatedAt   = "created_at"
	AttrUpdatedAt   = "updated_at"
	AttrExtra       = "attributes" // the free-form attributes, with a Path
	AttrMember      = "member"     // groups: has this user id as a member
)

// UserQuery selects users the way SCIM lists them: a condition, an order,
// and a window by offset with the total count.
type UserQuery struct {
	Where      Expr   // nil selects every user
	SortBy     string // a user attribute; "" is creation order
	Descending bool
	Offset     int // rows to skip, from 0
	Count      int // rows to return; 0 returns only the total
}

// GroupQuery selects groups the same way.
type GroupQuery struct {
	Where      Expr
	SortBy     string
	Descending bool
	Offset     int
	Count      int
}
