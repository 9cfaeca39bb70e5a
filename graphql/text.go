package graphql

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rosterhq/roster"
)

// textProblems finds the strings of an operation, in the arguments it
// and the document's fragments write and in its variables, that the database could not store (NUL, bytes that are
// not UTF-8), as REST finds them in its bodies and query strings.
func textProblems(doc *ast.QueryDocument, op *ast.OperationDefinition, variables map[string]any) []roster.FieldError {
	var fields []roster.FieldError
	check := func(name, s string) {
		if msg := roster.StoredTextProblem(s); msg != "" {
			fields = append(fields, roster.FieldError{Field: name, Message: msg})
		}
	}
	var walkValue func(name string, v *ast.Value)
	walkValue = func(name string, v *ast.Value) {
		if v == nil {
			return
		}
		switch v.Kind {
		case ast.StringValue, ast.BlockValue, ast.EnumValue:
			check(name, v.Raw)
		}
		for _, c := range v.Children {
			walkValue(name+"."+c.Name, c.Value)
		}
	}
	var walkSet func(set ast.SelectionSet)
	walkSet = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				for _, arg := range sel.Arguments {
					walkValue(arg.Name, arg.Value)
				}
				walkSet(sel.SelectionSet)
			case *ast.InlineFragment:
				walkSet(sel.SelectionSet)
			}
		}
	}
	walkSet(op.SelectionSet)
	for _, f := range doc.Fragments {
		walkSet(f.SelectionSet)
	}
	var walkVar func(name string, v any)
	walkVar = func(name string, v any) {
		switch v := v.(type) {
		case string:
			check(name, v)
		case []any:
			for i, item := range v {
				walkVar(name+"["+strconv.Itoa(i)+"]", item)
			}
		case map[string]any:
			for k, item := range v {
				walkVar(name+"."+k, item)
			}
		}
	}
	for name, v := range variables {
		walkVar("$"+name, v)
	}
	return fields
}
