package graphql

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSON is the JSON scalar: a value passed through as it is, such as a
// WebAuthn credential or an audit event's details.
type JSON json.RawMessage

// MarshalGQL writes the value as it is.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(j)
}

// UnmarshalGQL takes any value a variable or literal gives.
func (j *JSON) UnmarshalGQL(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("not a JSON value: %w", err)
	}
	*j = raw
	return nil
}
