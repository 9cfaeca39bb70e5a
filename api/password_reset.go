package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// resetRequested is the answer to every reset request, whoever it names.
const resetRequested = "If the organisation has an active account with this address, a link to reset its password is on its way. It works once, for an hour."

// requestPasswordReset serves POST /auth/password-reset, without a
// credential. The answer is the same whether or not the account exists.
func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) {
	tenant, email, err := decodeTenantEmail(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.PasswordResets.RequestReset(r.Context(), clientIP(r), tenant, email); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"detail": resetRequested})
}

// confirmPasswordReset serves POST /auth/password-reset/confirm, without a
// credential: the token of the link is the credential.
func (s *Server) confirmPasswordReset(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("token", "new_password")
	token, password := body.required("token"), body.required("new_password")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.SetupLinks.Accept(r.Context(), roster.RequestIDFromContext(r.Context()), token, password); err != nil {
		s.Error(w, r, renameField(err, "password", "new_password"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sendPasswordReset serves POST /users/{id}/password-reset.
func (s *Server) sendPasswordReset(w http.ResponseWriter, r *http.Request) {
	if err := s.PasswordResets.SendReset(r.Context(), actor(r), tenantID(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"detail": "A link to reset the password is on its way to the user. It works once, for an hour."})
}

// renameField gives the field errors of err named from the name the
// request used for it.
func renameField(err error, from, to string) error {
	var e *roster.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	renamed := *e
	renamed.Fields = make([]roster.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if f.Field == from {
			f.Field = to
		}
		renamed.Fields[i] = f
	}
	renamed.Message = strings.Replace(e.Message, from+":", to+":", 1)
	return &renamed
}

// decodeTenantEmail reads a body of exactly a tenant (id or slug) and an
// email: what asking for a link by mail takes.
func decodeTenantEmail(r *http.Request) (tenant, email string, err error) {
	body, err := decodeObject(r)
	if err != nil {
		return "", "", err
	}
	body.only("tenant", "email")
	tenant, email = body.required("tenant"), body.required("email")
	return tenant, email, body.err()
}
