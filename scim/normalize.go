package scim

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

const coreSchemaURNPrefix = "urn:ietf:params:scim:schemas:core:"

// normalizeRequests rewrites the POST, PUT and PATCH bodies Okta and
// Microsoft Entra ID send into the forms RFC 7644 describes, so that the
// library validates them and resource handlers see one shape per change.
//
// extensions maps a resource endpoint's path segment ("Users", "Groups")
// to the schema extension URNs its resource type declares; requests to
// other endpoints, /Bulk among them, pass untouched. A body over maxBytes
// is answered 413; one that is not a JSON object goes through as it came,
// for the library to answer 400 invalidSyntax.
func normalizeRequests(maxBytes int64, extensions map[string][]string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			declared, ok := resourceExtensions(r, extensions)
			if !ok || r.Body == nil {
				next.ServeHTTP(w, r)
				return
			}
			tooLarge := fmt.Sprintf("the request body is larger than %d bytes", maxBytes)
			if r.ContentLength > maxBytes {
				writeError(w, http.StatusRequestEntityTooLarge, "", tooLarge)
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalidSyntax", "the request body could not be read")
				return
			}
			if int64(len(body)) > maxBytes {
				writeError(w, http.StatusRequestEntityTooLarge, "", tooLarge)
				return
			}
			if doc, err := decodeJSONObject(body); err == nil {
				if r.Method == http.MethodPatch {
					normalizePatch(doc, declared)
				} else {
					normalizeResource(doc, declared)
				}
				if out, err := encodeJSON(doc); err == nil {
					body = out
				}
			}
			r = r.WithContext(r.Context())
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}
}

// resourceExtensions finds the resource endpoint a POST (/Users), PUT or
// PATCH (/Users/{id}) addresses, and the extensions it declares.
func resourceExtensions(r *http.Request, extensions map[string][]string) ([]string, bool) {
	segments := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	i := len(segments) - 1
	switch r.Method {
	case http.MethodPost:
	case http.MethodPut, http.MethodPatch:
		i--
	default:
		return nil, false
	}
	if i < 0 {
		return nil, false
	}
	declared, ok := extensions[segments[i]]
	return declared, ok
}

// normalizeResource fixes a POST or PUT body: it drops what the server
// owns (id, meta, groups; Okta PUTs back what it GOT) and extensions the
// resource type does not declare, with their schemas entries (Entra adds
// its own to groups).
func normalizeResource(doc map[string]any, declared []string) {
	var dropped []string
	for k, v := range doc {
		switch {
		case strings.EqualFold(k, "id"), strings.EqualFold(k, "meta"), strings.EqualFold(k, "groups"):
			delete(doc, k)
		case isUndeclaredExtension(k, declared):
			delete(doc, k)
			dropped = append(dropped, k)
		default:
			if v, remove := fixAttribute(k, v); remove {
				delete(doc, k)
			} else {
				doc[k] = v
			}
		}
	}
	key, ok := lookupKey(doc, "schemas")
	schemas, isList := doc[key].([]any)
	if !ok || !isList || len(dropped) == 0 {
		return
	}
	doc[key] = slices.DeleteFunc(schemas, func(s any) bool {
		urn, _ := s.(string)
		return slices.ContainsFunc(dropped, func(d string) bool { return strings.EqualFold(d, urn) })
	})
}

// normalizePatch fixes each operation of a PatchOp body.
func normalizePatch(doc map[string]any, declared []string) {
	key, ok := lookupKey(doc, "Operations")
	ops, isList := doc[key].([]any)
	if !ok || !isList {
		return
	}
	out := make([]any, 0, len(ops))
	for _, op := range ops {
		m, ok := op.(map[string]any)
		if !ok {
			out = append(out, op)
			continue
		}
		out = append(out, normalizeOperation(m, declared)...)
	}
	doc[key] = out
}

// normalizeOperation lower-cases op (Entra sends "Replace") and splits an
// add or replace into operations the library can validate.
func normalizeOperation(op map[string]any, declared []string) []any {
	for _, name := range []string{"op", "path", "value"} {
		if k, ok := lookupKey(op, name); ok && k != name {
			op[name] = op[k]
			delete(op, k)
		}
	}
	name, ok := op["op"].(string)
	if !ok {
		return []any{op}
	}
	name = strings.ToLower(name)
	op["op"] = name
	path, _ := op["path"].(string)
	value, hasValue := op["value"]
	switch {
	case (name == "add" || name == "replace") && path == "":
		return splitValue(op, name, value, declared)
	case name == "add" || name == "replace":
		return pathOperations(op, name, path, value, declared)
	case name == "remove" && hasValue:
		// Entra removes members by value: [{"$ref": null, "value": "id"}].
		op["value"], _ = fixAttribute(path, value)
	}
	return []any{op}
}

