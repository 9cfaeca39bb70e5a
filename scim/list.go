package scim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"

	"github.com/rosterhq/roster"
)

// listedByRoster completes the library's ResourceHandler for a resource
// whose lists Roster serves itself (listUsers, listGroups), with the
// filter as SQL: the library never routes a list to GetAll.
type listedByRoster struct{}

func (listedByRoster) GetAll(r *http.Request, _ scim.ListRequestParams) (scim.Page, error) {
	return scim.Page{}, handlerError(r, roster.Errorf(roster.EINTERNAL, "lists are served by Roster, not the library"))
}

const listResponseURN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// Page sizes of SCIM lists.
const (
	defaultCount = 100
	maxCount     = 1000 // advertised as filter.maxResults
)

// listParams are a list request's startIndex, count, sortBy and sortOrder.
type listParams struct {
	startIndex, count int
	sortBy            string
	descending        bool
}

// parseListParams reads the paging and sorting parameters. RFC 7644 §3.4.2.4:
// startIndex below 1 means 1, a negative count means 0; values that are not
// integers are refused.
func parseListParams(r *http.Request, sortable map[string]string) (listParams, error) {
	q := r.URL.Query()
	p := listParams{startIndex: 1, count: defaultCount}
	for name, dst := range map[string]*int{"startIndex": &p.startIndex, "count": &p.count} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return p, roster.Invalid(roster.FieldError{Field: name, Message: "must be an integer"})
			}
			*dst = n
		}
	}
	p.startIndex = max(p.startIndex, 1)
	p.count = min(max(p.count, 0), maxCount)
	if v := q.Get("sortBy"); v != "" {
		attr, ok := sortable[strings.ToLower(strings.TrimPrefix(strings.ToLower(v), strings.ToLower(userSchemaURN)+":"))]
		if !ok {
			return p, roster.Invalid(roster.FieldError{Field: "sortBy", Message: "cannot sort by " + v})
		}
		p.sortBy = attr
	}
	switch strings.ToLower(q.Get("sortOrder")) {
	case "", "ascending":
	case "descending":
		p.descending = true
	default:
		return p, roster.Invalid(roster.FieldError{Field: "sortOrder", Message: "must be ascending or descending"})
	}
	return p, nil
}

var userSortable = map[string]string{
	"id": roster.AttrID, "username": roster.AttrUserName, "externalid": roster.AttrExternalID,
	"displayname": roster.AttrDisplayName, "name.givenname": roster.AttrGivenName,
	"name.familyname": roster.AttrFamilyName, "emails": roster.AttrEmail, "emails.value": roster.AttrEmail,
	"active": roster.AttrActive, "meta.created": roster.AttrCreatedAt, "meta.lastmodified": roster.AttrUpdatedAt,
}

var groupSortable = map[string]string{
	"id": roster.AttrID, "displayname": roster.AttrDisplayName, "externalid": roster.AttrExternalID,
	"meta.created": roster.AttrCreatedAt, "meta.lastmodified": roster.AttrUpdatedAt,
}

// listUsers serves GET /Users: the filter becomes SQL, the window an
// ordered LIMIT/OFFSET with the total count.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	p, err := parseListParams(r, userSortable)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := roster.UserQuery{SortBy: p.sortBy, Descending: p.descending, Offset: p.startIndex - 1, Count: p.count}
	if f := r.URL.Query().Get("filter"); f != "" {
		if q.Where, err = parseUserFilter(f); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	users, total, err := s.Users.QueryUsers(r.Context(), tenantID(r), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resources := make([]any, len(users))
	for i, u := range users {
		resources[i] = render(userResource(u), "User", userSchemaURN, enterpriseSchemaURN)
	}
	writeList(w, total, p.startIndex, resources)
}

// listGroups serves GET /Groups, without members unless asked for them.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	p, err := parseListParams(r, groupSortable)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := roster.GroupQuery{SortBy: p.sortBy, Descending: p.descending, Offset: p.startIndex - 1, Count: p.count}
	if f := r.URL.Query().Get("filter"); f != "" {
		if q.Where, err = parseGroupFilter(f); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	groups, total, err := s.Groups.QueryGroups(r.Context(), tenantID(r), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withMembers := wantsMembers(r) && r.URL.Query().Get("attributes") != ""
	resources := make([]any, len(groups))
	for i, g := range groups {
		if withMembers {
			if g, err = s.Groups.FindGroupByID(r.Context(), tenantID(r), g.ID, true); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		resources[i] = render(groupResource(g), "Group", groupSchemaURN)
	}
	writeList(w, total, p.startIndex, resources)
}

func writeList(w http.ResponseWriter, total, startIndex int, resources []any) {
	w.Header().Set("Content-Type", "application/scim+json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"schemas":      []string{listResponseURN},
		"totalResults": total,
		"startIndex":   startIndex,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	})
}

// render is a resource as the library renders a single one: attributes,
// id, externalId, schemas and meta.
func render(res scim.Resource, resourceType string, schemas ...string) map[string]any {
	out := map[string]any(res.Attributes)
	out["id"] = res.ID
	if res.ExternalID.Present() {
		out["externalId"] = res.ExternalID.Value()
	}
	out["schemas"] = schemas
	meta := map[string]any{
		"resourceType": resourceType,
		"location":     resourceType + "s/" + res.ID,
		"version":      res.Meta.Version,
	}
	if res.Meta.Created != nil {
		meta["created"] = res.Meta.Created.Format(time.RFC3339)
	}
	if res.Meta.LastModified != nil {
		meta["lastModified"] = res.Meta.LastModified.Format(time.RFC3339)
	}
	out["meta"] = meta
	return out
}
