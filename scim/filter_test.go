package scim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func where(attr, op string, value any) roster.Compare {
	return roster.Compare{Attr: attr, Op: op, Value: value}
}

func extraWhere(op string, value any, path ...string) roster.Compare {
	return roster.Compare{Attr: roster.AttrExtra, Path: path, Op: op, Value: value}
}

var nothing = where(roster.AttrID, roster.OpEq, "00000000-0000-0000-0000-000000000000")

func TestParseUserFilter(t *testing.T) {
	date := time.Date(2011, 5, 13, 4, 42, 34, 0, time.UTC)
	tests := []struct {
		filter string
		want   roster.Expr
	}{
		// What Okta sends.
		{`userName eq "john@x.com"`, where(roster.AttrUserName, roster.OpEq, "john@x.com")},
		{`externalId eq "00u1abcd"`, where(roster.AttrExternalID, roster.OpEq, "00u1abcd")},
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, where(roster.AttrID, roster.OpEq, "2819c223-7f76-453a-919d-413861904646")},
		{`emails.value eq "a@b.c"`, where(roster.AttrEmail, roster.OpEq, "a@b.c")},
		{`emails eq "a@b.c"`, where(roster.AttrEmail, roster.OpEq, "a@b.c")},
		// What Entra ID sends.
		{`userName eq "test@contoso.com"`, where(roster.AttrUserName, roster.OpEq, "test@contoso.com")},
		{`externalId eq "f1c5e1a0-0000-4f5e-9c2a-0123456789ab"`, where(roster.AttrExternalID, roster.OpEq, "f1c5e1a0-0000-4f5e-9c2a-0123456789ab")},
		{`emails[type eq "work"].value eq "a@b.c"`, where(roster.AttrEmail, roster.OpEq, "a@b.c")},
		{`emails[type eq "work"].value eq "a@b.c" and active eq true`, roster.And{
			Left: where(roster.AttrEmail, roster.OpEq, "a@b.c"), Right: where(roster.AttrActive, roster.OpEq, true)}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
			extraWhere(roster.OpEq, "701984", enterpriseSchemaURN, "employeeNumber")},
		// Names and operators are case-insensitive, and may carry the schema.
		{`UserName EQ "x"`, where(roster.AttrUserName, roster.OpEq, "x")},
		{`USERNAME Sw "x"`, where(roster.AttrUserName, roster.OpSw, "x")},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, where(roster.AttrUserName, roster.OpEq, "x")},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:name.givenName eq "x"`, where(roster.AttrGivenName, roster.OpEq, "x")},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:MANAGER.Value eq "m"`,
			extraWhere(roster.OpEq, "m", enterpriseSchemaURN, "manager", "value")},
		{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value eq "a@b.c"`, where(roster.AttrEmail, roster.OpEq, "a@b.c")},
		// Value paths on the one email.
		{`emails[type eq "work"]`, nil},
		{`emails[Type eq "WORK"]`, nil},
		{`emails[type eq "home"]`, nothing},
		{`emails [type eq "work" and value co "@x.com"]`, where(roster.AttrEmail, roster.OpCo, "@x.com")},
		{`emails[primary eq true].value ew "@x.com"`, where(roster.AttrEmail, roster.OpEw, "@x.com")},
		{`emails[type eq "home"].value eq "a@b.c" or userName eq "x"`, where(roster.AttrUserName, roster.OpEq, "x")},
		{`emails[type eq "home"].value eq "a@b.c" and userName eq "x"`, nothing},
		{`not (emails[type eq "home"])`, nil},
		{`emails[not (type eq "work")]`, nothing},
		{`emails[value eq "a@b.c" or value eq "d@e.f"]`, roster.Or{
			Left: where(roster.AttrEmail, roster.OpEq, "a@b.c"), Right: where(roster.AttrEmail, roster.OpEq, "d@e.f")}},
		{`emails.type eq "work" and emails.display eq "Work"`, extraWhere(roster.OpEq, "Work", "emails", "display")},
		// Logic, with parentheses.
		{`name.familyName sw "Sm" and not (active eq false)`, roster.And{
			Left:  where(roster.AttrFamilyName, roster.OpSw, "Sm"),
			Right: roster.Not{X: where(roster.AttrActive, roster.OpEq, false)}}},
		{`(userName eq "a" or userName eq "b") and not(displayName co "test")`, roster.And{
			Left:  roster.Or{Left: where(roster.AttrUserName, roster.OpEq, "a"), Right: where(roster.AttrUserName, roster.OpEq, "b")},
			Right: roster.Not{X: where(roster.AttrDisplayName, roster.OpCo, "test")}}},
		{`userName eq "a" or userName eq "b" and active eq true`, roster.Or{
			Left:  where(roster.AttrUserName, roster.OpEq, "a"),
			Right: roster.And{Left: where(roster.AttrUserName, roster.OpEq, "b"), Right: where(roster.AttrActive, roster.OpEq, true)}}},
		// Dates.
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, where(roster.AttrUpdatedAt, roster.OpGt, date)},
		{`meta.created le "2011-05-13T06:42:34+02:00"`, where(roster.AttrCreatedAt, roster.OpLe, date)},
		{`meta.created ge "2011-05-13T04:42:34.5Z"`, where(roster.AttrCreatedAt, roster.OpGe, date.Add(500*time.Millisecond))},
		// Free-form attributes.
		{`title pr`, extraWhere(roster.OpPr, nil, "title")},
		{`Title eq "Tour Guide"`, extraWhere(roster.OpEq, "Tour Guide", "title")},
		{`name.middleName eq "Q"`, extraWhere(roster.OpEq, "Q", "name", "middleName")},
		{`phoneNumbers.value eq "555-1234"`, extraWhere(roster.OpEq, "555-1234", "phoneNumbers", "value")},
		{`phoneNumbers[type eq "work" or type eq "mobile"]`, roster.Or{
			Left:  extraWhere(roster.OpEq, "work", "phoneNumbers", "type"),
			Right: extraWhere(roster.OpEq, "mobile", "phoneNumbers", "type")}},
		{`addresses.primary eq true`, extraWhere(roster.OpEq, true, "addresses", "primary")},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "Sales"`,
			extraWhere(roster.OpCo, "Sales", enterpriseSchemaURN, "department")},
		// Strings are JSON strings; null means absent.
		{`userName eq "a\"b\\c\/\u00E9"`, where(roster.AttrUserName, roster.OpEq, `a"b\c/é`)},
		{`displayName eq "été 日本"`, where(roster.AttrDisplayName, roster.OpEq, "été 日本")},
		{`externalId eq null`, roster.Not{X: where(roster.AttrExternalID, roster.OpPr, nil)}},
		{`externalId ne null`, where(roster.AttrExternalID, roster.OpPr, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got, err := parseUserFilter(tt.filter)
			if err != nil {
				t.Fatalf("parseUserFilter: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseGroupFilter(t *testing.T) {
	const user = "2819c223-7f76-453a-919d-413861904646"
	tests := []struct {
		filter string
		want   roster.Expr
	}{
		{`displayName eq "Sales"`, where(roster.AttrDisplayName, roster.OpEq, "Sales")},
		{`DisplayName EQ "Sales"`, where(roster.AttrDisplayName, roster.OpEq, "Sales")},
		{`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Sales"`, where(roster.AttrDisplayName, roster.OpEq, "Sales")},
		{`externalId eq "abc"`, where(roster.AttrExternalID, roster.OpEq, "abc")},
		{`id eq "` + user + `"`, where(roster.AttrID, roster.OpEq, user)},
		{`members[value eq "` + user + `"]`, where(roster.AttrMember, roster.OpEq, user)},
		{`members eq "` + user + `"`, where(roster.AttrMember, roster.OpEq, user)},
		{`members.value eq "` + user + `"`, where(roster.AttrMember, roster.OpEq, user)},
		{`members[value eq "a" or value eq "b"]`, roster.Or{
			Left: where(roster.AttrMember, roster.OpEq, "a"), Right: where(roster.AttrMember, roster.OpEq, "b")}},
		{`displayName eq "Sales" and not (members[value eq "` + user + `"])`, roster.And{
			Left:  where(roster.AttrDisplayName, roster.OpEq, "Sales"),
			Right: roster.Not{X: where(roster.AttrMember, roster.OpEq, user)}}},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, where(roster.AttrUpdatedAt, roster.OpLt, time.Date(2011, 5, 13, 4, 42, 34, 0, time.UTC))},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got, err := parseGroupFilter(tt.filter)
			if err != nil {
				t.Fatalf("parseGroupFilter: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name   string
		parse  func(string) (roster.Expr, error)
		filter string
	}{
		{"unknown attribute", parseUserFilter, `foo eq "x"`},
		{"unknown sub-attribute", parseUserFilter, `name.nickName eq "x"`},
		{"sub-attribute of a simple attribute", parseUserFilter, `userName.value eq "x"`},
		{"complex attribute without sub-attribute", parseUserFilter, `name eq "x"`},
		{"never filterable", parseUserFilter, `password eq "secret"`},
		{"user groups", parseUserFilter, `groups.value eq "x"`},
		{"unknown schema", parseUserFilter, `urn:example:custom:2.0:User:badge eq "x"`},
		{"unknown enterprise attribute", parseUserFilter, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize eq "x"`},
		{"string for a boolean", parseUserFilter, `active eq "yes"`},
		{"order on a boolean", parseUserFilter, `active gt true`},
		{"number for a string", parseUserFilter, `userName eq 5`},
		{"boolean for a string", parseUserFilter, `userName eq true`},
		{"bad date", parseUserFilter, `meta.lastModified gt "yesterday"`},
		{"number for a date", parseUserFilter, `meta.created gt 2011`},
		{"substring of a date", parseUserFilter, `meta.created co "2011"`},
		{"null ordered", parseUserFilter, `userName gt null`},
		{"NUL in a string", parseUserFilter, `userName eq "a\u0000b"`},
		{"unterminated string", parseUserFilter, `userName eq "abc`},
		{"missing value", parseUserFilter, `userName eq`},
		{"missing operator", parseUserFilter, `userName`},
		{"unknown operator", parseUserFilter, `userName like "x"`},
		{"empty", parseUserFilter, ``},
		{"blank", parseUserFilter, `   `},
		{"unclosed parenthesis", parseUserFilter, `(userName eq "a"`},
		{"extra parenthesis", parseUserFilter, `userName eq "a")`},
		{"unclosed bracket", parseUserFilter, `emails[type eq "work"`},
		{"nested brackets", parseUserFilter, `emails[type[value eq "x"]]`},
		{"element-wise on a free-form attribute", parseUserFilter, `phoneNumbers[type eq "work" and value eq "555"]`},
		{"sub-attribute after a free-form value path", parseUserFilter, `phoneNumbers[type eq "work"].value eq "555"`},
		{"value path on a simple attribute", parseUserFilter, `userName[value eq "x"]`},
		{"placeholder name", parseUserFilter, `$vp0.value eq "x"`},
		{"placeholder name beside a value path", parseUserFilter, `emails[type eq "work"].value eq "x" and $vp0.value eq "y"`},
		{"invalid UTF-8", parseUserFilter, "userName eq \"\xff\""},
		{"10,000-deep nesting", parseUserFilter, strings.Repeat("(", 10000) + `userName eq "x"` + strings.Repeat(")", 10000)},
		{"deeper than the limit", parseUserFilter, strings.Repeat("(", 100) + `userName eq "x"` + strings.Repeat(")", 100)},
		{"10,000 nested nots", parseUserFilter, strings.Repeat("not (", 10000) + `userName eq "x"` + strings.Repeat(")", 10000)},
		{"100 KB filter", parseUserFilter, `userName eq "x"` + strings.Repeat(` or userName eq "x"`, 100<<10/19)},
		{"100 KB string", parseUserFilter, `userName eq "` + strings.Repeat("x", 100<<10) + `"`},
		{"members gt", parseGroupFilter, `members gt "x"`},
		{"members co", parseGroupFilter, `members.value co "x"`},
		{"members display", parseGroupFilter, `members[display eq "x"]`},
		{"members not", parseGroupFilter, `members[not (value eq "x")]`},
		{"members and", parseGroupFilter, `members[value eq "a" and value eq "b"]`},
		{"user attribute on groups", parseGroupFilter, `userName eq "x"`},
		{"extension on groups", parseGroupFilter, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`},
		{"free-form on groups", parseGroupFilter, `title pr`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.filter)
			if err == nil {
				t.Fatalf("no error; got %#v", got)
			}
			wantInvalidFilter(t, err)
			t.Log(roster.ErrorMessage(err))
		})
	}
}

// wantInvalidFilter fails the test unless err is EINVALID naming "filter".
func wantInvalidFilter(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*roster.Error); !ok || roster.ErrorCode(err) != roster.EINVALID {
		t.Fatalf("error %v (%T) is not an EINVALID *roster.Error", err, err)
	}
	fields := roster.ErrorFields(err)
	if len(fields) != 1 || fields[0].Field != "filter" || fields[0].Message == "" {
		t.Fatalf("error %v names %v, want the field filter", err, fields)
	}
}

func FuzzParseUserFilter(f *testing.F) {
	for _, seed := range []string{
		`userName eq "john@x.com"`,
		`emails[type eq "work"].value eq "a@b.c"`,
		`emails[type eq "work" and value co "@x.com"]`,
		`name.familyName sw "Sm" and not (active eq false)`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
		`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		`(title pr or userName eq "a\"b") and not (emails[type eq "home"])`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (roster.Expr, error){parseUserFilter, parseGroupFilter} {
			if _, err := parse(s); err != nil {
				wantInvalidFilter(t, err)
			}
		}
	})
}

// The fast path for attr eq "value" must mean what the parser means.
func TestSimpleEqualityMatchesTheParser(t *testing.T) {
	for _, f := range []string{
		`userName eq "Ada@Example.com"`, `externalId EQ "abc-1"`, `emails.value eq "a@b.example"`,
		`name.familyName eq "Lovelace"`, `active eq "true"`, `nosuch eq "x"`, `emails.type eq "home"`,
	} {
		fast, fastErr := parseUserFilter(f)
		slow, slowErr := parseUserFilter("(" + f + ")") // parentheses take the general parser
		if fmt.Sprint(fast) != fmt.Sprint(slow) || (fastErr == nil) != (slowErr == nil) {
			t.Errorf("%s: fast path %v, %v; parser %v, %v", f, fast, fastErr, slow, slowErr)
		}
	}
}
