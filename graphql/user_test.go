package graphql_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"
)

type userNode struct {
	ID          string  `json:"id"`
	Email       string  `json:"email"`
	UserName    string  `json:"userName"`
	GivenName   string  `json:"givenName"`
	FamilyName  string  `json:"familyName"`
	DisplayName string  `json:"displayName"`
	ExternalID  *string `json:"externalId"`
	Role        string  `json:"role"`
	Active      bool    `json:"active"`
	CreatedAt   string  `json:"createdAt"`
	UpdatedAt   string  `json:"updatedAt"`
	LastLoginAt *string `json:"lastLoginAt"`
}

const userFields = `id email userName givenName familyName displayName externalId role active createdAt updatedAt lastLoginAt`

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var created struct {
		CreateUser struct{ User userNode } `json:"createUser"`
	}
	e.query(e.A.Admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { user { `+userFields+` } } }`, &created,
		"in", map[string]any{"email": "ada@example.com", "givenName": "Ada", "familyName": "Lovelace", "externalId": "x-1"})
	u := created.CreateUser.User
	if u.ID == "" || u.Role != "viewer" || !u.Active || u.UserName != "ada@example.com" || u.ExternalID == nil || *u.ExternalID != "x-1" {
		t.Fatalf("created %+v", u)
	}

	var got struct{ User userNode }
	e.query(e.A.Viewer, `query($id: ID!) { user(id: $id) { `+userFields+` } }`, &got, "id", u.ID)
	if !reflect.DeepEqual(got.User, u) {
		t.Fatalf("read %+v, want %+v", got.User, u)
	}

	var updated struct {
		UpdateUser struct{ User userNode } `json:"updateUser"`
	}
	e.query(e.A.Admin, `mutation($id: ID!) { updateUser(id: $id, input: {role: "developer", externalId: null, displayName: null, givenName: "Augusta"}) { user { `+userFields+` } } }`,
		&updated, "id", u.ID)
	v := updated.UpdateUser.User
	if v.Role != "developer" || v.ExternalID != nil || v.GivenName != "Augusta" || v.FamilyName != "Lovelace" {
		t.Fatalf("updated %+v", v)
	}

	var count struct {
		UsersCount struct{ Count int } `json:"usersCount"`
	}
	e.query(e.A.Viewer, `{ usersCount(filter: {role: "developer"}) { count } }`, &count)
	if count.UsersCount.Count != 1 {
		t.Fatalf("developers: %d", count.UsersCount.Count)
	}

	var deleted struct {
		DeleteUser struct {
			DeletedUserID string `json:"deletedUserId"`
		} `json:"deleteUser"`
	}
	e.query(e.A.Admin, `mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`, &deleted, "id", u.ID)
	if deleted.DeleteUser.DeletedUserID != u.ID {
		t.Fatalf("deleted %+v", deleted)
	}
	e.wantCode(e.A.Admin, "not_found", "", `query($id: ID!) { user(id: $id) { id } }`, "id", u.ID)
}

func TestUserValidationNamesFields(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	err := e.wantCode(e.A.Admin, "invalid", "email", `mutation { createUser(input: {email: "not an address", role: "Root!"}) { user { id } } }`)
	if !namesField(err, "role") {
		t.Fatalf("fields %v lack role", err.Extensions.Fields)
	}
	if len(err.Path) != 1 || err.Path[0] != "createUser" {
		t.Fatalf("path %v", err.Path)
	}
	id := e.createUser(e.A.Admin, "grace@example.com")
	e.wantCode(e.A.Admin, "invalid", "userName", `mutation($id: ID!) { updateUser(id: $id, input: {userName: null}) { user { id } } }`, "id", id)
	e.wantCode(e.A.Admin, "conflict", "", `mutation { createUser(input: {email: "grace@example.com"}) { user { id } } }`)
	e.wantCode(e.A.Admin, "invalid", "password", `mutation { createUser(input: {email: "short@example.com", password: "x"}) { user { id } } }`)
}

func TestPermissionsPerRole(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	read := `{ users(first: 1) { edges { node { id } } } }`
	write := `mutation { createUser(input: {email: "perm@example.com"}) { user { id } } }`
	audit := `{ auditEvents(first: 1) { edges { node { id } } } }`
	for _, tok := range []string{e.A.Viewer, e.A.Developer, e.A.Admin} {
		e.query(tok, read, nil)
	}
	for _, tok := range []string{e.A.Viewer, e.A.Developer, e.A.SCIM} {
		e.wantCode(tok, "forbidden", "", write)
		e.wantCode(tok, "forbidden", "", audit)
	}
	e.wantCode(e.A.SCIM, "forbidden", "", read)
	enrolOnly := e.token(e.A.ID, "admin", []string{"mfa:enroll"})
	e.wantCode(enrolOnly, "forbidden", "", read)
	e.query(e.A.Admin, audit, nil)
	e.query(e.A.Admin, write, nil)
	var perms struct{ Permissions []string }
	e.query(e.A.Viewer, `{ permissions }`, &perms)
	if !slices.Contains(perms.Permissions, "users:read") || slices.Contains(perms.Permissions, "users:write") {
		t.Fatalf("a viewer's permissions: %v", perms.Permissions)
	}
}

// TestExternalJWTs: an identity provider's JWT is a credential as it is
// for REST, with its roles' permissions and its tenant.
func TestExternalJWTs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	viewer := e.idp.Sign(t, e.A.ID, []string{"viewer"}, nil)
	var count struct {
		UsersCount struct{ Count int } `json:"usersCount"`
	}
	e.query(viewer, `{ usersCount { count } }`, &count)
	if count.UsersCount.Count != 1 {
		t.Fatalf("tenant A's users: %d", count.UsersCount.Count)
	}
	e.wantCode(viewer, "forbidden", "", `mutation { createUser(input: {email: "jwt@example.com"}) { user { id } } }`)
	e.wantCode(viewer, "not_found", "", `query($id: ID!) { user(id: $id) { id } }`, "id", e.B.AdminID)
	admin := e.idp.Sign(t, e.A.ID, []string{"admin"}, nil)
	e.query(admin, `mutation { createUser(input: {email: "jwt@example.com"}) { user { id } } }`, nil)
	expired := e.idp.Sign(t, e.A.ID, []string{"admin"}, func(b *jwt.Builder) { b.Expiration(time.Now().Add(-time.Minute)) })
	if w := e.httpDo("POST", "/graphql", expired, "application/json", []byte(`{"query":"{ me { id } }"}`)); w.Code != http.StatusUnauthorized {
		t.Fatalf("expired JWT: %d %s", w.Code, w.Body)
	}
}

func TestNoCredentialIs401(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	body := []byte(`{"query":"{ me { id } }"}`)
	if w := e.httpDo("POST", "/graphql", "", "application/json", body); w.Code != http.StatusUnauthorized {
		t.Fatalf("no credential: %d %s", w.Code, w.Body)
	}
	if w := e.httpDo("POST", "/graphql", "rst_not-a-token", "application/json", body); w.Code != http.StatusUnauthorized {
		t.Fatalf("bad credential: %d %s", w.Code, w.Body)
	}
	if w := e.httpDo("GET", "/graphql?query=%7B__typename%7D", "", "", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("GET without credential: %d %s", w.Code, w.Body)
	}
}

// TestUserVersionsAndInactivity: expectedVersion refuses a change to a
// user who changed since it was read, as REST's If-Match does, and the
// inactivity filters select as REST's last_login_before and
// never_signed_in.
func TestUserVersionsAndInactivity(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	signedIn, _ := e.signedInUser(uniqueEmail(t, "signed-in"))
	never := e.createUser(e.A.Admin, uniqueEmail(t, "never"))

	var read struct {
		User struct{ Version int } `json:"user"`
	}
	e.query(e.A.Admin, `query($id: ID!) { user(id: $id) { version } }`, &read, "id", never)
	v := read.User.Version
	var updated struct {
		UpdateUser struct{ User struct{ Version int } } `json:"updateUser"`
	}
	e.query(e.A.Admin, `mutation($id: ID!, $v: Int) { updateUser(id: $id, input: {givenName: "Once"}, expectedVersion: $v) { user { version } } }`,
		&updated, "id", never, "v", v)
	if updated.UpdateUser.User.Version <= v {
		t.Fatalf("version %d after a change from %d", updated.UpdateUser.User.Version, v)
	}
	e.wantCode(e.A.Admin, "precondition", "", `mutation($id: ID!, $v: Int) { updateUser(id: $id, input: {givenName: "Twice"}, expectedVersion: $v) { user { id } } }`,
		"id", never, "v", v)
	e.wantCode(e.A.Admin, "precondition", "", `mutation($id: ID!, $v: Int) { deleteUser(id: $id, expectedVersion: $v) { deletedUserId } }`,
		"id", never, "v", v)
	e.wantCode(e.A.Admin, "invalid", "expectedVersion", `mutation($id: ID!) { deleteUser(id: $id, expectedVersion: 0) { deletedUserId } }`, "id", never)

	ids := func(filter string) []string {
		var page struct {
			Users struct {
				Edges []struct{ Node struct{ ID string } }
			} `json:"users"`
		}
		e.query(e.A.Admin, `{ users(first: 200, filter: `+filter+`) { edges { node { id } } } }`, &page)
		var out []string
		for _, edge := range page.Users.Edges {
			out = append(out, edge.Node.ID)
		}
		return out
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if got := ids(`{lastLoginBefore: "` + future + `"}`); !slices.Contains(got, signedIn) || slices.Contains(got, never) {
		t.Fatalf("lastLoginBefore an hour from now: %v; want %s and not %s", got, signedIn, never)
	}
	if got := ids(`{neverSignedIn: true}`); slices.Contains(got, signedIn) || !slices.Contains(got, never) {
		t.Fatalf("neverSignedIn: %v; want %s and not %s", got, never, signedIn)
	}
	var neverUser struct{ User struct{ Email string } }
	e.query(e.A.Admin, `query($id: ID!) { user(id: $id) { email } }`, &neverUser, "id", never)
	address := neverUser.User.Email
	if got := ids(`{email: "` + strings.ToUpper(address) + `"}`); !slices.Equal(got, []string{never}) {
		t.Fatalf("email %s: %v; want only %s", address, got, never)
	}
	if got := ids(`{q: "` + address + `"}`); !slices.Equal(got, []string{never}) {
		t.Fatalf("q %s: %v; want only %s", address, got, never)
	}
	e.query(e.A.Admin, `mutation($id: ID!, $v: Int) { deleteUser(id: $id, expectedVersion: $v) { deletedUserId } }`, nil,
		"id", never, "v", updated.UpdateUser.User.Version)
}
