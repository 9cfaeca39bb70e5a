package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/rosterhq/roster"
)

// object is a decoded JSON request body whose fields are read one by one, so
// that each wrong type, null or unknown field is reported under its name.
type object struct {
	fields map[string]json.RawMessage
	errs   []roster.FieldError

	// A nested object reports its field errors to its parent, named
	// parent.field.
	parent *object
	name   string
}

// decodeObject reads the request body as one JSON object. The body size is
// limited by the bodyLimit middleware. EINVALID for an empty body, malformed
// JSON, anything but an object, or a NUL in any string, named by its path;
// ETOOLARGE past the limit.
func decodeObject(r *http.Request) (*object, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &roster.Error{Code: roster.EINVALID, Message: "the body must be sent as Content-Type: application/json",
				Fields: []roster.FieldError{{Field: "Content-Type", Message: "must be application/json"}}}
		}
	}
	raw, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, roster.Errorf(roster.ETOOLARGE, "the request body is larger than %d bytes", tooLarge.Limit)
	} else if err != nil {
		return nil, roster.Errorf(roster.EINVALID, "the request body could not be read")
	}
	body := func(msg string) error {
		return roster.Invalid(roster.FieldError{Field: "body", Message: msg})
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, body("is required: send a JSON object")
	}
	if raw[0] != '{' {
		return nil, body("must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, body("is not valid JSON: " + jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, body("must hold one JSON object and nothing after it")
	}
	if bad := roster.JSONTextProblems(raw); len(bad) > 0 {
		return nil, roster.Invalid(bad...)
	}
	return &object{fields: fields}, nil
}

// decodeField reads a body that is an object of one required, non-empty
// string field, such as {"code": "123456"}.
func decodeField(r *http.Request, name string) (string, error) {
	body, err := decodeObject(r)
	if err != nil {
		return "", err
	}
	body.only(name)
	v := body.required(name)
	return v, body.err()
}

// jsonProblem describes a JSON syntax error without echoing the input.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return syntax.Error()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed"
}

func (o *object) fail(field, msg string) {
	if o.parent != nil {
		o.parent.fail(o.name+"."+field, msg)
		return
	}
	o.errs = append(o.errs, roster.FieldError{Field: field, Message: msg})
}

// need reports each of names the body lacks as required.
func (o *object) need(names ...string) {
	for _, name := range names {
		if !o.has(name) {
			o.fail(name, "is required")
		}
	}
}

// object returns the field as a nested object, nil when absent. A value
// that is not an object is a field error.
func (o *object) object(name string) *object {
	raw, ok := o.fields[name]
	if !ok {
		return nil
	}
	var fields map[string]json.RawMessage
	if string(raw) == "null" || json.Unmarshal(raw, &fields) != nil {
		o.fail(name, "must be an object")
		return nil
	}
	return &object{fields: fields, parent: o, name: name}
}

// strings returns the field as an array of strings, nil when absent (and
// not nil but empty for []). A null or a value of another type is a field
// error.
func (o *object) strings(name string) []string {
	raw, ok := o.fields[name]
	if !ok {
		return nil
	}
	v := []string{}
	if string(raw) == "null" || json.Unmarshal(raw, &v) != nil {
		o.fail(name, "must be an array of strings")
		return nil
	}
	return v
}

// int returns the field as an integer of any value, nil when absent; the
// domain checks its range.
func (o *object) int(name string) *int {
	raw, ok := o.fields[name]
	if !ok {
		return nil
	}
	var v int
	if string(raw) == "null" || json.Unmarshal(raw, &v) != nil {
		o.fail(name, "must be an integer")
		return nil
	}
	return &v
}

// has reports whether the body has the field, null or not.
func (o *object) has(name string) bool {
	_, ok := o.fields[name]
	return ok
}

// isNull reports whether the field is present and null.
func (o *object) isNull(name string) bool {
	raw, ok := o.fields[name]
	return ok && string(raw) == "null"
}

// string returns the field as a string, nil when absent. A null or a value
// of another type is a field error.
func (o *object) string(name string) *string {
	raw, ok := o.fields[name]
	if !ok {
		return nil
	}
	var v string
	if string(raw) == "null" {
		o.fail(name, "must not be null")
		return nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		o.fail(name, "must be a string")
		return nil
	}
	return &v
}

// required returns a string field that must be present and non-empty.
func (o *object) required(name string) string {
	v := o.string(name)
	if v == nil && !o.has(name) {
		o.fail(name, "is required")
	} else if v != nil && *v == "" {
		o.fail(name, "must not be empty")
	}
	if v == nil {
		return ""
	}
	return *v
}

// bool returns the field as a boolean, nil when absent.
func (o *object) bool(name string) *bool {
	raw, ok := o.fields[name]
	if !ok {
		return nil
	}
	var v bool
	if string(raw) == "null" {
		o.fail(name, "must not be null")
		return nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		o.fail(name, "must be true or false")
		return nil
	}
	return &v
}

// integer returns the field as an integer in [lo, hi], nil when absent.
func (o *object) integer(name string, lo, hi int) *int {
	raw, ok := o.fields[name]
	if !ok {
		return nil
	}
	var v int
	if err := json.Unmarshal(raw, &v); err != nil || v < lo || v > hi {
		o.fail(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return nil
	}
	return &v
}

// only reports every field not in allowed as unknown.
func (o *object) only(allowed ...string) {
	var unknown []string
	for name := range o.fields {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		o.fail(name, "is not a known field")
	}
}

// err returns the collected field errors as one EINVALID error, or nil.
func (o *object) err() error {
	if len(o.errs) == 0 {
		return nil
	}
	return roster.Invalid(o.errs...)
}
