package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// domainResponse is a domain with where its TXT record goes.
type domainResponse struct {
	*roster.Domain
	TXTName string `json:"txt_name"`
}

// createDomain serves POST /domains: a claim and its TXT value.
func (s *Server) createDomain(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("domain")
	name := body.required("domain")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	d, err := s.Domains.Claim(r.Context(), tenantID(r), actor(r), name)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, domainResponse{d, d.TXTName()})
}

// listDomains serves GET /domains.
func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) {
	list, err := s.Domains.List(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	items := make([]domainResponse, 0, len(list))
	for _, d := range list {
		items = append(items, domainResponse{d, d.TXTName()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// verifyDomain serves POST /domains/{id}/verify.
func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request) {
	d, err := s.Domains.Verify(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, domainResponse{d, d.TXTName()})
}

// deleteDomain serves DELETE /domains/{id}.
func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request) {
	if err := s.Domains.Delete(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
