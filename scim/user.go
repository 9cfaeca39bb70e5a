package scim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"

	"github.com/rosterhq/roster"
)

// userHandler serves /Users for the library: it maps SCIM attributes to
// Roster users and back, and leaves every rule to the UserService.
type userHandler struct {
	listedByRoster
	users     roster.UserService
	passwords roster.PasswordFlow
}

var _ scim.ResourceHandler = userHandler{}

// ownUserAttributes are the SCIM attributes Roster keeps in its own columns;
// the rest of a user's attributes are kept as sent. password is never kept
// here, and groups and meta are computed.
var ownUserAttributes = []string{"id", "schemas", "meta", "userName", "displayName", "active", "externalId", "password", "groups"}

func (h userHandler) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	u := roster.NewUser()
	if err := docToUser(attrs, u); err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	if err := h.setPassword(r, attrs, u); err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	created, err := h.users.CreateUser(r.Context(), tenantID(r), actor(r), u)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return userResource(created), nil
}

func (h userHandler) Get(r *http.Request, id string) (scim.Resource, error) {
	u, err := h.users.FindUserByID(r.Context(), tenantID(r), id)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return userResource(u), nil
}

// Replace is PUT: the resource becomes what the body says; attributes the
// body leaves out are cleared.
func (h userHandler) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	u, err := h.users.UpdateUser(r.Context(), tenantID(r), actor(r), id, ifVersion, func(u *roster.User) error {
		u.GivenName, u.FamilyName, u.DisplayName, u.ExternalID, u.Attributes = "", "", "", nil, nil
		if _, ok := attrs["active"]; !ok {
			attrs["active"] = true
		}
		if err := docToUser(attrs, u); err != nil {
			return err
		}
		return h.setPassword(r, attrs, u)
	})
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return userResource(u), nil
}

func (h userHandler) Delete(r *http.Request, id string) error {
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return handlerError(r, err)
	}
	if err := h.users.DeleteUser(r.Context(), tenantID(r), actor(r), id, ifVersion); err != nil {
		return handlerError(r, err)
	}
	return nil
}

// Patch applies the operations to the user's SCIM attributes, with the row
// locked, and stores the result.
func (h userHandler) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	u, err := h.users.UpdateUser(r.Context(), tenantID(r), actor(r), id, ifVersion, func(u *roster.User) error {
		doc := userToDoc(u)
		if err := applyPatch(doc, ops); err != nil {
			return err
		}
		if err := docToUser(doc, u); err != nil {
			return err
		}
		return h.setPassword(r, doc, u)
	})
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return userResource(u), nil
}

// setPassword takes a password an identity provider pushes (Okta's password
// sync) through the tenant's password policy into a hash on u; the password
// itself is kept nowhere and never returned.
func (h userHandler) setPassword(r *http.Request, doc map[string]any, u *roster.User) error {
	pw, _ := doc[canonicalKey(doc, "password")].(string)
	if pw == "" {
		return nil
	}
	return h.passwords.SetPassword(r.Context(), tenantID(r), u, pw)
}

