package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
)

type eventResponse struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	TenantID  string          `json:"tenant_id"`
	Data      json.RawMessage `json:"data"`
}

func newEventResponse(e *roster.Event) eventResponse {
	return eventResponse{ID: e.ID, Type: e.Type, CreatedAt: timestamp(e.CreatedAt), TenantID: e.TenantID, Data: e.Data}
}

// eventPageResponse always carries next_cursor: the feed has no last page,
// only a place to ask from later.
type eventPageResponse struct {
	Items      []eventResponse `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

// listEvents serves GET /events: after (a cursor), types (comma-separated)
// and limit; oldest first.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "after", "types", "limit"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.EventFilter{After: query.Get("after")}
	for _, t := range strings.Split(query.Get("types"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			f.Types = append(f.Types, t)
		}
	}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Events.FindEvents(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := eventPageResponse{Items: make([]eventResponse, len(page.Items)), NextCursor: page.NextCursor}
	for i, e := range page.Items {
		resp.Items[i] = newEventResponse(e)
	}
	writeJSON(w, http.StatusOK, resp)
}
