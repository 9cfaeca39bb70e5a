package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// webhookRoutes are the tenant's webhooks, which admins manage as they
// manage the tenant's other settings (tenant:write), and the events feed,
// read from the audit trail (audit:read).
func (s *Server) webhookRoutes(r chi.Router) {
	r.Route("/webhooks", func(r chi.Router) {
		r.Use(s.require(roster.PermTenantWrite))
		r.With(s.noQuery).Get("/", s.listWebhooks)
		r.Post("/", s.createWebhook)
		r.Route("/{id}", func(r chi.Router) {
			r.With(s.noQuery).Get("/", s.getWebhook)
			r.Patch("/", s.updateWebhook)
			r.Delete("/", s.deleteWebhook)
			r.Post("/test", s.testWebhook)
			r.Get("/deliveries", s.listWebhookDeliveries)
			r.Post("/deliveries/{delivery}/retry", s.retryWebhookDelivery)
		})
	})
	r.With(s.require(roster.PermAuditRead)).Get("/events", s.listEvents)
}

type webhookResponse struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Description    string   `json:"description"`
	Events         []string `json:"events"`
	Enabled        bool     `json:"enabled"`
	DisabledReason *string  `json:"disabled_reason"`
	FailingSince   *string  `json:"failing_since"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	// Secret is the signing secret, in the answer that creates the webhook
	// and never again.
	Secret string `json:"secret,omitempty"`
}

func newWebhookResponse(w *roster.Webhook) webhookResponse {
	resp := webhookResponse{ID: w.ID, URL: w.URL, Description: w.Description, Events: w.Events, Enabled: w.Enabled,
		FailingSince: optionalTimestamp(w.FailingSince), CreatedAt: timestamp(w.CreatedAt), UpdatedAt: timestamp(w.UpdatedAt)}
	if w.DisabledReason != "" {
		resp.DisabledReason = &w.DisabledReason
	}
	return resp
}

// webhookFields are what a client may write of a webhook.
var webhookFields = []string{"url", "events", "description", "enabled"}

// createWebhook serves POST /webhooks: the answer holds the signing
// secret, once.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("url", "events", "description")
	body.need("url", "events")
	in := &roster.Webhook{URL: deref(body.string("url")), Events: body.strings("events"),
		Description: deref(body.string("description"))}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	key, shown, err := auth.NewWebhookSecret()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	created, err := s.Webhooks.CreateWebhook(r.Context(), tenantID(r), actor(r), in, key)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := newWebhookResponse(created)
	resp.Secret = shown
	w.Header().Set("Location", "/api/v1/webhooks/"+created.ID)
	writeJSON(w, http.StatusCreated, resp)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// listWebhooks serves GET /webhooks: all of the tenant's, oldest first.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.Webhooks.FindWebhooks(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(hooks, "", newWebhookResponse))
}

// getWebhook serves GET /webhooks/{id}.
func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := s.Webhooks.FindWebhookByID(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newWebhookResponse(hook))
}

// updateWebhook serves PATCH /webhooks/{id}.
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only(webhookFields...)
	upd := roster.WebhookUpdate{URL: body.string("url"), Description: body.string("description"),
		Events: body.strings("events"), Enabled: body.bool("enabled")}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	hook, err := s.Webhooks.UpdateWebhook(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), upd)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newWebhookResponse(hook))
}

// deleteWebhook serves DELETE /webhooks/{id}.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.Webhooks.DeleteWebhook(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
