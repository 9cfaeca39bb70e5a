package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func cmpUser(attr, op string, value any) roster.Compare {
	return roster.Compare{Attr: attr, Op: op, Value: value}
}

func cmpExtra(op string, value any, path ...string) roster.Compare {
	return roster.Compare{Attr: roster.AttrExtra, Path: path, Op: op, Value: value}
}

// filterFixture is a tenant of four users (and its admin) with free-form
// attributes, created a month apart, and three groups.
type filterFixture struct {
	db     *sqlx.DB
	tenant string
	names  map[string]string // user or group id -> short name
	ids    map[string]string // short name -> id
	months []time.Time       // creation times of alice, bob, elodie, pct
}

func newFilterFixture(t *testing.T) *filterFixture {
	t.Helper()
	db := MustOpen(t)
	clock := time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return clock }
	b := MustTenant(t, db)
	fx := &filterFixture{tenant: b.Tenant.ID, names: map[string]string{}, ids: map[string]string{}}
	fx.add("admin", b.Admin.ID)

	users := store.NewUserService(db)
	ext := func(s string) *string { return &s }
	for i, u := range []struct {
		name  string
		user  roster.User
		attrs string
	}{
		{"alice", roster.User{UserName: "alice@example.com", Email: "alice@example.com", GivenName: "Alice", FamilyName: "Smith",
			DisplayName: "Alice Smith", ExternalID: ext("ext-Alice"), Active: true}, `{
				"title": "Tour Guide",
				"name": {"middleName": "Q"},
				"phoneNumbers": [{"value": "555-0001", "type": "work"}, {"value": "555-0002", "type": "mobile", "primary": true}],
				"` + enterpriseURN + `": {"employeeNumber": "701984", "department": "Sales", "manager": {"value": "M-1"}}}`},
		{"bob", roster.User{UserName: "Bob_Jones", Email: "BOB@Example.com", GivenName: "Bob", FamilyName: "Jones"}, `{
				"title": "Engineer",
				"phoneNumbers": [{"value": "555-0003", "type": "home"}],
				"` + enterpriseURN + `": {"employeeNumber": 42, "department": "R&D"},
				"urn:example:custom:2.0:User": {"emails": [{"value": "Bob@Home.example"}]}}`},
		{"elodie", roster.User{UserName: "ÉLODIE", Email: "elodie@exemple.fr", GivenName: "Élodie", FamilyName: "Smithson",
			ExternalID: ext("EXT-alice"), Active: true}, `{"title": "", "phoneNumbers": {"value": "555-0004"}, "tags": ["Blue", "green"]}`},
		{"pct", roster.User{UserName: "100%_sure", Email: "pct@example.com", FamilyName: "O'Brien", Active: true}, `{}`},
	} {
		clock = time.Date(2024, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC)
		fx.months = append(fx.months, clock)
		u.user.Attributes = json.RawMessage(u.attrs)
		created := MustCreateUser(t, users, fx.tenant, u.user)
		fx.add(u.name, created.ID)
	}

	groups := store.NewGroupService(db)
	for _, g := range []struct {
		name, displayName string
		externalID        *string
		members           []string
	}{
		{"sales", "Sales", nil, []string{"alice", "bob"}},
		{"eng", "Engineering", ext("G-eng"), []string{"bob"}},
		{"emea", "sales-EMEA", ext("X1"), nil},
	} {
		in := &roster.Group{DisplayName: g.displayName, ExternalID: g.externalID}
		for _, m := range g.members {
			in.Members = append(in.Members, roster.GroupMember{UserID: fx.ids[m]})
		}
		created, err := groups.CreateGroup(context.Background(), fx.tenant, testActor, in)
		if err != nil {
			t.Fatalf("create group %s: %v", g.displayName, err)
		}
		fx.add(g.name, created.ID)
	}

	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	fx.db = raw
	return fx
}

func (fx *filterFixture) add(name, id string) {
	fx.names[id], fx.ids[name] = name, id
}

