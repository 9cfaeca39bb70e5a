package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// listFixture makes a tenant of 37 users with repeated family and given
// names (so sorts need their id tie-break), mixed roles and states, and
// sign-ins some of which are missing.
func listFixture(t *testing.T) (*store.UserService, string, []*roster.User) {
	t.Helper()
	db := MustOpen(t)
	users := store.NewUserService(db)
	b := MustTenant(t, db)
	family := []string{"Zhang", "adams", "Adams", "Müller", "O'Brien"}
	given := []string{"Eve", "bob", "Bob"}
	raw, err := sqlx.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for i := range 36 {
		u := MustCreateUser(t, users, b.Tenant.ID, roster.User{
			Email:      fmt.Sprintf("user%02d_%s@example.com", i, strings.ToLower(given[i%3])),
			GivenName:  given[i%3],
			FamilyName: family[i%5],
			Role:       []string{roster.RoleViewer, roster.RoleDeveloper, roster.RoleAdmin}[i%3],
			Active:     i%4 != 0,
		})
		if i%3 != 0 {
			login := time.Date(2026, 1, 1+i%7, 0, 0, 0, 0, time.UTC)
			if _, err := raw.Exec(`UPDATE users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2`, b.Tenant.ID, u.ID, login); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := walk(t, users, b.Tenant.ID, roster.UserFilter{Limit: 200})
	if len(all) != 37 {
		t.Fatalf("fixture has %d users, want 37", len(all))
	}
	return users, b.Tenant.ID, all
}

// walk follows next cursors to the end and returns every user seen.
func walk(t *testing.T, users *store.UserService, tenantID string, f roster.UserFilter) []*roster.User {
	t.Helper()
	var seen []*roster.User
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		page, err := users.FindUsers(context.Background(), tenantID, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > f.Limit {
			t.Fatalf("page of %d items, limit %d", len(page.Items), f.Limit)
		}
		seen = append(seen, page.Items...)
		if page.NextCursor == "" {
			return seen
		}
		f.Cursor = page.NextCursor
	}
}

func TestFindUsersSortsAndPagesWithoutGapsOrOverlap(t *testing.T) {
	users, tenantID, all := listFixture(t)
	lower := strings.ToLower
	login := func(u *roster.User) time.Time {
		if u.LastLoginAt == nil {
			return time.Time{}
		}
		return *u.LastLoginAt
	}
	orders := map[string]func(a, b *roster.User) int{
		"created_at": func(a, b *roster.User) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"email":      func(a, b *roster.User) int { return strings.Compare(lower(a.Email), lower(b.Email)) },
		"name": func(a, b *roster.User) int {
			if c := strings.Compare(lower(a.FamilyName), lower(b.FamilyName)); c != 0 {
				return c
			}
			return strings.Compare(lower(a.GivenName), lower(b.GivenName))
		},
		"last_login_at": func(a, b *roster.User) int { return login(a).Compare(login(b)) },
	}
	for name, cmp := range orders {
		for _, desc := range []bool{false, true} {
			sort := name
			if desc {
				sort = "-" + name
			}
			t.Run(sort, func(t *testing.T) {
				for _, limit := range []int{1, 5, 36, 37} {
					got := walk(t, users, tenantID, roster.UserFilter{Sort: sort, Limit: limit})
					want := slices.Clone(all)
					slices.SortStableFunc(want, func(a, b *roster.User) int {
						c := cmp(a, b)
						if c == 0 {
							c = strings.Compare(a.ID, b.ID)
						}
						if desc {
							c = -c
						}
						return c
					})
					if !slices.EqualFunc(ids(got), ids(want), func(a, b string) bool { return a == b }) {
						t.Fatalf("limit %d: order\n got %v\nwant %v", limit, names(got), names(want))
					}
				}
			})
		}
	}
}

func TestFindUsersFilters(t *testing.T) {
	users, tenantID, all := listFixture(t)
	count := func(keep func(*roster.User) bool) int {
		n := 0
		for _, u := range all {
			if keep(u) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name   string
		filter roster.UserFilter
		want   int
	}{
		{"start of an email's first word", roster.UserFilter{Query: "USER0"}, 10},
		{"given name, any case", roster.UserFilter{Query: "BoB"}, count(func(u *roster.User) bool { return lower(u.GivenName) == "bob" })},
		{"family name", roster.UserFilter{Query: "müller"}, count(func(u *roster.User) bool { return u.FamilyName == "Müller" })},
		{"apostrophe", roster.UserFilter{Query: "o'bri"}, count(func(u *roster.User) bool { return u.FamilyName == "O'Brien" })},
		{"the inside of a word is not the start of one", roster.UserFilter{Query: "dams"}, 0},
		{"every term must start a word", roster.UserFilter{Query: "ad bo"}, count(func(u *roster.User) bool { return lower(u.FamilyName) == "adams" && lower(u.GivenName) == "bob" })},
		{"an email domain is words", roster.UserFilter{Query: "example.com"}, 37},
		{"a word after an underscore", roster.UserFilter{Query: "_eve"}, count(func(u *roster.User) bool { return u.GivenName == "Eve" })},
		{"tsquery syntax is literal", roster.UserFilter{Query: "bob:* | !eve & (x"}, 0},
		{"backslash and quote are literal", roster.UserFilter{Query: `o\'b`}, 0},
		{"only separators match everyone", roster.UserFilter{Query: " .@_ "}, 37},
		{"a whole address, any case", roster.UserFilter{Query: "USER07_Bob@Example.com"}, 1},
		{"a mailbox at every domain", roster.UserFilter{Query: "user07_bob@"}, 1},
		{"a term with an @ starts the address", roster.UserFilter{Query: "bob@example.com"}, 0},
		{"an address and a word", roster.UserFilter{Query: "adams user0"}, count(func(u *roster.User) bool {
			return strings.HasPrefix(u.Email, "user0") && lower(u.FamilyName) == "adams"
		})},
		{"an address prefix and a word", roster.UserFilter{Query: "user1 user07_bob@"}, 0},
		{"an @ first is words", roster.UserFilter{Query: "@example.com"}, 37},
		{"LIKE syntax in an address is literal", roster.UserFilter{Query: "user0_%@"}, 0},
		{"email, any case", roster.UserFilter{Email: "USER07_BOB@EXAMPLE.COM"}, 1},
		{"email is the whole address", roster.UserFilter{Email: "user07_bob@example"}, 0},
		{"role", roster.UserFilter{Role: roster.RoleDeveloper}, count(func(u *roster.User) bool { return u.Role == roster.RoleDeveloper })},
		{"inactive", roster.UserFilter{Active: ptr(false)}, count(func(u *roster.User) bool { return !u.Active })},
		{"role and active", roster.UserFilter{Role: roster.RoleAdmin, Active: ptr(true)}, count(func(u *roster.User) bool { return u.Role == roster.RoleAdmin && u.Active })},
		{"no match", roster.UserFilter{Query: "nobody-by-this-name"}, 0},
		{"never signed in", roster.UserFilter{NeverSignedIn: true}, count(func(u *roster.User) bool { return u.LastLoginAt == nil })},
		{"last signed in before", roster.UserFilter{LastLoginBefore: ptr(time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC))},
			count(func(u *roster.User) bool {
				return u.LastLoginAt != nil && u.LastLoginAt.Before(time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC))
			})},
		{"inactive admins", roster.UserFilter{Role: roster.RoleAdmin, LastLoginBefore: ptr(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))},
			count(func(u *roster.User) bool {
				return u.Role == roster.RoleAdmin && u.LastLoginAt != nil && u.LastLoginAt.Before(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))
			})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Limit = 3
			got := walk(t, users, tenantID, tc.filter)
			if len(got) != tc.want {
				t.Fatalf("%d users, want %d: %v", len(got), tc.want, names(got))
			}
		})
	}
}