// splitValue turns a path-less add or replace whose value names dotted,
// URN-qualified or filtered attributes ({"name.givenName": "A"}) into one
// operation per such attribute with it as the path: the library accepts
// those keys but hands them on unparsed, and refuses nested extension
// objects. Okta's group rename sends the group's own id; it is dropped.
func splitValue(op map[string]any, name string, value any, declared []string) []any {
	attrs, ok := value.(map[string]any)
	if !ok {
		return []any{op}
	}
	plain := map[string]any{}
	var qualified []string
	for k, v := range attrs {
		switch {
		case strings.EqualFold(k, "id"):
		case strings.ContainsAny(k, ".:["):
			qualified = append(qualified, k)
		default:
			plain[k], _ = fixAttribute(k, v)
		}
	}
	op["value"] = plain
	if len(qualified) == 0 {
		return []any{op}
	}
	var ops []any
	if len(plain) > 0 {
		ops = append(ops, op)
	}
	slices.Sort(qualified)
	for _, k := range qualified {
		ops = append(ops, pathOperations(nil, name, k, attrs[k], declared)...)
	}
	return ops
}

// pathOperations fixes the value of an add or replace at path; a whole
// extension object becomes one operation per attribute, which the library
// validates where it refuses the object. original, when given, is kept if
// nothing needs changing.
func pathOperations(original map[string]any, name, path string, value any, declared []string) []any {
	if attrs, ok := value.(map[string]any); ok && len(attrs) > 0 && isDeclared(path, declared) {
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var ops []any
		for _, k := range keys {
			ops = append(ops, pathOperations(nil, name, path+":"+k, attrs[k], declared)...)
		}
		return ops
	}
	value, remove := fixAttribute(path, value)
	if remove {
		return []any{map[string]any{"op": "remove", "path": path}}
	}
	if original == nil {
		original = map[string]any{"op": name, "path": path}
	}
	original["value"] = value
	return []any{original}
}

// fixAttribute fixes the value of the attribute at path: "active" given as
// "True"/"False", members given as bare ids or with "$ref": null, and the
// enterprise manager given as a bare id, or as "" to clear it (remove).
func fixAttribute(path string, value any) (fixed any, remove bool) {
	switch {
	case attributeIs(path, "active"):
		return fixBoolean(value), false
	case attributeIs(path, "members"):
		return fixMembers(value), false
	case strings.EqualFold(path, enterpriseSchemaURN+":manager"):
		return fixManager(value)
	case strings.EqualFold(path, enterpriseSchemaURN):
		ext, ok := value.(map[string]any)
		if !ok {
			return value, false
		}
		for k, v := range ext {
			if v, remove := fixAttribute(enterpriseSchemaURN+":"+k, v); remove {
				delete(ext, k)
			} else {
				ext[k] = v
			}
		}
	}
	return value, false
}

// attributeIs reports whether path names the core attribute name, bare or
// URN-qualified.
func attributeIs(path, name string) bool {
	if strings.EqualFold(path, name) {
		return true
	}
	urn, attr, ok := cutURN(path)
	return ok && hasPrefixFold(urn, coreSchemaURNPrefix) && strings.EqualFold(attr, name)
}

func fixBoolean(value any) any {
	s, ok := value.(string)
	switch {
	case ok && strings.EqualFold(s, "true"):
		return true
	case ok && strings.EqualFold(s, "false"):
		return false
	}
	return value
}

func fixMembers(value any) any {
	fix := func(m any) any {
		switch m := m.(type) {
		case string:
			return map[string]any{"value": m}
		case map[string]any:
			if k, ok := lookupKey(m, "$ref"); ok && m[k] == nil {
				delete(m, k)
			}
		}
		return m
	}
	list, ok := value.([]any)
	if !ok {
		if _, isString := value.(string); isString {
			return []any{fix(value)}
		}
		return fix(value)
	}
	for i, m := range list {
		list[i] = fix(m)
	}
	return list
}

func fixManager(value any) (any, bool) {
	switch v := value.(type) {
	case string:
		return map[string]any{"value": v}, v == ""
	case map[string]any:
		k, _ := lookupKey(v, "value")
		id, isString := v[k].(string)
		return v, isString && id == ""
	}
	return value, false
}

// isUndeclaredExtension reports whether a top-level key is a schema
// extension the resource type does not declare.
func isUndeclaredExtension(key string, declared []string) bool {
	return hasPrefixFold(key, "urn:") && !hasPrefixFold(key, coreSchemaURNPrefix) && !isDeclared(key, declared)
}

func isDeclared(urn string, declared []string) bool {
	return slices.ContainsFunc(declared, func(d string) bool { return strings.EqualFold(d, urn) })
}

// cutURN splits "urn:...:User:name.givenName" into its schema URN and
// attribute path, looking for the colon only before any value filter,
// whose literals may hold colons.
func cutURN(path string) (urn, attr string, ok bool) {
	head := path
	if i := strings.IndexByte(path, '['); i >= 0 {
		head = path[:i]
	}
	i := strings.LastIndexByte(head, ':')
	if i < 0 || !hasPrefixFold(path, "urn:") {
		return "", path, false
	}
	return path[:i], path[i+1:], true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// lookupKey finds name among m's keys, ignoring case as attribute names
// do; an ambiguous match finds nothing.
func lookupKey(m map[string]any, name string) (string, bool) {
	if _, ok := m[name]; ok {
		return name, true
	}
	found := ""
	for k := range m {
		if strings.EqualFold(k, name) {
			if found != "" {
				return "", false
			}
			found = k
		}
	}
	return found, found != ""
}
