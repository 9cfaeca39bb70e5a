package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// signInResponse is one attempt of GET /me/sign-ins and GET
// /users/{id}/sign-ins.
type signInResponse struct {
	ID        string   `json:"id"`
	At        string   `json:"at"`
	Address   string   `json:"address"`
	UserAgent string   `json:"user_agent"`
	Method    string   `json:"method"`
	Result    string   `json:"result"`
	Reason    *string  `json:"reason"`
	AMR       []string `json:"amr"`
}

func newSignInResponse(a *roster.SignInAttempt) signInResponse {
	out := signInResponse{ID: a.ID, At: timestamp(a.At), Address: a.Address, UserAgent: a.UserAgent,
		Method: a.Method, Result: a.Result, AMR: a.AMR}
	if a.Reason != "" {
		out.Reason = &a.Reason
	}
	if out.AMR == nil {
		out.AMR = []string{}
	}
	return out
}

// listSignIns answers a page of the user's sign-in history.
func (s *Server) listSignIns(w http.ResponseWriter, r *http.Request, userID string) {
	query := r.URL.Query()
	if err := onlyParams(query, "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.SignInFilter{Cursor: query.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.SignIns.FindSignIns(r.Context(), tenantID(r), userID, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newSignInResponse))
}

// listMySignIns serves GET /me/sign-ins.
func (s *Server) listMySignIns(w http.ResponseWriter, r *http.Request) {
	id, err := roster.PrincipalFromContext(r.Context()).SelfUserID()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.listSignIns(w, r, id)
}

// listUserSignIns serves GET /users/{id}/sign-ins.
func (s *Server) listUserSignIns(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Users.FindUserByID(r.Context(), tenantID(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	s.listSignIns(w, r, chi.URLParam(r, "id"))
}
