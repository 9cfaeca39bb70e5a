package roster_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/rosterhq/roster"
)

// TestEveryAuditActionIsDocumented: a script filtering GET
// /api/v1/audit-events?action= learns the names from the contract, so every
// action the root package declares must be named there.
func TestEveryAuditActionIsDocumented(t *testing.T) {
	m := contractModel(t)
	var described string
	for _, p := range m.Model.Paths.PathItems.GetOrZero("/api/v1/audit-events").Get.Parameters {
		if p.Name == "action" {
			described = p.Description
		}
	}
	actions := declaredAuditActions(t)
	if len(actions) < 20 {
		t.Fatalf("found only %d audit actions: %v", len(actions), actions)
	}
	for _, a := range actions {
		if !strings.Contains(described, "`"+a+"`") {
			t.Errorf("audit action %q is not named in the action parameter of GET /api/v1/audit-events", a)
		}
	}
}

// declaredAuditActions are the values of the root package's Action...
// string constants.
func declaredAuditActions(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range spec.Names {
				if !strings.HasPrefix(name.Name, "Action") || i >= len(spec.Values) {
					continue
				}
				if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					actions = append(actions, v)
				}
			}
			return true
		})
	}
	return actions
}

// TestEveryEventTypeIsDocumented: the contract's EventType enum is the
// root package's table of event types, no more and no less.
func TestEveryEventTypeIsDocumented(t *testing.T) {
	m := contractModel(t)
	schema := m.Model.Components.Schemas.GetOrZero("EventType").Schema()
	var documented []string
	for _, v := range schema.Enum {
		documented = append(documented, v.Value)
	}
	slices.Sort(documented)
	if want := roster.EventTypes(); !slices.Equal(documented, want) {
		t.Fatalf("openapi.yaml's EventType is %v, the root package's types %v", documented, want)
	}
}

// contractModel parses the embedded openapi.yaml.
func contractModel(t *testing.T) *libopenapi.DocumentModel[v3.Document] {
	t.Helper()
	doc, err := libopenapi.NewDocument(roster.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
