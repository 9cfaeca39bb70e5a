package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// passkeyResponse is a passkey as its user and admins see it; the key
// itself is never shown.
type passkeyResponse struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	CreatedAt      string   `json:"created_at"`
	LastUsedAt     *string  `json:"last_used_at"`
	UseCount       int64    `json:"use_count"`
	AAGUID         *string  `json:"aaguid"`
	Authenticator  *string  `json:"authenticator"`
	BackupEligible bool     `json:"backup_eligible"`
	BackedUp       bool     `json:"backed_up"`
	Transports     []string `json:"transports"`
	UserVerified   bool     `json:"user_verified"`
	CloneWarning   bool     `json:"clone_warning"`
}

func newPasskeyResponse(p *roster.Passkey) passkeyResponse {
	resp := passkeyResponse{
		ID: p.ID, Name: p.Name, CreatedAt: timestamp(p.CreatedAt), UseCount: p.UseCount,
		BackupEligible: p.BackupEligible, BackedUp: p.BackedUp, Transports: p.Transports,
		UserVerified: p.UserVerified, CloneWarning: p.CloneWarning,
	}
	if resp.Transports == nil {
		resp.Transports = []string{}
	}
	if p.LastUsedAt != nil {
		t := timestamp(*p.LastUsedAt)
		resp.LastUsedAt = &t
	}
	if p.AAGUID != "" {
		resp.AAGUID = &p.AAGUID
		if name := auth.AuthenticatorName(p.AAGUID); name != "" {
			resp.Authenticator = &name
		}
	}
	return resp
}

func newPasskeyList(passkeys []*roster.Passkey) map[string][]passkeyResponse {
	items := make([]passkeyResponse, 0, len(passkeys))
	for _, p := range passkeys {
		items = append(items, newPasskeyResponse(p))
	}
	return map[string][]passkeyResponse{"items": items}
}

// credential returns the field as the raw JSON of an object (a
// PublicKeyCredential), nil when absent or not an object.
func (o *object) credential(name string) []byte {
	raw, ok := o.fields[name]
	if !ok {
		o.fail(name, "is required")
		return nil
	}
	var fields map[string]json.RawMessage
	if string(raw) == "null" || json.Unmarshal(raw, &fields) != nil {
		o.fail(name, "must be a PublicKeyCredential object")
		return nil
	}
	return raw
}

// noBody refuses a body with any field: the endpoint takes none, and an
// empty body or {} will do.
func noBody(r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return roster.Errorf(roster.ETOOLARGE, "the request body is larger than %d bytes", tooLarge.Limit)
	} else if err != nil {
		return roster.Errorf(roster.EINVALID, "the request body could not be read")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	body, err := decodeObject(r)
	if err != nil {
		return err
	}
	body.only()
	return body.err()
}

// beginPasskeyRegistration serves POST /me/passkeys/register/begin.
func (s *Server) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	creation, err := s.Passkeys.BeginRegistration(r.Context(), tenantID(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, creation)
}

// finishPasskeyRegistration serves POST /me/passkeys/register/finish
// {"name", "credential"}.
func (s *Server) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "credential")
	name, credential := body.string("name"), body.credential("credential")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.Passkeys.FinishRegistration(r.Context(), tenantID(r), actor(r), userID, name, credential)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newPasskeyResponse(p))
}

// listMyPasskeys serves GET /me/passkeys.
func (s *Server) listMyPasskeys(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	s.listPasskeys(w, r, userID)
}

// listUserPasskeys serves GET /users/{id}/passkeys.
func (s *Server) listUserPasskeys(w http.ResponseWriter, r *http.Request) {
	s.listPasskeys(w, r, chi.URLParam(r, "id"))
}

func (s *Server) listPasskeys(w http.ResponseWriter, r *http.Request, userID string) {
	passkeys, err := s.Passkeys.List(r.Context(), tenantID(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPasskeyList(passkeys))
}

// renameMyPasskey serves PATCH /me/passkeys/{id} {"name"}.
func (s *Server) renameMyPasskey(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	s.renamePasskey(w, r, userID, chi.URLParam(r, "id"))
}

// renameUserPasskey serves PATCH /users/{id}/passkeys/{pid} {"name"}.
func (s *Server) renameUserPasskey(w http.ResponseWriter, r *http.Request) {
	s.renamePasskey(w, r, chi.URLParam(r, "id"), chi.URLParam(r, "pid"))
}

func (s *Server) renamePasskey(w http.ResponseWriter, r *http.Request, userID, id string) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name")
	body.need("name")
	name := body.string("name")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.Passkeys.Rename(r.Context(), tenantID(r), actor(r), userID, id, *name)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPasskeyResponse(p))
}

// removeMyPasskey serves DELETE /me/passkeys/{id}.
func (s *Server) removeMyPasskey(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	s.removePasskey(w, r, userID, chi.URLParam(r, "id"))
}

// removeUserPasskey serves DELETE /users/{id}/passkeys/{pid}; the user is
// told by email.
func (s *Server) removeUserPasskey(w http.ResponseWriter, r *http.Request) {
	s.removePasskey(w, r, chi.URLParam(r, "id"), chi.URLParam(r, "pid"))
}

func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request, userID, id string) {
	if _, err := s.Passkeys.Remove(r.Context(), tenantID(r), actor(r), userID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
