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

type auditListResponse struct {
	Items      []auditEventResponse `json:"items"`
	NextCursor *string              `json:"next_cursor"`
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
	resp := auditListResponse{Items: make([]auditEventResponse, len(page.Items))}
	for i, e := range page.Items {
		resp.Items[i] = auditEventResponse{
			ID: e.ID, OccurredAt: timestamp(e.OccurredAt), ActorType: e.ActorType, ActorID: e.ActorID,
			Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID,
			Details: e.Details,
		}
	}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	writeJSON(w, http.StatusOK, resp)
}
