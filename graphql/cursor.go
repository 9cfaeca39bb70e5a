package graphql

import (
	"encoding/base64"
	"encoding/json"

	"github.com/rosterhq/roster"
)

// position is where a GraphQL cursor points: skip items past the start
// of the store's page at cursor. The edge cursors of a page are its
// start and their place in it; endCursor is the store's own cursor of the
// next page, skip 0, so paging on with it is one keyset read.
type position struct {
	Cursor string `json:"c,omitempty"`
	Skip   int    `json:"n,omitempty"`
}

func (p position) encode() string {
	raw, _ := json.Marshal(p) // a string and an int always encode
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodePosition(after *string) (position, error) {
	var p position
	if after == nil || *after == "" {
		return p, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err != nil || json.Unmarshal(raw, &p) != nil || p.Skip < 0 || p.Skip > roster.MaxPageSize {
		return p, roster.Invalid(roster.FieldError{Field: "after", Message: "is not a cursor of this list"})
	}
	return p, nil
}

// window is one page of a list as a connection shows it.
type window[T any] struct {
	items   []T
	cursors []string
	info    *PageInfo
}

// fetchFunc reads up to limit items from the store's cursor ("" for the
// start) and returns them with the store's cursor of what follows ("" at
// the end).
type fetchFunc[T any] func(cursor string, limit int) ([]T, string, error)

// paginate reads the page after the cursor after, of first items (the
// store's default when nil).
func paginate[T any](first *int, after *string, fetch fetchFunc[T]) (window[T], error) {
	limit := roster.DefaultPageSize
	if first != nil {
		if !roster.ValidPageSize(*first) {
			return window[T]{}, roster.Invalid(roster.FieldError{Field: "first", Message: "must be between 1 and 200"})
		}
		limit = *first
	}
	start, err := decodePosition(after)
	if err != nil {
		return window[T]{}, err
	}
	if start.Skip > 0 {
		// An edge's cursor: read past the items before it.
		_, next, err := fetch(start.Cursor, start.Skip)
		if err != nil || next == "" {
			return window[T]{info: &PageInfo{}}, err
		}
		start = position{Cursor: next}
	}
	items, next, err := fetch(start.Cursor, limit)
	if err != nil {
		return window[T]{}, err
	}
	w := window[T]{items: items, cursors: make([]string, len(items)), info: &PageInfo{HasNextPage: next != ""}}
	for i := range items {
		w.cursors[i] = position{Cursor: start.Cursor, Skip: i + 1}.encode()
	}
	if next != "" && len(items) > 0 {
		w.cursors[len(items)-1] = position{Cursor: next}.encode()
	}
	if len(items) > 0 {
		w.info.EndCursor = &w.cursors[len(items)-1]
	}
	return w, nil
}

// edges makes a connection's edges from a window.
func edges[T, E any](w window[T], edge func(cursor string, node T) E) []E {
	out := make([]E, len(w.items))
	for i, item := range w.items {
		out[i] = edge(w.cursors[i], item)
	}
	return out
}
