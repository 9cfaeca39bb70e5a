package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

type webhookDeliveryResponse struct {
	ID            string  `json:"id"`
	WebhookID     string  `json:"webhook_id"`
	EventID       string  `json:"event_id"`
	EventType     string  `json:"event_type"`
	Status        string  `json:"status"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at"`
	LastAttemptAt *string `json:"last_attempt_at"`
	ResponseCode  *int    `json:"response_code"`
	LatencyMS     *int    `json:"latency_ms"`
	LastError     *string `json:"last_error"`
	CreatedAt     string  `json:"created_at"`
}

func newWebhookDeliveryResponse(d *roster.WebhookDelivery) webhookDeliveryResponse {
	resp := webhookDeliveryResponse{ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType,
		Status: d.Status, Attempts: d.Attempts, NextAttemptAt: optionalTimestamp(d.NextAttemptAt),
		LastAttemptAt: optionalTimestamp(d.LastAttemptAt), ResponseCode: d.ResponseCode, LatencyMS: d.LatencyMS,
		CreatedAt: timestamp(d.CreatedAt)}
	if d.LastError != "" {
		resp.LastError = &d.LastError
	}
	return resp
}

// testWebhook serves POST /webhooks/{id}/test: a webhook.test event to
// this webhook alone, sent by the worker at once; 202 with its delivery.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	d, err := s.Webhooks.TestWebhook(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, newWebhookDeliveryResponse(d))
}

// listWebhookDeliveries serves GET /webhooks/{id}/deliveries: status,
// limit and cursor; newest first.
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "status", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.WebhookDeliveryFilter{Status: query.Get("status"), Cursor: query.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Webhooks.FindWebhookDeliveries(r.Context(), tenantID(r), chi.URLParam(r, "id"), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newWebhookDeliveryResponse))
}

// retryWebhookDelivery serves POST /webhooks/{id}/deliveries/{delivery}/retry:
// the delivery is due again at once, its attempts counted anew; 202.
func (s *Server) retryWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.Webhooks.RetryWebhookDelivery(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"),
		chi.URLParam(r, "delivery"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, newWebhookDeliveryResponse(d))
}
