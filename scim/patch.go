package scim

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/errors"
	"github.com/scim2/filter-parser/v2"
)

// applyPatch applies PATCH operations, in order, to doc: a resource's
// attributes as SCIM names them, extension attributes under their schema
// URN. It works on one resource's few attributes, never on stored data.
func applyPatch(doc map[string]any, ops []scim.PatchOperation) error {
	for _, op := range ops {
		if err := applyOp(doc, strings.ToLower(op.Op), op.Path, op.Value); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(doc map[string]any, op string, path *filter.Path, value any) error {
	if path == nil {
		if op == scim.PatchOperationRemove {
			return errors.ScimErrorNoTarget
		}
		values, ok := value.(map[string]any)
		if !ok {
			return errors.ScimErrorInvalidValue
		}
		for name, v := range values {
			if err := setAttr(doc, name, v, op == scim.PatchOperationAdd); err != nil {
				return err
			}
		}
		return nil
	}

	target := doc
	if uri := path.AttributePath.URI(); uri != "" && !isCoreSchema(uri) {
		target = childMap(doc, uri)
	}
	name := canonicalKey(target, path.AttributePath.AttributeName)
	sub := path.AttributePath.SubAttributeName()
	if path.ValueExpression != nil {
		return applyToElements(target, name, path.ValueExpression, path.SubAttributeName(), op, value)
	}
	if sub != "" {
		parent := childMap(target, name)
		key := canonicalKey(parent, sub)
		if op == scim.PatchOperationRemove {
			delete(parent, key)
			return nil
		}
		parent[key] = value
		return nil
	}
	if op == scim.PatchOperationRemove {
		delete(target, name)
		return nil
	}
	return setAttr(target, name, value, op == scim.PatchOperationAdd)
}

// setAttr writes one attribute. Complex values merge into what is there,
// as Okta and Entra expect of a partial update; add appends to a
// multi-valued attribute, replace overwrites it.
func setAttr(doc map[string]any, name string, value any, add bool) error {
	key := canonicalKey(doc, name)
	switch v := value.(type) {
	case map[string]any:
		existing := childMap(doc, key)
		for k, sv := range v {
			existing[canonicalKey(existing, k)] = sv
		}
	case []any:
		if old, ok := doc[key].([]any); ok && add {
			doc[key] = append(old, v...)
		} else {
			doc[key] = v
		}
	default:
		doc[key] = value
	}
	return nil
}

// applyToElements applies an operation to the elements of a multi-valued
// attribute that match filter, e.g. emails[type eq "work"].value. A replace
// or add that matches nothing creates the element, with the filter's
// equalities as its attributes.
func applyToElements(doc map[string]any, name string, filter filter.Expression, sub, op string, value any) error {
	elems, _ := doc[name].([]any)
	var kept []any
	matched := false
	for _, e := range elems {
		m, ok := e.(map[string]any)
		if !ok || !matches(m, filter) {
			kept = append(kept, e)
			continue
		}
		matched = true
		switch {
		case op == scim.PatchOperationRemove && sub == "":
			continue // the element goes
		case op == scim.PatchOperationRemove:
			delete(m, canonicalKey(m, sub))
		case sub != "":
			m[canonicalKey(m, sub)] = value
		default:
			v, ok := value.(map[string]any)
			if !ok {
				return errors.ScimErrorInvalidValue
			}
			for k, sv := range v {
				m[canonicalKey(m, k)] = sv
			}
		}
		kept = append(kept, m)
	}
	if !matched && op != scim.PatchOperationRemove {
		m := equalities(filter)
		if m == nil {
			return errors.ScimErrorNoTarget
		}
		if sub != "" {
			m[sub] = value
		} else if v, ok := value.(map[string]any); ok {
			for k, sv := range v {
				m[k] = sv
			}
		}
		kept = append(kept, m)
	}
	doc[name] = kept
	return nil
}

// matches evaluates a value filter on one element of a multi-valued attribute.
func matches(elem map[string]any, e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		name := e.AttributePath.AttributeName
		if sub := e.AttributePath.SubAttributeName(); sub != "" {
			name = sub
		}
		v, present := elem[canonicalKey(elem, name)]
		return compare(v, present, e.Operator, e.CompareValue)
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			return matches(elem, e.Left) && matches(elem, e.Right)
		}
		return matches(elem, e.Left) || matches(elem, e.Right)
	case *filter.NotExpression:
		return !matches(elem, e.Expression)
	}
	return false
}

// compare applies a filter operator to an element's value; strings compare
// case-insensitively, as multi-valued sub-attributes (type, value) are.
func compare(v any, present bool, op filter.CompareOperator, want any) bool {
	if op == filter.PR {
		return present && v != nil && v != ""
	}
	if s, ok := v.(string); ok {
		w, ok := want.(string)
		if !ok {
			return false
		}
		return compareStrings(s, w, op)
	}
	switch op {
	case filter.EQ:
		return fmt.Sprint(v) == fmt.Sprint(want)
	case filter.NE:
		return fmt.Sprint(v) != fmt.Sprint(want)
	}
	return false
}

// equalities returns the attributes an element must have to match filter,
// when the filter is made only of eq comparisons joined by and.
func equalities(e filter.Expression) map[string]any {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if e.Operator != filter.EQ {
			return nil
		}
		name := e.AttributePath.AttributeName
		if sub := e.AttributePath.SubAttributeName(); sub != "" {
			name = sub
		}
		return map[string]any{name: e.CompareValue}
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return nil
		}
		left, right := equalities(e.Left), equalities(e.Right)
		if left == nil || right == nil {
			return nil
		}
		for k, v := range right {
			left[k] = v
		}
		return left
	}
	return nil
}

// canonicalKey returns the key of doc that equals name case-insensitively
// (SCIM attribute names are case-insensitive), or name when none does.
func canonicalKey(doc map[string]any, name string) string {
	if _, ok := doc[name]; ok {
		return name
	}
	for k := range doc {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// childMap returns doc[name] as a map, making it when missing.
func childMap(doc map[string]any, name string) map[string]any {
	key := canonicalKey(doc, name)
	if m, ok := doc[key].(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	doc[key] = m
	return m
}

func isCoreSchema(uri string) bool {
	return strings.EqualFold(uri, userSchemaURN) || strings.EqualFold(uri, groupSchemaURN)
}

// Schema URNs.
const (
	userSchemaURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchemaURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseSchemaURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)
