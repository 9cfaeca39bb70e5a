package scim

import (
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster"
)

// groupHandler serves /Groups for the library. Member changes become
// explicit adds and removes, so a PATCH never reads a whole membership.
type groupHandler struct {
	listedByRoster
	groups roster.GroupService
}

var _ scim.ResourceHandler = groupHandler{}

func (h groupHandler) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	g := &roster.Group{}
	g.DisplayName, _ = attrs["displayName"].(string)
	if v, ok := attrs["externalId"].(string); ok {
		g.ExternalID = &v
	}
	for _, id := range memberValues(attrs["members"]) {
		g.Members = append(g.Members, roster.GroupMember{UserID: id})
	}
	created, err := h.groups.CreateGroup(r.Context(), tenantID(r), actor(r), g)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return h.resource(r, created.ID)
}

func (h groupHandler) Get(r *http.Request, id string) (scim.Resource, error) {
	return h.resource(r, id)
}

// resource reads a group as the library renders it, with its members unless
// the client excluded them (a group may have a hundred thousand).
func (h groupHandler) resource(r *http.Request, id string) (scim.Resource, error) {
	g, err := h.groups.FindGroupByID(r.Context(), tenantID(r), id, wantsMembers(r))
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return groupResource(g), nil
}

// Replace is PUT: name, external id and the whole membership.
func (h groupHandler) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	change := roster.GroupChange{ReplaceMembers: true, Members: memberValues(attrs["members"]), ClearExternalID: true}
	if v, ok := attrs["displayName"].(string); ok {
		change.DisplayName = &v
	}
	if v, ok := attrs["externalId"].(string); ok {
		change.ExternalID, change.ClearExternalID = &v, false
	}
	if _, err := h.groups.UpdateGroup(r.Context(), tenantID(r), actor(r), id, ifVersion, []roster.GroupChange{change}); err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return h.resource(r, id)
}

func (h groupHandler) Delete(r *http.Request, id string) error {
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return handlerError(r, err)
	}
	if err := h.groups.DeleteGroup(r.Context(), tenantID(r), actor(r), id, ifVersion); err != nil {
		return handlerError(r, err)
	}
	return nil
}

// Patch turns the operations into group changes applied in one
// transaction. It answers 204 without a body unless the client asked for
// attributes: echoing a large group back is what Entra does not need.
func (h groupHandler) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	changes := make([]roster.GroupChange, 0, len(ops))
	for _, op := range ops {
		c, err := groupChange(strings.ToLower(op.Op), op.Path, op.Value)
		if err != nil {
			return scim.Resource{}, handlerError(r, err)
		}
		changes = append(changes, c)
	}
	if _, err := h.groups.UpdateGroup(r.Context(), tenantID(r), actor(r), id, ifVersion, changes); err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	if r.URL.Query().Get("attributes") == "" {
		return scim.Resource{}, nil // the library answers 204
	}
	return h.resource(r, id)
}

// groupChange maps one PATCH operation on a group.
func groupChange(op string, path *filter.Path, value any) (roster.GroupChange, error) {
	var c roster.GroupChange
	if path == nil {
		values, ok := value.(map[string]any)
		if !ok || op == scim.PatchOperationRemove {
			return c, errors.ScimErrorInvalidValue
		}
		for k, v := range values {
			switch strings.ToLower(k) {
			case "displayname":
				s, _ := v.(string)
				c.DisplayName = &s
			case "externalid":
				s, _ := v.(string)
				c.ExternalID = &s
			case "members":
				if op == scim.PatchOperationAdd {
					c.AddMembers = memberValues(v)
				} else {
					c.ReplaceMembers, c.Members = true, memberValues(v)
				}
			case "id", "schemas", "meta":
				// read-only; Okta sends the id back
			default:
				return c, errors.ScimErrorInvalidPath
			}
		}
		return c, nil
	}
	switch strings.ToLower(path.AttributePath.AttributeName) {
	case "displayname":
		s, _ := value.(string)
		if op == scim.PatchOperationRemove {
			return c, errors.ScimError{Status: http.StatusBadRequest, ScimType: errors.ScimTypeMutability, Detail: "displayName is required"}
		}
		c.DisplayName = &s
	case "externalid":
		if s, ok := value.(string); ok && op != scim.PatchOperationRemove {
			c.ExternalID = &s
		} else {
			c.ClearExternalID = true
		}
	case "members":
		ids := memberValues(value)
		if path.ValueExpression != nil {
			id, ok := memberFilterValue(path.ValueExpression)
			if !ok {
				return c, errors.ScimErrorInvalidFilter
			}
			ids = []string{id}
		}
		switch {
		case op == scim.PatchOperationAdd:
			c.AddMembers = ids
		case op == scim.PatchOperationReplace:
			c.ReplaceMembers, c.Members = true, ids
		case path.ValueExpression == nil && value == nil:
			c.ReplaceMembers = true // remove every member
		default:
			c.RemoveMembers = ids
		}
	default:
		return c, errors.ScimErrorInvalidPath
	}
	return c, nil
}

// memberFilterValue reads the id out of members[value eq "id"].
func memberFilterValue(e filter.Expression) (string, bool) {
	a, ok := e.(*filter.AttributeExpression)
	if !ok || a.Operator != filter.EQ || !strings.EqualFold(a.AttributePath.AttributeName, "value") {
		return "", false
	}
	id, ok := a.CompareValue.(string)
	return id, ok
}

// memberValues reads user ids from a members value: a list of {"value": id}.
func memberValues(v any) []string {
	var ids []string
	list, ok := v.([]any)
	if !ok {
		if m, isMap := v.(map[string]any); isMap {
			list = []any{m}
		}
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if id, ok := m[canonicalKey(m, "value")].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// wantsMembers reports whether the response should list members.
func wantsMembers(r *http.Request) bool {
	q := r.URL.Query()
	if attrs := q.Get("attributes"); attrs != "" {
		return listsAttribute(attrs, "members")
	}
	return !listsAttribute(q.Get("excludedAttributes"), "members")
}

func listsAttribute(list, name string) bool {
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if strings.EqualFold(a, name) || strings.EqualFold(a, groupSchemaURN+":"+name) ||
			strings.HasPrefix(strings.ToLower(a), strings.ToLower(name)+".") {
			return true
		}
	}
	return false
}

// groupResource is a group as the library renders it, in a fresh map.
func groupResource(g *roster.Group) scim.Resource {
	attrs := scim.ResourceAttributes{"displayName": g.DisplayName}
	if g.Members != nil {
		members := make([]any, len(g.Members))
		for i, m := range g.Members {
			members[i] = map[string]any{"value": m.UserID, "display": m.Display, "$ref": "Users/" + m.UserID, "type": "User"}
		}
		attrs["members"] = members
	}
	created, modified := g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	res := scim.Resource{
		ID:         g.ID,
		Attributes: attrs,
		Meta:       scim.Meta{Created: &created, LastModified: &modified, Version: weakETag(g.Version)},
	}
	if g.ExternalID != nil {
		res.ExternalID = optional.NewString(*g.ExternalID)
	}
	return res
}
