package scim

import (
	"net/http"
	"strings"
)

// projectAttributes applies the attributes and excludedAttributes query
// parameters (RFC 7644 §3.4.2.5, §3.9) to successful GET, POST, PUT and
// PATCH responses: to the resource, or to each resource of a list. Names
// are case-insensitive, may name a sub-attribute (name.givenName,
// emails.value) and may be URN-qualified; id, schemas and meta always stay.
func projectAttributes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		include := attributeList(q["attributes"])
		exclude := attributeList(q["excludedAttributes"])
		// RFC 7644 does not say what both together mean; attributes, the
		// narrower request, wins and excludedAttributes is ignored.
		if len(include) > 0 {
			exclude = nil
		}
		switch {
		case len(include) == 0 && len(exclude) == 0:
			next.ServeHTTP(w, r)
			return
		case r.Method != http.MethodGet && r.Method != http.MethodPost &&
			r.Method != http.MethodPut && r.Method != http.MethodPatch:
			next.ServeHTTP(w, r)
			return
		}
		buf := newBufferedWriter(w)
		next.ServeHTTP(buf, r)
		doc, err := decodeJSONObject(buf.body.Bytes())
		if buf.status >= 300 || err != nil {
			buf.flush()
			return
		}
		project := func(res map[string]any) {
			if len(include) > 0 {
				keepOnly(res, selectionOf(res, include), true)
			} else {
				drop(res, selectionOf(res, exclude), true)
			}
		}
		if hasSchema(doc, listResponseURN) {
			resources, _ := doc["Resources"].([]any)
			for _, res := range resources {
				if m, ok := res.(map[string]any); ok {
					project(m)
				}
			}
		} else {
			project(doc)
		}
		if err := rewriteBody(buf, doc); err != nil {
			writeError(w, http.StatusInternalServerError, "", "internal error")
			return
		}
		buf.flush()
	})
}

// selection is a tree of chosen attributes, by lower-case name; all means
// the attribute as a whole, children some of its sub-attributes.
type selection struct {
	all      bool
	children map[string]*selection
}

// attributeList splits the comma-separated lists of a query parameter.
func attributeList(values []string) []string {
	var names []string
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// selectionOf resolves names against one resource: the URN of one of its
// extension objects descends into it, the URN of its core schema is
// dropped; names that match nothing select nothing.
func selectionOf(res map[string]any, names []string) map[string]*selection {
	root := map[string]*selection{}
	for _, name := range names {
		path := attributePath(res, name)
		node := root
		for i, part := range path {
			s, ok := node[part]
			if !ok {
				s = &selection{children: map[string]*selection{}}
				node[part] = s
			}
			if i == len(path)-1 {
				s.all = true
			}
			node = s.children
		}
	}
	return root
}

func attributePath(res map[string]any, name string) []string {
	if !hasPrefixFold(name, "urn:") {
		return strings.Split(strings.ToLower(name), ".")
	}
	if k, ok := lookupKey(res, name); ok {
		return []string{strings.ToLower(k)}
	}
	urn, attr, ok := cutURN(name)
	if !ok {
		return nil
	}
	path := strings.Split(strings.ToLower(attr), ".")
	if k, ok := lookupKey(res, urn); ok {
		if _, isObject := res[k].(map[string]any); isObject {
			return append([]string{strings.ToLower(k)}, path...)
		}
	}
	if hasSchema(res, urn) {
		return path
	}
	return nil
}

// keepOnly removes from res what sel does not choose; at the top level it
// keeps the attributes returned "always".
func keepOnly(res map[string]any, sel map[string]*selection, top bool) {
	for k, v := range res {
		if top && alwaysReturned(k) {
			continue
		}
		s, ok := sel[strings.ToLower(k)]
		switch {
		case !ok:
			delete(res, k)
		case s.all:
		default:
			if v, ok := keepOnlyIn(v, s.children); ok {
				res[k] = v
			} else {
				delete(res, k)
			}
		}
	}
}

// keepOnlyIn narrows a complex or multi-valued complex value to the chosen
// sub-attributes; what is left empty goes.
func keepOnlyIn(v any, sel map[string]*selection) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		keepOnly(v, sel, false)
		return v, len(v) > 0
	case []any:
		kept := v[:0]
		for _, e := range v {
			if e, ok := keepOnlyIn(e, sel); ok {
				kept = append(kept, e)
			}
		}
		return kept, len(kept) > 0
	}
	return nil, false
}

// drop removes from res what sel chooses, except, at the top level, the
// attributes returned "always".
func drop(res map[string]any, sel map[string]*selection, top bool) {
	for k, v := range res {
		if top && alwaysReturned(k) {
			continue
		}
		s, ok := sel[strings.ToLower(k)]
		switch {
		case !ok:
		case s.all:
			delete(res, k)
		default:
			if v, ok := dropIn(v, s.children); ok {
				res[k] = v
			} else {
				delete(res, k)
			}
		}
	}
}

// dropIn removes the chosen sub-attributes from a complex or multi-valued
// complex value; what it leaves empty goes.
func dropIn(v any, sel map[string]*selection) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		drop(v, sel, false)
		return v, len(v) > 0
	case []any:
		kept := v[:0]
		for _, e := range v {
			if e, ok := dropIn(e, sel); ok {
				kept = append(kept, e)
			}
		}
		return kept, len(kept) > 0
	}
	return v, true
}

func alwaysReturned(name string) bool {
	return strings.EqualFold(name, "id") || strings.EqualFold(name, "schemas") || strings.EqualFold(name, "meta")
}
