package api

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

// writeUserPage writes a page of the users list: the bytes writeJSON
// writes for newListResponse(page.Items, page.NextCursor,
// newUserResponse), appended field by field. The list is the API's
// hottest answer, and encoding/json's reflection over fifty users was a
// sixth of its CPU (docs/benchmarks.md); TestUserPageIsWriteJSON holds
// the two equal.
func writeUserPage(w http.ResponseWriter, page *roster.UserPage) {
	b := make([]byte, 0, 512*len(page.Items)+64)
	b = append(b, `{"items":[`...)
	for i, u := range page.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUser(b, u)
	}
	b = append(b, `],"next_cursor":`...)
	if page.NextCursor == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, page.NextCursor)
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// appendUser appends newUserResponse(u) as encoding/json writes it.
func appendUser(b []byte, u *roster.User) []byte {
	b = appendJSONString(append(b, `{"id":`...), u.ID)
	b = appendJSONString(append(b, `,"email":`...), u.Email)
	b = appendJSONString(append(b, `,"user_name":`...), u.UserName)
	b = appendJSONString(append(b, `,"given_name":`...), u.GivenName)
	b = appendJSONString(append(b, `,"family_name":`...), u.FamilyName)
	b = appendJSONString(append(b, `,"display_name":`...), u.DisplayName)
	b = append(b, `,"external_id":`...)
	if u.ExternalID == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *u.ExternalID)
	}
	b = appendJSONString(append(b, `,"role":`...), u.Role)
	b = strconv.AppendBool(append(b, `,"active":`...), u.Active)
	b = strconv.AppendBool(append(b, `,"pending_approval":`...), u.PendingApproval)
	b = appendTimestamp(append(b, `,"created_at":`...), u.CreatedAt)
	b = appendTimestamp(append(b, `,"updated_at":`...), u.UpdatedAt)
	b = append(b, `,"last_login_at":`...)
	if u.LastLoginAt == nil {
		b = append(b, "null"...)
	} else {
		b = appendTimestamp(b, *u.LastLoginAt)
	}
	return append(b, '}')
}

// appendTimestamp appends timestamp(t), quoted: RFC 3339 holds nothing to
// escape.
func appendTimestamp(b []byte, t time.Time) []byte {
	return append(t.UTC().AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

// appendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping on (json.Encoder's default): ", \ and control characters
// escaped, <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
