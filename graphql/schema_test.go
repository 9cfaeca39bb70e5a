package graphql_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rosterhq/roster/graphql"
)

// TestSchemaIsValidAndPinned loads the served SDL with gqlparser's
// validator and checks the names clients depend on.
func TestSchemaIsValidAndPinned(t *testing.T) {
	t.Parallel()
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(graphql.Schema())})
	if err != nil {
		t.Fatalf("the schema does not validate: %v", err)
	}
	pinned := map[string][]string{
		"Query": {"me", "user", "users", "usersCount", "stats", "invitations", "auditEvents", "job", "groups"},
		"Mutation": {"createUser", "updateUser", "deleteUser", "unlockUser", "resetUserMFA", "bulkUserAction", "inviteUser",
			"resendInvitation", "revokeInvitation", "revokeUserPasskey", "startTotpEnrollment", "confirmTotp", "startCodeEnrollment",
			"confirmCodeEnrollment", "removeMfaMethod", "generateRecoveryCodes", "setDefaultMfaMethod", "beginPasskeyRegistration",
			"finishPasskeyRegistration", "renamePasskey", "deletePasskey"},
		"User": {"id", "email", "userName", "givenName", "familyName", "displayName", "externalId", "role", "active",
			"createdAt", "updatedAt", "lastLoginAt", "version", "mfa", "passkeys", "security"},
		"MFAStatus":      {"enabled", "defaultMethod", "methods", "recoveryCodesRemaining"},
		"UserConnection": {"edges", "pageInfo"},
		"UserEdge":       {"cursor", "node"},
		"PageInfo":       {"hasNextPage", "endCursor"},
		"Stats":          {"totalUsers", "activeUsers", "inactiveUsers", "roles", "pendingInvitations", "recentSignups", "mfa", "passkeys", "lockedUsers", "failedSignIns24h", "pendingApproval"},
		"UserFilter":     {"q", "role", "active", "mfa", "mfaMethod", "lastLoginBefore", "neverSignedIn"},
		"UserOrder":      {"field", "direction"},
		"Passkey":        nil, "Invitation": nil, "AuditEvent": nil, "Job": nil, "Group": nil,
		"StartTotpEnrollmentPayload": {"secret", "otpauthUri", "qrPng"},
	}
	for typ, fields := range pinned {
		def := schema.Types[typ]
		if def == nil {
			t.Errorf("no type %s", typ)
			continue
		}
		for _, f := range fields {
			if def.Fields.ForName(f) == nil {
				t.Errorf("%s has no field %s", typ, f)
			}
		}
	}
	for typ, values := range map[string][]string{
		"MFAState":       {"ENABLED", "DISABLED"},
		"UserOrderField": {"CREATED_AT", "EMAIL", "NAME", "LAST_LOGIN_AT"},
		"OrderDirection": {"ASC", "DESC"},
		"CodeMethod":     {"EMAIL", "SMS"},
	} {
		for _, v := range values {
			if schema.Types[typ] == nil || schema.Types[typ].EnumValues.ForName(v) == nil {
				t.Errorf("enum %s has no %s", typ, v)
			}
		}
	}
	for _, f := range schema.Mutation.Fields {
		if !strings.HasSuffix(f.Type.Name(), "Payload") {
			t.Errorf("mutation %s returns %s, not a payload type", f.Name, f.Type.Name())
		}
	}
}

// TestGeneratedCodeIsCurrent runs gqlgen on a copy of the module and
// fails when what it writes differs from the committed code: the schema,
// gqlgen.yml and the generated Go must change together.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	copyDir := t.TempDir()
	for _, name := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		} else if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(copyDir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "tool", "gqlgen", "generate", "--config", "gqlgen.yml")
	cmd.Dir = filepath.Join(copyDir, "graphql")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gqlgen generate: %v\n%s", err, out)
	}
	generated, err := filepath.Glob(filepath.Join(copyDir, "graphql", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range generated {
		name := filepath.Base(path)
		fresh, _ := os.ReadFile(path)
		committed, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(fresh, committed) {
			t.Errorf("%s differs from what gqlgen generates: run go generate ./graphql and commit", name)
		}
	}
}
