package api

import (
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster"
)

type auditEventResponse struct {
	ID         string          `json:"id"`
	OccurredAt string          `json:"occurred_at"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	RequestID  string          `json:"request_id"`
	Details    json.RawMessage `json:"details"`
}

func newAuditEventResponse(e *roster.AuditEvent) auditEventResponse {
	return auditEventResponse{
		ID: e.ID, OccurredAt: timestamp(e.OccurredAt), ActorType: e.ActorType, ActorID: e.ActorID,
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID,
		Details: e.Details,
	}
}

// listAuditEvents serves GET /audit-events: action, target_id, actor_id,
// limit and cursor; newest first.
func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "action", "target_id", "actor_id", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.AuditFilter{
		Action:   query.Get("action"),
		TargetID: query.Get("target_id"),
		ActorID:  query.Get("actor_id"),
		Cursor:   query.Get("cursor"),
	}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Audit.FindAuditEvents(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newAuditEventResponse))
}
