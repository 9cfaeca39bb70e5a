package store

import (
	"encoding/base64"
	"encoding/json"

	"github.com/rosterhq/roster"
)

// cursor is where a keyset page ends: the sort it belongs to and the sort
// key values of the last row. It travels base64url-encoded and is opaque to
// clients.
type cursor struct {
	Sort string   `json:"s"`
	Keys []string `json:"k"`
}

func (c cursor) encode() string {
	raw, _ := json.Marshal(c) // a struct of strings always encodes
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor parses s and checks it was made for sort with nKeys keys.
// EINVALID naming "cursor" otherwise.
func decodeCursor(s, sort string, nKeys int) (cursor, error) {
	bad := roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Sort != sort || len(c.Keys) != nKeys {
		return cursor{}, bad
	}
	return c, nil
}
