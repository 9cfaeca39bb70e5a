package roster

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// StoredTextProblem says why s cannot be client text, or "". PostgreSQL
// stores neither NUL nor bytes that are not UTF-8 in text (nor NUL in
// jsonb), so the transports refuse both where they decode a request, before
// any value can reach a query and come back as a database error.
func StoredTextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return `must not contain NUL (\u0000)`
	}
	return ""
}

// JSONTextProblems names each string of a JSON document, member name or
// value, that StoredTextProblem refuses, by its path: "tenant",
// "filter.q", "emails[0].type"; a member name is shown with its NUL
// escaped. A document that is not valid JSON has none: decoding it fails
// first. (Decoding turns bytes that are not UTF-8 into U+FFFD, so in JSON
// only NUL is at fault.)
func JSONTextProblems(raw []byte) []FieldError {
	if bytes.IndexByte(raw, '\\') < 0 {
		return nil // NUL can only be written \u0000
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil
	}
	var fields []FieldError
	walkJSONText(doc, "", &fields)
	return fields
}

func walkJSONText(v any, path string, fields *[]FieldError) {
	switch v := v.(type) {
	case string:
		if msg := StoredTextProblem(v); msg != "" {
			*fields = append(*fields, FieldError{Field: path, Message: msg})
		}
	case []any:
		for i, item := range v {
			walkJSONText(item, path+"["+strconv.Itoa(i)+"]", fields)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := fieldName(k)
			if path != "" {
				name = path + "." + name
			}
			if msg := StoredTextProblem(k); msg != "" {
				*fields = append(*fields, FieldError{Field: name, Message: "has a name that " + msg})
			}
			walkJSONText(v[k], name, fields)
		}
	}
}

// ParseQuery parses a URL's raw query as url.ParseQuery does, but refuses
// what that drops without a word: EINVALID naming each parameter whose name
// or value cannot be decoded, or decodes to text StoredTextProblem refuses.
// A name that cannot be decoded is named as it was sent.
func ParseQuery(raw string) (url.Values, error) {
	values := url.Values{}
	var fields []FieldError
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		if strings.Contains(pair, ";") {
			fields = append(fields, FieldError{Field: rawName, Message: "must not contain a semicolon: separate parameters with &"})
			continue
		}
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			fields = append(fields, FieldError{Field: rawName, Message: "is not a decodable name: escape % as %25"})
			continue
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			fields = append(fields, FieldError{Field: name, Message: "cannot be decoded: escape % as %25"})
			continue
		}
		if msg := StoredTextProblem(name); msg != "" {
			fields = append(fields, FieldError{Field: fieldName(name), Message: "has a name that " + msg})
			continue
		}
		if msg := StoredTextProblem(value); msg != "" {
			fields = append(fields, FieldError{Field: name, Message: msg})
			continue
		}
		values[name] = append(values[name], value)
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	return values, nil
}

// fieldName is how an error names a field whose own name is refused text:
// NUL escaped, bytes that are not UTF-8 as U+FFFD.
func fieldName(name string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", `\u0000`), "\uFFFD")
}
