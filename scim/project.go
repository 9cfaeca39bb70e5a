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
				project(res, selectionOf(res, include), true, true)
			} else {
				project(res, selectionOf(res, exclude), false, true)
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
		for _, name := range strings.Split(withoutValueFilters(v), ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// withoutValueFilters drops the value filters of names written as
// emails[type eq "work"]: not RFC 7644's attribute notation, but what
// Microsoft's reference tests send. The attribute is returned whole.
func withoutValueFilters(v string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case depth > 0 && c == '"' && (i == 0 || v[i-1] != '\\'):
			quoted = !quoted
		case c == '[' && !quoted:
			depth++
		case c == ']' && !quoted && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
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

// project narrows res to what sel chooses (keep) or removes what it
// chooses (!keep). At the top level the attributes returned "always" stay.
func project(res map[string]any, sel map[string]*selection, keep, top bool) {
	for k, v := range res {
		if top && alwaysReturned(k) {
			continue
		}
		s, chosen := sel[strings.ToLower(k)]
		switch {
		case !chosen:
			if keep {
				delete(res, k)
			}
		case s.all:
			if !keep {
				delete(res, k)
			}
		default:
			if v, ok := projectIn(v, s.children, keep); ok {
				res[k] = v
			} else {
				delete(res, k)
			}
		}
	}
}

// projectIn applies project to the sub-attributes of a complex or
// multi-valued complex value; what it leaves empty goes. A simple value has
// no sub-attributes to choose: narrowing drops it, removing keeps it.
func projectIn(v any, sel map[string]*selection, keep bool) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		project(v, sel, keep, false)
		return v, len(v) > 0
	case []any:
		kept := v[:0]
		for _, e := range v {
			if e, ok := projectIn(e, sel, keep); ok {
				kept = append(kept, e)
			}
		}
		return kept, len(kept) > 0
	}
	return v, !keep
}

func alwaysReturned(name string) bool {
	return strings.EqualFold(name, "id") || strings.EqualFold(name, "schemas") || strings.EqualFold(name, "meta")
}
