package roster

import (
	"strconv"
	"strings"
)

// ETag is an entity tag (RFC 9110 §8.8.3): an opaque string, weak or strong.
type ETag struct {
	Weak   bool
	Opaque string // without its quotes
}

// ParseETags reads the value of an If-Match or If-None-Match header: "*"
// (any is true), or a comma-separated list of entity tags. EINVALID naming
// header for anything else.
func ParseETags(header, value string) (tags []ETag, any bool, err error) {
	bad := Invalid(FieldError{Field: header, Message: `must be "*" or a list of entity tags such as W/"3"`})
	rest := strings.TrimSpace(value)
	if rest == "*" {
		return nil, true, nil
	}
	for rest != "" {
		var tag ETag
		tag.Weak = strings.HasPrefix(rest, "W/")
		rest = strings.TrimPrefix(rest, "W/")
		if !strings.HasPrefix(rest, `"`) {
			return nil, false, bad
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, false, bad
		}
		tag.Opaque, rest = rest[1:end+1], strings.TrimLeft(rest[end+2:], " \t")
		for i := 0; i < len(tag.Opaque); i++ {
			if c := tag.Opaque[i]; c < 0x21 || c == 0x7f {
				return nil, false, bad
			}
		}
		tags = append(tags, tag)
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return nil, false, bad
		}
		rest = strings.TrimLeft(rest[1:], " \t,")
	}
	return tags, false, nil
}

// NoVersion is the version ParseIfMatch gives for entity tags none of
// which is a Roster version: no resource has it, so the change is refused
// as stale (EPRECONDITION), as RFC 9110 wants of any tag that does not
// match.
const NoVersion int64 = -1

// ParseIfMatch reads an If-Match header into the version of the resource
// the client last saw: 0 when the header is absent or "*", NoVersion when
// no tag in it is a Roster version ("3", W/"3"; weak or strong alike, as
// SCIM clients send back the weak tags SCIM answers). EINVALID naming
// If-Match for a header that is not a list of entity tags, or that names
// two different versions, which one ifVersion cannot hold.
func ParseIfMatch(h string) (int64, error) {
	if strings.TrimSpace(h) == "" {
		return 0, nil
	}
	tags, any, err := ParseETags("If-Match", h)
	if err != nil || any {
		return 0, err
	}
	version := NoVersion
	for _, tag := range tags {
		v, err := strconv.ParseInt(tag.Opaque, 10, 64)
		if err != nil || v < 1 || strconv.FormatInt(v, 10) != tag.Opaque {
			continue
		}
		if version != NoVersion && version != v {
			return 0, Invalid(FieldError{Field: "If-Match", Message: "must name one version of the resource"})
		}
		version = v
	}
	return version, nil
}
