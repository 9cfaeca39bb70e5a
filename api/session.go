package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// sessionResponse is a session as GET /me/sessions and GET
// /users/{id}/sessions show it.
type sessionResponse struct {
	ID         string   `json:"id"`
	CreatedAt  string   `json:"created_at"`
	LastSeenAt string   `json:"last_seen_at"`
	Address    string   `json:"address"`
	UserAgent  string   `json:"user_agent"`
	AMR        []string `json:"amr"`
	Current    bool     `json:"current"`
}

// listSessions answers the live sessions of the user, marking the caller's.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, userID string) {
	sessions, err := s.Sessions.ListSessions(r.Context(), tenantID(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": newSessionList(sessions, roster.PrincipalFromContext(r.Context()).SessionID)})
}

// newSessionList is sessions as the API shows them, current marking the
// caller's.
func newSessionList(sessions []*roster.Session, current string) []sessionResponse {
	items := make([]sessionResponse, 0, len(sessions))
	for _, ses := range sessions {
		amr := ses.AMR
		if amr == nil {
			amr = []string{}
		}
		items = append(items, sessionResponse{
			ID: ses.ID, CreatedAt: timestamp(ses.CreatedAt), LastSeenAt: timestamp(ses.LastSeenAt),
			Address: ses.Address, UserAgent: ses.UserAgent, AMR: amr,
			Current: current != "" && ses.ID == current,
		})
	}
	return items
}

// listMySessions serves GET /me/sessions.
func (s *Server) listMySessions(w http.ResponseWriter, r *http.Request) {
	id, err := roster.PrincipalFromContext(r.Context()).SelfUserID()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.listSessions(w, r, id)
}

// endMySession serves DELETE /me/sessions/{id}: the caller's own session
// too, which is a sign-out.
func (s *Server) endMySession(w http.ResponseWriter, r *http.Request) {
	id, err := roster.PrincipalFromContext(r.Context()).SelfUserID()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.endSessions(w, r, id, chi.URLParam(r, "sid"), "")
}

// endMyOtherSessions serves DELETE /me/sessions: every session of the
// caller but the one it is using.
func (s *Server) endMyOtherSessions(w http.ResponseWriter, r *http.Request) {
	id, err := roster.PrincipalFromContext(r.Context()).SelfUserID()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.endSessions(w, r, id, "", roster.PrincipalFromContext(r.Context()).SessionID)
}

// listUserSessions serves GET /users/{id}/sessions.
func (s *Server) listUserSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Users.FindUserByID(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	s.listSessions(w, r, chi.URLParam(r, "id"))
}

// endUserSessions serves DELETE /users/{id}/sessions: every session of the
// user, as after a stolen laptop.
func (s *Server) endUserSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Users.FindUserByID(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	s.endSessions(w, r, chi.URLParam(r, "id"), "", "")
}

// endSessions ends the user's sessions (the one with id, or all but
// except) and answers how many ended; ENOTFOUND when id names no live
// session of the user.
func (s *Server) endSessions(w http.ResponseWriter, r *http.Request, userID, id, except string) {
	n, err := s.Sessions.EndSessions(r.Context(), tenantID(r), userID, actor(r), id, except)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if id != "" && n == 0 {
		s.Error(w, r, roster.Errorf(roster.ENOTFOUND, "session not found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
}
