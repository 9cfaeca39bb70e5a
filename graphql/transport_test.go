package graphql

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestAppendResponseIsJSONMarshal: the response written directly is what
// encoding/json writes for the same graphql.Response, byte for byte.
func TestAppendResponseIsJSONMarshal(t *testing.T) {
	yes := true
	for _, resp := range []*graphql.Response{
		{Data: json.RawMessage(`{"users":{"edges":[{"node":{"id":"1","email":"a\"b\\c é"}}]}}`)},
		{},
		{Errors: gqlerror.List{{Message: "after: is not a cursor", Path: ast.Path{ast.PathName("users")},
			Extensions: map[string]any{"code": "invalid"}}}},
		{Data: json.RawMessage(`{"x":1}`), Label: "l", Path: ast.Path{ast.PathName("a"), ast.PathIndex(2)}, HasNext: &yes,
			Extensions: map[string]any{"limit": "depth"}},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendResponse(nil, resp)
		if err != nil || string(got) != string(want) {
			t.Errorf("written %s (%v), encoding/json %s", got, err, want)
		}
	}
}