// userToDoc is a user's SCIM attributes, without id and meta.
func userToDoc(u *roster.User) map[string]any {
	doc := map[string]any{}
	_ = json.Unmarshal(u.Attributes, &doc) // stored by docToUser: always an object
	doc["userName"] = u.UserName
	doc["active"] = u.Active
	if u.DisplayName != "" {
		doc["displayName"] = u.DisplayName
	}
	if u.ExternalID != nil {
		doc["externalId"] = *u.ExternalID
	}
	name := childMap(doc, "name")
	if u.GivenName != "" {
		name["givenName"] = u.GivenName
	}
	if u.FamilyName != "" {
		name["familyName"] = u.FamilyName
	}
	if len(name) == 0 {
		delete(doc, "name")
	}
	if emails, _ := doc["emails"].([]any); !hasEmail(emails, u.Email) {
		doc["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	return doc
}

// docToUser writes SCIM attributes onto u: Roster's own fields into their
// columns, everything else into Attributes, as sent.
func docToUser(doc map[string]any, u *roster.User) error {
	rest := map[string]any{}
	for k, v := range doc {
		rest[k] = v
	}
	for _, k := range ownUserAttributes {
		delete(rest, canonicalKey(rest, k))
	}
	if v, ok := doc[canonicalKey(doc, "userName")].(string); ok {
		u.UserName = v
	}
	if v, ok := doc[canonicalKey(doc, "displayName")].(string); ok {
		u.DisplayName = v
	}
	switch v := doc[canonicalKey(doc, "active")].(type) {
	case bool:
		u.Active = v
	case nil:
	default:
		return errors.ScimError{Status: http.StatusBadRequest, ScimType: errors.ScimTypeInvalidValue, Detail: "active must be a boolean"}
	}
	if v, ok := doc[canonicalKey(doc, "externalId")].(string); ok {
		u.ExternalID = &v
	} else {
		u.ExternalID = nil
	}
	if name, ok := rest[canonicalKey(rest, "name")].(map[string]any); ok {
		u.GivenName, _ = name[canonicalKey(name, "givenName")].(string)
		u.FamilyName, _ = name[canonicalKey(name, "familyName")].(string)
		others := map[string]any{}
		for k, v := range name {
			if !strings.EqualFold(k, "givenName") && !strings.EqualFold(k, "familyName") {
				others[k] = v
			}
		}
		rest[canonicalKey(rest, "name")] = others
		if len(others) == 0 {
			delete(rest, canonicalKey(rest, "name"))
		}
	} else {
		u.GivenName, u.FamilyName = "", ""
	}
	u.Email, u.EmailAsGiven = primaryEmail(rest[canonicalKey(rest, "emails")]), true
	if u.Email == "" && strings.Contains(u.UserName, "@") {
		u.Email = u.UserName // Roster keeps an email for every user; an email-shaped userName is one
	}
	canonicalize(rest, userFilterSchema.core)
	if key := canonicalKey(rest, enterpriseSchemaURN); key != enterpriseSchemaURN {
		rest[enterpriseSchemaURN] = rest[key]
		delete(rest, key)
	}
	if ext, ok := rest[enterpriseSchemaURN].(map[string]any); ok {
		canonicalize(ext, userFilterSchema.extension)
	}
	raw, err := json.Marshal(rest)
	if err != nil {
		return errors.ScimErrorInvalidValue
	}
	u.Attributes = raw
	return nil
}

// canonicalize renames the keys of attributes to RFC 7643's spelling
// (attribute names are case-insensitive), so that a filter, which looks a
// stored attribute up by that spelling, finds it however the client wrote it.
func canonicalize(doc map[string]any, def attrDef) {
	for _, k := range slices.Collect(maps.Keys(doc)) {
		d := def.find(k)
		if d == nil {
			continue
		}
		v := doc[k]
		if d.name != k {
			delete(doc, k)
			doc[d.name] = v
		}
		switch v := v.(type) {
		case map[string]any:
			canonicalize(v, *d)
		case []any:
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					canonicalize(m, *d)
				}
			}
		}
	}
}

// primaryEmail picks the user's one email from SCIM emails: the primary,
// else the work one, else the first.
func primaryEmail(v any) string {
	emails, _ := v.([]any)
	var work, first string
	for _, e := range emails {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		value, _ := m[canonicalKey(m, "value")].(string)
		if value == "" {
			continue
		}
		if primary, _ := m[canonicalKey(m, "primary")].(bool); primary {
			return value
		}
		if t, _ := m[canonicalKey(m, "type")].(string); strings.EqualFold(t, "work") && work == "" {
			work = value
		}
		if first == "" {
			first = value
		}
	}
	if work != "" {
		return work
	}
	return first
}

func hasEmail(emails []any, email string) bool {
	for _, e := range emails {
		if m, ok := e.(map[string]any); ok {
			if v, _ := m[canonicalKey(m, "value")].(string); strings.EqualFold(v, email) {
				return true
			}
		}
	}
	return false
}

// userResource is a user as the library renders it. Its attribute map is
// new on every call: the library writes id, schemas and meta into it.
func userResource(u *roster.User) scim.Resource {
	doc := userToDoc(u)
	delete(doc, "externalId")
	created, modified := u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	res := scim.Resource{
		ID:         u.ID,
		Attributes: doc,
		Meta:       scim.Meta{Created: &created, LastModified: &modified, Version: weakETag(u.Version)},
	}
	if u.ExternalID != nil {
		res.ExternalID = optional.NewString(*u.ExternalID)
	}
	return res
}
