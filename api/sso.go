package api

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// connectionResponse is a connection as admins see it: never its secret,
// but whether one is set, and for SAML what to paste at the provider.
type connectionResponse struct {
	*roster.SSOConnection
	ClientSecretSet bool   `json:"client_secret_set"`
	SPEntityID      string `json:"sp_entity_id,omitempty"`
	ACSURL          string `json:"acs_url,omitempty"`
	SPMetadataURL   string `json:"sp_metadata_url,omitempty"`
	RedirectURI     string `json:"redirect_uri,omitempty"`
}

func (s *Server) newConnectionResponse(c *roster.SSOConnection) connectionResponse {
	e := s.SSO.Endpoints(c)
	resp := connectionResponse{SSOConnection: c, RedirectURI: e.RedirectURI, SPEntityID: e.EntityID, ACSURL: e.ACSURL,
		SPMetadataURL: e.EntityID}
	if c.Type == roster.SSOTypeOIDC {
		resp.ClientSecretSet = len(c.SealedSecret) > 0
	}
	return resp
}

// connectionFields are the fields a connection is written with.
var connectionFields = []string{"type", "name", "issuer", "client_id", "client_secret", "scopes", "domains", "jit",
	"default_role", "claims", "group_roles", "enabled", "trust_idp_mfa", "force_authn", "idp_metadata_xml", "idp_metadata_url",
	"attributes", "allow_idp_initiated"}

// decodeConnection writes the fields body has onto c.
func decodeConnection(body *object, c *roster.SSOConnection) {
	body.only(connectionFields...)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"type", &c.Type}, {"name", &c.Name}, {"issuer", &c.Issuer}, {"client_id", &c.ClientID},
		{"client_secret", &c.ClientSecret}, {"default_role", &c.DefaultRole},
		{"idp_metadata_xml", &c.IdPMetadataXML}, {"idp_metadata_url", &c.IdPMetadataURL}} {
		if v := body.string(f.name); v != nil {
			*f.dst = *v
		}
	}
	if v := body.strings("scopes"); v != nil {
		c.Scopes = v
	}
	if v := body.strings("domains"); v != nil {
		c.Domains = v
	}
	setBool(&c.JIT, body.bool("jit"))
	setBool(&c.Enabled, body.bool("enabled"))
	setBool(&c.TrustIdPMFA, body.bool("trust_idp_mfa"))
	setBool(&c.ForceAuthn, body.bool("force_authn"))
	setBool(&c.AllowIdPInitiated, body.bool("allow_idp_initiated"))
	decodeMapping(body, "claims", &c.Claims)
	decodeMapping(body, "attributes", &c.Attributes)
	if raw, ok := body.fields["group_roles"]; ok {
		m := map[string]string{}
		if string(raw) == "null" || json.Unmarshal(raw, &m) != nil {
			body.fail("group_roles", "must be an object of group names to roles")
		} else {
			c.GroupRoles = m
		}
	}
}

// decodeMapping reads a claims or attributes object onto m.
func decodeMapping(body *object, name string, m *roster.SSOMapping) {
	o := body.object(name)
	if o == nil {
		return
	}
	o.only("email", "given_name", "family_name", "groups")
	for _, f := range []struct {
		name string
		dst  *string
	}{{"email", &m.Email}, {"given_name", &m.GivenName}, {"family_name", &m.FamilyName}, {"groups", &m.Groups}} {
		if v := o.string(f.name); v != nil {
			*f.dst = *v
		}
	}
}

// createConnection serves POST /sso/connections.
func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	c := &roster.SSOConnection{JIT: true, Enabled: true}
	body.need("type", "name")
	decodeConnection(body, c)
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	created, err := s.SSO.CreateConnection(r.Context(), tenantID(r), actor(r), c)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sso/connections/"+created.ID)
	writeJSON(w, http.StatusCreated, s.newConnectionResponse(created))
}

// listConnections serves GET /sso/connections.
func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	list, err := s.SSO.ListConnections(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	items := make([]connectionResponse, 0, len(list))
	for _, c := range list {
		items = append(items, s.newConnectionResponse(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// getConnection serves GET /sso/connections/{id}.
func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) {
	c, err := s.SSO.FindConnection(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newConnectionResponse(c))
}

// updateConnection serves PATCH /sso/connections/{id}: the fields given.
func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	decodeConnection(body, &roster.SSOConnection{}) // reports bad fields before any lookup
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := s.SSO.UpdateConnection(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), func(c *roster.SSOConnection) error {
		decodeConnection(body, c)
		return nil
	})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newConnectionResponse(c))
}

// deleteConnection serves DELETE /sso/connections/{id}.
func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	if err := s.SSO.DeleteConnection(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// samlMetadata serves GET /sso/connections/{id}/saml/metadata: the SP
// metadata to give the identity provider.
func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := s.SSO.SAMLMetadata(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(md)
}
