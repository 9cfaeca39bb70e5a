package api

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/rosterhq/roster"
)

// startSSO serves GET /auth/sso/start: a redirect to the identity
// provider of the connection named, or of the email's domain.
func (s *Server) startSSO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := onlyParams(q, "tenant", "connection", "email", "return_to", "force_authn"); err != nil {
		s.Error(w, r, err)
		return
	}
	force, bad := queryBool(q, "force_authn")
	if bad != nil {
		s.Error(w, r, roster.Invalid(*bad))
		return
	}
	to, err := s.SSO.Start(r.Context(), roster.SSOStart{IP: clientIP(r), Tenant: q.Get("tenant"), ConnectionID: q.Get("connection"),
		Email: q.Get("email"), ReturnTo: q.Get("return_to"), ForceAuthn: force != nil && *force})
	s.redirectSSO(w, r, to, err, http.StatusFound)
}

// oidcCallback serves GET /auth/sso/oidc/callback, where the provider
// sends the browser back. Providers add parameters of their own
// (session_state, iss), so unknown ones are not refused.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to, err := s.SSO.OIDCCallback(r.Context(), q.Get("state"), q.Get("code"), q.Get("error"))
	s.redirectSSO(w, r, to, err, http.StatusSeeOther)
}

// samlACS serves POST /auth/sso/saml/acs: the provider's response, posted
// by the browser as a form (HTTP-POST binding).
func (s *Server) samlACS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.Error(w, r, roster.Invalid(roster.FieldError{Field: "SAMLResponse", Message: "must be posted as a form"}))
		return
	}
	if r.PostForm.Get("SAMLResponse") == "" {
		s.Error(w, r, roster.Invalid(roster.FieldError{Field: "SAMLResponse", Message: "is required"}))
		return
	}
	to, err := s.SSO.SAMLACS(r.Context(), clientIP(r), r.PostForm.Get("SAMLResponse"), r.PostForm.Get("RelayState"))
	s.redirectSSO(w, r, to, err, http.StatusSeeOther)
}

// redirectSSO sends the browser on (to the provider, or back with its
// one-time code), or answers the failure: a browser (it accepts HTML)
// back to the page it came from, with the reason in the fragment, where
// the page shows it; any other client as problem+json.
func (s *Server) redirectSSO(w http.ResponseWriter, r *http.Request, to string, err error, status int) {
	if err != nil && (to == "" || !acceptsHTML(r)) {
		s.Error(w, r, err)
		return
	}
	if err != nil {
		to += "#" + url.Values{"sso_error": {roster.ErrorMessage(err)}}.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to, status)
}

// exchangeSSOCode serves POST /auth/sso/exchange: the one-time code of a
// finished federated sign-in for tokens.
func (s *Server) exchangeSSOCode(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("code")
	code := body.required("code")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, err := s.SSO.Exchange(r.Context(), clientIP(r), code)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}

// ssoButton is a connection as a sign-in page shows it.
type ssoButton struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// listSSOButtons serves GET /auth/sso/connections?tenant=: the enabled
// connections a sign-in page offers, by name only.
func (s *Server) listSSOButtons(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := onlyParams(q, "tenant"); err != nil {
		s.Error(w, r, err)
		return
	}
	if q.Get("tenant") == "" {
		s.Error(w, r, roster.Invalid(roster.FieldError{Field: "tenant", Message: "is required"}))
		return
	}
	list, err := s.SSO.PublicConnections(r.Context(), q.Get("tenant"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	items := make([]ssoButton, 0, len(list))
	for _, c := range list {
		items = append(items, ssoButton{ID: c.ID, Name: c.Name, Type: c.Type})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// acceptsHTML reports whether the request comes from a browser's
// navigation, which asks for text/html.
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/html" {
			return true
		}
	}
	return false
}