// match runs the condition on the table and returns the short names of the
// rows it selects, sorted.
func (fx *filterFixture) match(t *testing.T, table string, e roster.Expr) ([]string, error) {
	t.Helper()
	whereSQL := store.UserWhereSQL
	if table == "groups" {
		whereSQL = store.GroupWhereSQL
	}
	cond, args, err := whereSQL(e, fx.tenant)
	if err != nil {
		return nil, err
	}
	var ids []string
	query := `SELECT id FROM ` + table + ` WHERE tenant_id = $1 AND (` + cond + `)`
	if err := fx.db.Select(&ids, query, args...); err != nil {
		t.Fatalf("%s\nargs %v: %v", query, args, err)
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = fx.names[id]
	}
	slices.Sort(names)
	return names, nil
}

func TestUserWhere(t *testing.T) {
	fx := newFilterFixture(t)
	all := []string{"admin", "alice", "bob", "elodie", "pct"}
	except := func(names ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(n string) bool { return slices.Contains(names, n) })
	}
	tests := []struct {
		name string
		e    roster.Expr
		want []string
	}{
		{"nil is everything", nil, all},
		{"userName eq, case-insensitive", cmpUser(roster.AttrUserName, roster.OpEq, "ALICE@example.com"), []string{"alice"}},
		{"userName eq, non-ASCII", cmpUser(roster.AttrUserName, roster.OpEq, "élodie"), []string{"elodie"}},
		{"userName sw escapes %", cmpUser(roster.AttrUserName, roster.OpSw, "100%"), []string{"pct"}},
		{"userName sw % is no wildcard", cmpUser(roster.AttrUserName, roster.OpSw, "%"), nil},
		{"userName co escapes _", cmpUser(roster.AttrUserName, roster.OpCo, "_"), []string{"bob", "pct"}},
		{"userName ew", cmpUser(roster.AttrUserName, roster.OpEw, "@EXAMPLE.COM"), []string{"admin", "alice"}},
		{"userName gt", cmpUser(roster.AttrUserName, roster.OpGt, "B"), []string{"bob", "elodie"}},
		{"email eq", cmpUser(roster.AttrEmail, roster.OpEq, "bob@example.com"), []string{"bob"}},
		{"email co", cmpUser(roster.AttrEmail, roster.OpCo, "EXEMPLE"), []string{"elodie"}},
		{"externalId eq is case-exact", cmpUser(roster.AttrExternalID, roster.OpEq, "ext-Alice"), []string{"alice"}},
		{"externalId eq other case", cmpUser(roster.AttrExternalID, roster.OpEq, "EXT-ALICE"), nil},
		{"externalId sw is case-exact", cmpUser(roster.AttrExternalID, roster.OpSw, "EXT"), []string{"elodie"}},
		{"externalId ne includes absent", cmpUser(roster.AttrExternalID, roster.OpNe, "ext-Alice"), except("alice")},
		{"externalId pr", cmpUser(roster.AttrExternalID, roster.OpPr, nil), []string{"alice", "elodie"}},
		{"not externalId eq includes absent", roster.Not{X: cmpUser(roster.AttrExternalID, roster.OpEq, "ext-Alice")}, except("alice")},
		{"not externalId pr", roster.Not{X: cmpUser(roster.AttrExternalID, roster.OpPr, nil)}, []string{"admin", "bob", "pct"}},
		{"not not", roster.Not{X: roster.Not{X: cmpUser(roster.AttrExternalID, roster.OpEq, "X")}}, nil},
		{"givenName eq", cmpUser(roster.AttrGivenName, roster.OpEq, "BOB"), []string{"bob"}},
		{"familyName sw", cmpUser(roster.AttrFamilyName, roster.OpSw, "smith"), []string{"alice", "elodie"}},
		{"familyName co quote", cmpUser(roster.AttrFamilyName, roster.OpCo, "'"), []string{"pct"}},
		{"displayName pr", cmpUser(roster.AttrDisplayName, roster.OpPr, nil), []string{"alice"}},
		{"displayName ge", cmpUser(roster.AttrDisplayName, roster.OpGe, "ALICE"), []string{"alice"}},
		{"active eq false", cmpUser(roster.AttrActive, roster.OpEq, false), []string{"bob"}},
		{"active ne true", cmpUser(roster.AttrActive, roster.OpNe, true), []string{"bob"}},
		{"not active eq false", roster.Not{X: cmpUser(roster.AttrActive, roster.OpEq, false)}, except("bob")},
		{"meta.created gt", cmpUser(roster.AttrCreatedAt, roster.OpGt, fx.months[1]), []string{"elodie", "pct"}},
		{"meta.created ge", cmpUser(roster.AttrCreatedAt, roster.OpGe, fx.months[1]), []string{"bob", "elodie", "pct"}},
		{"meta.created eq", cmpUser(roster.AttrCreatedAt, roster.OpEq, fx.months[1]), []string{"bob"}},
		{"meta.created lt", cmpUser(roster.AttrCreatedAt, roster.OpLt, fx.months[0]), []string{"admin"}},
		{"meta.lastModified le", cmpUser(roster.AttrUpdatedAt, roster.OpLe, fx.months[0]), []string{"admin", "alice"}},
		{"id eq", cmpUser(roster.AttrID, roster.OpEq, fx.ids["alice"]), []string{"alice"}},
		{"id eq upper case", cmpUser(roster.AttrID, roster.OpEq, strings.ToUpper(fx.ids["alice"])), []string{"alice"}},
		{"id eq not a UUID", cmpUser(roster.AttrID, roster.OpEq, "alice"), nil},
		{"id eq nil UUID", cmpUser(roster.AttrID, roster.OpEq, "00000000-0000-0000-0000-000000000000"), nil},
		{"id ne not a UUID", cmpUser(roster.AttrID, roster.OpNe, "alice"), all},
		{"id ne", cmpUser(roster.AttrID, roster.OpNe, fx.ids["alice"]), except("alice")},
		{"id sw", cmpUser(roster.AttrID, roster.OpSw, strings.ToUpper(fx.ids["bob"][:35])), []string{"bob"}},
		{"id pr", cmpUser(roster.AttrID, roster.OpPr, nil), all},
		{"title eq", cmpExtra(roster.OpEq, "TOUR guide", "title"), []string{"alice"}},
		{"title pr skips empty", cmpExtra(roster.OpPr, nil, "title"), []string{"alice", "bob"}},
		{"title co", cmpExtra(roster.OpCo, "GIN", "title"), []string{"bob"}},
		{"title ne includes absent", cmpExtra(roster.OpNe, "engineer", "title"), except("bob")},
		{"not title eq", roster.Not{X: cmpExtra(roster.OpEq, "engineer", "title")}, except("bob")},
		{"title gt", cmpExtra(roster.OpGt, "s", "title"), []string{"alice"}},
		{"name.middleName", cmpExtra(roster.OpEq, "q", "name", "middleName"), []string{"alice"}},
		{"phoneNumbers.value, any element", cmpExtra(roster.OpEq, "555-0002", "phoneNumbers", "value"), []string{"alice"}},
		{"phoneNumbers.value, not an array", cmpExtra(roster.OpEq, "555-0004", "phoneNumbers", "value"), []string{"elodie"}},
		{"phoneNumbers.type", cmpExtra(roster.OpEq, "HOME", "phoneNumbers", "type"), []string{"bob"}},
		{"phoneNumbers.value sw", cmpExtra(roster.OpSw, "555-000", "phoneNumbers", "value"), []string{"alice", "bob", "elodie"}},
		{"phoneNumbers.value pr", cmpExtra(roster.OpPr, nil, "phoneNumbers", "value"), []string{"alice", "bob", "elodie"}},
		{"phoneNumbers.primary eq true", cmpExtra(roster.OpEq, true, "phoneNumbers", "primary"), []string{"alice"}},
		{"phoneNumbers.primary ne true", cmpExtra(roster.OpNe, true, "phoneNumbers", "primary"), except("alice")},
		{"employeeNumber eq", cmpExtra(roster.OpEq, "701984", enterpriseURN, "employeeNumber"), []string{"alice"}},
		{"employeeNumber stored as a number", cmpExtra(roster.OpEq, "42", enterpriseURN, "employeeNumber"), []string{"bob"}},
		{"employeeNumber eq number", cmpExtra(roster.OpEq, 42.0, enterpriseURN, "employeeNumber"), []string{"bob"}},
		{"employeeNumber gt number", cmpExtra(roster.OpGt, 10.0, enterpriseURN, "employeeNumber"), []string{"bob"}},
		{"department with &", cmpExtra(roster.OpEq, "r&d", enterpriseURN, "department"), []string{"bob"}},
		{"department ne", cmpExtra(roster.OpNe, "SALES", enterpriseURN, "department"), except("alice")},
		{"manager.value", cmpExtra(roster.OpEq, "m-1", enterpriseURN, "manager", "value"), []string{"alice"}},
		{"array in an extension", cmpExtra(roster.OpEq, "bob@home.example", "urn:example:custom:2.0:User", "emails", "value"), []string{"bob"}},
		{"array at the end", cmpExtra(roster.OpEq, "GREEN", "tags"), []string{"elodie"}},
		{"array at the end ne", cmpExtra(roster.OpNe, "green", "tags"), except("elodie")},
		{"array at the end pr", cmpExtra(roster.OpPr, nil, "tags"), []string{"elodie"}},
		{"odd key", cmpExtra(roster.OpPr, nil, `we"ird\key`, "$ref"), nil},
		{"and", roster.And{Left: cmpUser(roster.AttrActive, roster.OpEq, true), Right: cmpUser(roster.AttrFamilyName, roster.OpSw, "Smith")},
			[]string{"alice", "elodie"}},
		{"or of and", roster.Or{
			Left:  cmpUser(roster.AttrUserName, roster.OpEq, "alice@example.com"),
			Right: roster.And{Left: cmpUser(roster.AttrActive, roster.OpEq, false), Right: cmpUser(roster.AttrEmail, roster.OpEw, "example.com")}},
			[]string{"alice", "bob"}},
		{"and of or", roster.And{
			Left:  roster.Or{Left: cmpUser(roster.AttrGivenName, roster.OpEq, "alice"), Right: cmpUser(roster.AttrGivenName, roster.OpEq, "bob")},
			Right: cmpUser(roster.AttrActive, roster.OpEq, true)},
			[]string{"alice"}},
		{"pointers", &roster.Or{Left: &roster.Not{X: &roster.Compare{Attr: roster.AttrActive, Op: roster.OpEq, Value: true}},
			Right: cmpUser(roster.AttrUserName, roster.OpEq, "100%_sure")}, []string{"bob", "pct"}},
		{"long chain", longChain(500), []string{"alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fx.match(t, "users", tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// longChain is a and b and c... as a parser builds it, leaning left.
func longChain(n int) roster.Expr {
	var e roster.Expr = cmpUser(roster.AttrUserName, roster.OpEq, "alice@example.com")
	for range n {
		e = roster.And{Left: e, Right: cmpUser(roster.AttrActive, roster.OpEq, true)}
	}
	return e
}

func TestGroupWhere(t *testing.T) {
	fx := newFilterFixture(t)
	tests := []struct {
		name string
		e    roster.Expr
		want []string
	}{
		{"nil is everything", nil, []string{"emea", "eng", "sales"}},
		{"displayName eq", cmpUser(roster.AttrDisplayName, roster.OpEq, "SALES"), []string{"sales"}},
		{"displayName sw", cmpUser(roster.AttrDisplayName, roster.OpSw, "sales"), []string{"emea", "sales"}},
		{"externalId eq", cmpUser(roster.AttrExternalID, roster.OpEq, "X1"), []string{"emea"}},
		{"externalId eq other case", cmpUser(roster.AttrExternalID, roster.OpEq, "x1"), nil},
		{"externalId pr", cmpUser(roster.AttrExternalID, roster.OpPr, nil), []string{"emea", "eng"}},
		{"id eq", cmpUser(roster.AttrID, roster.OpEq, fx.ids["eng"]), []string{"eng"}},
		{"meta.created ge", cmpUser(roster.AttrCreatedAt, roster.OpGe, fx.months[0]), []string{"emea", "eng", "sales"}},
		{"member", cmpUser(roster.AttrMember, roster.OpEq, fx.ids["alice"]), []string{"sales"}},
		{"member of two", cmpUser(roster.AttrMember, roster.OpEq, fx.ids["bob"]), []string{"eng", "sales"}},
		{"member not a UUID", cmpUser(roster.AttrMember, roster.OpEq, "bob"), nil},
		{"not member", roster.Not{X: cmpUser(roster.AttrMember, roster.OpEq, fx.ids["bob"])}, []string{"emea"}},
		{"member or member", roster.Or{Left: cmpUser(roster.AttrMember, roster.OpEq, fx.ids["alice"]),
			Right: cmpUser(roster.AttrMember, roster.OpEq, fx.ids["bob"])}, []string{"eng", "sales"}},
		{"displayName and member", roster.And{Left: cmpUser(roster.AttrDisplayName, roster.OpCo, "e"),
			Right: cmpUser(roster.AttrMember, roster.OpEq, fx.ids["bob"])}, []string{"eng", "sales"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fx.match(t, "groups", tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWhereErrors(t *testing.T) {
	tests := []struct {
		name     string
		whereSQL func(roster.Expr, ...any) (string, []any, error)
		e        roster.Expr
	}{
		{"boolean with a string", store.UserWhereSQL, cmpUser(roster.AttrActive, roster.OpEq, "yes")},
		{"boolean ordered", store.UserWhereSQL, cmpUser(roster.AttrActive, roster.OpGt, true)},
		{"timestamp with a string", store.UserWhereSQL, cmpUser(roster.AttrCreatedAt, roster.OpGt, "2020-01-01")},
		{"timestamp with co", store.UserWhereSQL, cmpUser(roster.AttrCreatedAt, roster.OpCo, time.Now())},
		{"text with a number", store.UserWhereSQL, cmpUser(roster.AttrUserName, roster.OpEq, 5.0)},
		{"text with a time", store.UserWhereSQL, cmpUser(roster.AttrEmail, roster.OpEq, time.Now())},
		{"id with a number", store.UserWhereSQL, cmpUser(roster.AttrID, roster.OpEq, 5.0)},
		{"NUL", store.UserWhereSQL, cmpUser(roster.AttrUserName, roster.OpEq, "a\x00b")},
		{"invalid UTF-8", store.UserWhereSQL, cmpUser(roster.AttrUserName, roster.OpCo, "\xff")},
		{"NUL in a path", store.UserWhereSQL, cmpExtra(roster.OpPr, nil, "a\x00")},
		{"unknown attribute", store.UserWhereSQL, cmpUser("shoe_size", roster.OpEq, "44")},
		{"unknown operator", store.UserWhereSQL, cmpUser(roster.AttrUserName, "like", "a")},
		{"no operator", store.UserWhereSQL, cmpUser(roster.AttrUserName, "", "a")},
		{"member of a user", store.UserWhereSQL, cmpUser(roster.AttrMember, roster.OpEq, "x")},
		{"extra without path", store.UserWhereSQL, cmpExtra(roster.OpEq, "x")},
		{"extra with a time", store.UserWhereSQL, cmpExtra(roster.OpEq, time.Now(), "title")},
		{"extra boolean ordered", store.UserWhereSQL, cmpExtra(roster.OpGt, true, "active")},
		{"extra number co", store.UserWhereSQL, cmpExtra(roster.OpCo, 4.0, "n")},
		{"error inside not", store.UserWhereSQL, roster.Not{X: cmpUser(roster.AttrActive, roster.OpEq, "yes")}},
		{"error inside or", store.UserWhereSQL, roster.Or{Left: cmpUser(roster.AttrActive, roster.OpEq, true), Right: cmpUser(roster.AttrActive, roster.OpEq, 1.0)}},
		{"extra on groups", store.GroupWhereSQL, cmpExtra(roster.OpEq, "x", "title")},
		{"user attribute on groups", store.GroupWhereSQL, cmpUser(roster.AttrUserName, roster.OpEq, "x")},
		{"member gt", store.GroupWhereSQL, cmpUser(roster.AttrMember, roster.OpGt, "x")},
		{"member with a number", store.GroupWhereSQL, cmpUser(roster.AttrMember, roster.OpEq, 1.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, _, err := tt.whereSQL(tt.e, "tenant")
			if err == nil {
				t.Fatalf("no error; got %s", sql)
			}
			wantCode(t, err, roster.EINVALID)
			wantField(t, err, "filter")
		})
	}
}

// TestWhereParameters checks that values reach the database only as
// parameters, numbered after the caller's.
func TestWhereParameters(t *testing.T) {
	sql, args, err := store.UserWhereSQL(roster.Or{
		Left:  cmpUser(roster.AttrUserName, roster.OpEq, "Robert'); DROP TABLE users; --"),
		Right: cmpExtra(roster.OpCo, "x", "title"),
	}, "tenant")
	if err != nil {
		t.Fatal(err)
	}
	if want := `(lower(user_name) = $2 OR CASE WHEN jsonb_typeof(attributes #> $3::text[]) = 'array'` +
		` THEN EXISTS (SELECT 1 FROM jsonb_path_query(attributes, $4::jsonpath) AS v WHERE lower(v #>> '{}') LIKE $5)` +
		` ELSE lower((attributes #> $3::text[]) #>> '{}') LIKE $5 END)`; sql != want {
		t.Errorf("sql = %s\nwant  %s", sql, want)
	}
	want := []any{"tenant", "robert'); drop table users; --", pq.StringArray{"title"}, `$."title"[*]`, "%x%"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("args = %q, want %q", args, want)
	}
}

// TestWhereIndexes checks that the lookups identity providers make on
// every sync are index scans, on a tenant large enough for the planner to
// prefer them (below some 10,000 users a substring search is cheaper as a
// sequential scan).
func TestWhereIndexes(t *testing.T) {
	db := MustOpen(t)
	tenant := MustTenant(t, db).Tenant.ID
	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO users (tenant_id, id, user_name, email, external_id, role, created_at, updated_at, attributes)
		SELECT $1, gen_random_uuid(), 'user' || i, 'user' || i || '@example.com', 'ext-' || i, 'viewer', now(), now(),
			jsonb_build_object('title', 'title ' || i)
		FROM generate_series(1, 20000) AS i`, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO groups (tenant_id, id, display_name, external_id, created_at, updated_at)
		SELECT $1, gen_random_uuid(), 'Group ' || i, 'gext-' || i, now(), now() FROM generate_series(1, 5000) AS i`, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`ANALYZE users; ANALYZE groups`); err != nil {
		t.Fatal(err)
	}
	// users_email_sort_idx (tenant_id, lower(email), id) serves an email
	// lookup; users_email_key, partial since addresses may be shared
	// (migration 0014), serves none that does not name email_unique.
	tests := []struct {
		name, table string
		e           roster.Expr
		indexes     []string
	}{
		{"userName eq", "users", cmpUser(roster.AttrUserName, roster.OpEq, "USER4242"), []string{"users_user_name_key"}},
		{"externalId eq", "users", cmpUser(roster.AttrExternalID, roster.OpEq, "ext-4242"), []string{"users_external_id_idx"}},
		{"emails.value eq", "users", cmpUser(roster.AttrEmail, roster.OpEq, "User4242@Example.com"),
			[]string{"users_email_sort_idx"}},
		{"emails.value eq and not active eq false", "users", roster.And{
			Left:  cmpUser(roster.AttrEmail, roster.OpEq, "user4242@example.com"),
			Right: roster.Not{X: cmpUser(roster.AttrActive, roster.OpEq, false)}},
			[]string{"users_email_sort_idx"}},
		{"id eq", "users", cmpUser(roster.AttrID, roster.OpEq, "2819c223-7f76-453a-919d-413861904646"), []string{"users_pkey"}},
		{"group displayName eq", "groups", cmpUser(roster.AttrDisplayName, roster.OpEq, "group 4242"), []string{"groups_display_name_key"}},
		{"group externalId eq", "groups", cmpUser(roster.AttrExternalID, roster.OpEq, "gext-4242"), []string{"groups_external_id_idx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t, raw, tt.table, tt.e, tenant)
			if !slices.ContainsFunc(tt.indexes, func(index string) bool { return strings.Contains(plan, " using "+index+" ") }) {
				t.Errorf("plan does not use %s:\n%s", strings.Join(tt.indexes, " or "), plan)
			}
		})
	}

	t.Run("userName co", func(t *testing.T) {
		plan := explain(t, raw, "users", cmpUser(roster.AttrUserName, roster.OpCo, "ser4242"), tenant)
		if !strings.Contains(plan, "users_search_idx") {
			t.Errorf("plan does not use users_search_idx:\n%s", plan)
		}
	})
}

// explain returns the plan of selecting the rows of table that e selects.
func explain(t *testing.T, db *sqlx.DB, table string, e roster.Expr, tenant string) string {
	t.Helper()
	whereSQL := store.UserWhereSQL
	if table == "groups" {
		whereSQL = store.GroupWhereSQL
	}
	cond, args, err := whereSQL(e, tenant)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := db.Select(&plan, `EXPLAIN SELECT id FROM `+table+` WHERE tenant_id = $1 AND (`+cond+`)`, args...); err != nil {
		t.Fatal(err)
	}
	return cond + "\n" + strings.Join(plan, "\n")
}