func TestFindUsersRejectsBadParameters(t *testing.T) {
	users, tenantID, _ := listFixture(t)
	page, err := users.FindUsers(context.Background(), tenantID, roster.UserFilter{Sort: "email", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	forged := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	for _, tc := range []struct {
		name   string
		filter roster.UserFilter
		field  string
	}{
		{"unknown sort", roster.UserFilter{Sort: "password"}, "sort"},
		{"double dash", roster.UserFilter{Sort: "--email"}, "sort"},
		{"limit too big", roster.UserFilter{Limit: 201}, "limit"},
		{"negative limit", roster.UserFilter{Limit: -1}, "limit"},
		{"unknown role", roster.UserFilter{Role: "root"}, "role"},
		{"NUL in q", roster.UserFilter{Query: "a\x00b"}, "q"},
		{"NUL in email", roster.UserFilter{Email: "a\x00b@example.com"}, "email"},
		{"email too long", roster.UserFilter{Email: strings.Repeat("a", 250) + "@example.com"}, "email"},
		{"garbage cursor", roster.UserFilter{Cursor: "!!!"}, "cursor"},
		{"cursor of another sort", roster.UserFilter{Cursor: page.NextCursor, Sort: "created_at"}, "cursor"},
		{"forged timestamp", roster.UserFilter{Cursor: forged(`{"s":"created_at","k":["yesterday","00000000-0000-0000-0000-000000000000"]}`)}, "cursor"},
		{"forged id", roster.UserFilter{Cursor: forged(`{"s":"created_at","k":["2026-01-01T00:00:00Z","1; DROP TABLE users"]}`)}, "cursor"},
		{"forged NUL", roster.UserFilter{Sort: "email", Cursor: forged(`{"s":"email","k":["a\u0000","00000000-0000-0000-0000-000000000000"]}`)}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := users.FindUsers(context.Background(), tenantID, tc.filter)
			wantCode(t, err, roster.EINVALID)
			wantField(t, err, tc.field)
		})
	}
}

func ids(us []*roster.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func names(us []*roster.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.FamilyName + "/" + u.GivenName + "/" + u.Email
	}
	return out
}

func lower(s string) string { return strings.ToLower(s) }
