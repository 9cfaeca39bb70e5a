package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestSearchRareAndCommonWords pages through searches on a tenant larger
// than the sample FindUsers reads first, so that a rare word takes the
// matches-first plan and a common one the sort's index, and both give
// every match once, in order.
func TestSearchRareAndCommonWords(t *testing.T) {
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)
	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// 1,500 users: every third a Carter, three Zeds late, one
	// Featherstonehaugh, whose name is longer than the prefixes kept.
	_, err = raw.Exec(`INSERT INTO users (tenant_id, id, user_name, email, given_name, family_name, role, created_at, updated_at)
		SELECT $1, gen_random_uuid(), 'u' || n, 'u' || n || '@example.com',
		       CASE WHEN n IN (1100, 1300, 1499) THEN 'Zed' ELSE 'Ann' END,
		       CASE WHEN n = 1000 THEN 'Featherstonehaugh' WHEN n % 3 = 0 THEN 'Carter' ELSE 'Baker' END, 'viewer',
		       now() + n * interval '1 second', now()
		FROM generate_series(1, 1500) AS n`, b.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		sort string
		want int
	}{
		{"zed", "", 3},
		{"ZE", "-email", 3},
		{"zed carter", "name", 0},
		{"u13", "", 111}, // u13, u130-u139, u1300-u1399
		{"carter", "", 500},
		{"car", "-created_at", 500},
		{"feathersto", "", 1},        // the longest prefix kept as a lexeme
		{"featherston", "", 1},       // longer: a prefix of the whole word
		{"featherstonehaugh", "", 1}, // the whole word
		{"featherstonehaughs", "", 0},
		{"eathers", "", 0},
		{"nobody", "email", 0},
	} {
		t.Run(tc.q+" "+tc.sort, func(t *testing.T) {
			got := walk(t, users, b.Tenant.ID, roster.UserFilter{Query: tc.q, Sort: tc.sort, Limit: 40})
			if len(got) != tc.want {
				t.Fatalf("%d users, want %d", len(got), tc.want)
			}
			all := walk(t, users, b.Tenant.ID, roster.UserFilter{Sort: tc.sort, Limit: 200})
			order := map[string]int{}
			for i, u := range all {
				order[u.ID] = i
			}
			if !slices.IsSortedFunc(got, func(a, b *roster.User) int { return order[a.ID] - order[b.ID] }) {
				t.Fatalf("matches are not in the list's %q order", tc.sort)
			}
			n, err := users.CountUsers(context.Background(), b.Tenant.ID, roster.UserFilter{Query: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			if want := (roster.UserCount{Count: int64(min(tc.want, roster.UserCountCap))}); n != want {
				t.Fatalf("count %+v, want %+v", n, want)
			}
		})
	}
}
