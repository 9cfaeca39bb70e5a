package roster

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook is a tenant's endpoint that receives its events, signed as the
// Standard Webhooks specification says. The signing secret is shown once,
// when the webhook is made, and kept sealed.
type Webhook struct {
	ID          string
	TenantID    string
	URL         string
	Description string
	Events      []string // event types, from EventTypes
	Enabled     bool
	// DisabledReason says why the worker disabled the webhook; "" when an
	// admin did, or when it is enabled.
	DisabledReason string
	FailingSince   *time.Time // when deliveries started failing; nil when the last one succeeded
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookUpdate is a PATCH of a webhook; nil fields are left as they are.
type WebhookUpdate struct {
	URL         *string
	Description *string
	Events      []string // nil: unchanged
	Enabled     *bool
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed" // given up, or its webhook was disabled
)

// WebhookDelivery is one event sent, or to be sent, to one webhook.
type WebhookDelivery struct {
	ID            string
	TenantID      string
	WebhookID     string
	EventID       string
	EventType     string
	Status        string
	Attempts      int
	NextAttemptAt *time.Time // when pending
	LastAttemptAt *time.Time
	ResponseCode  *int // the endpoint's last HTTP status, nil when it did not answer
	LatencyMS     *int
	LastError     string
	CreatedAt     time.Time
}

// WebhookDeliveryFilter selects a page of a webhook's deliveries, newest
// first.
type WebhookDeliveryFilter struct {
	Status string
	Limit  int
	Cursor string
}

// WebhookDeliveryPage is one page of deliveries and the cursor of the next.
type WebhookDeliveryPage struct {
	Items      []*WebhookDelivery
	NextCursor string
}

// Limits of a webhook's fields.
const (
	MaxWebhookURLLength         = 2000
	MaxWebhookDescriptionLength = 500
	// MaxWebhooksPerTenant bounds the worker's fan-out per event.
	MaxWebhooksPerTenant = 20
)

// Validate checks a webhook's URL, description and event types. It does not
// judge the address the URL's host resolves to: that is checked when a
// delivery connects, after DNS. EINVALID naming each field at fault.
func (w *Webhook) Validate() error {
	var errs []FieldError
	if msg := WebhookURLProblem(w.URL); msg != "" {
		errs = append(errs, FieldError{Field: "url", Message: msg})
	}
	if msg := StoredTextProblem(w.Description); msg != "" {
		errs = append(errs, FieldError{Field: "description", Message: msg})
	} else if utf8.RuneCountInString(w.Description) > MaxWebhookDescriptionLength {
		errs = append(errs, FieldError{Field: "description", Message: "must be at most 500 characters"})
	}
	if len(w.Events) == 0 {
		errs = append(errs, FieldError{Field: "events", Message: "must name at least one event type"})
	}
	for _, t := range w.Events {
		if !IsEventType(t) {
			errs = append(errs, FieldError{Field: "events", Message: "has an unknown event type (known: " + strings.Join(EventTypes(), ", ") + ")"})
			break
		}
	}
	if len(errs) > 0 {
		return Invalid(errs...)
	}
	slices.Sort(w.Events)
	w.Events = slices.Compact(w.Events)
	return nil
}

// WebhookURLProblem says what is wrong with a webhook URL, "" when nothing:
// it must be an absolute http or https URL with a host and no user
// information (credentials in a URL are shown to every admin).
func WebhookURLProblem(raw string) string {
	if raw == "" {
		return "is required"
	}
	if msg := StoredTextProblem(raw); msg != "" {
		return msg
	}
	if len(raw) > MaxWebhookURLLength {
		return "must be at most 2000 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "must be an absolute http or https URL"
	}
	if u.User != nil {
		return "must not hold a user name or password"
	}
	if u.Fragment != "" {
		return "must not have a fragment"
	}
	return ""
}

// WebhookService stores a tenant's webhooks and their deliveries. Every
// method is scoped to tenantID; a webhook of another tenant is ENOTFOUND.
type WebhookService interface {
	// CreateWebhook validates and stores w with its signing secret, sealed.
	// The webhook receives events committed from now on. EINVALID,
	// ECONFLICT past MaxWebhooksPerTenant.
	CreateWebhook(ctx context.Context, tenantID string, by Actor, w *Webhook, secret []byte) (*Webhook, error)
	// FindWebhooks lists the tenant's webhooks, oldest first.
	FindWebhooks(ctx context.Context, tenantID string) ([]*Webhook, error)
	// FindWebhookByID returns one webhook. ENOTFOUND.
	FindWebhookByID(ctx context.Context, tenantID, id string) (*Webhook, error)
	// UpdateWebhook applies upd. Enabling a disabled webhook starts it at
	// the events committed from then on (the feed has the ones between).
	// ENOTFOUND, EINVALID.
	UpdateWebhook(ctx context.Context, tenantID string, by Actor, id string, upd WebhookUpdate) (*Webhook, error)
	// DeleteWebhook removes a webhook and its deliveries. ENOTFOUND.
	DeleteWebhook(ctx context.Context, tenantID string, by Actor, id string) error
	// TestWebhook queues a webhook.test event for the webhook alone, due
	// at once. ENOTFOUND, ECONFLICT when the webhook is disabled.
	TestWebhook(ctx context.Context, tenantID string, by Actor, id string) (*WebhookDelivery, error)
	// FindWebhookDeliveries returns a page of a webhook's deliveries,
	// newest first. ENOTFOUND, EINVALID for a bad filter.
	FindWebhookDeliveries(ctx context.Context, tenantID, webhookID string, f WebhookDeliveryFilter) (*WebhookDeliveryPage, error)
	// RetryWebhookDelivery makes a delivery pending and due at once, its
	// retry schedule started again. ENOTFOUND, ECONFLICT when the webhook
	// is disabled or the delivery is being sent.
	RetryWebhookDelivery(ctx context.Context, tenantID string, by Actor, webhookID, id string) (*WebhookDelivery, error)
}

// OutgoingWebhook is a claimed delivery with what sending it takes: the
// endpoint, its signing secret (opened) and the event.
type OutgoingWebhook struct {
	Delivery *WebhookDelivery
	URL      string
	Secret   []byte
	Event    *Event
}

// WebhookOutbox is what the delivery worker needs.
type WebhookOutbox interface {
	// FanOutEvents makes the deliveries of events committed since each
	// enabled webhook's position, for at most n webhooks, and reports how
	// many deliveries it made.
	FanOutEvents(ctx context.Context, n int) (int, error)
	// ClaimWebhookDeliveries takes up to n due deliveries of enabled
	// webhooks, counts an attempt on each and hides them from other
	// workers until lease passes. A secret that does not open fails its
	// delivery for good.
	ClaimWebhookDeliveries(ctx context.Context, n int, lease time.Duration) ([]*OutgoingWebhook, error)
	// WebhookDelivered records a successful attempt.
	WebhookDelivered(ctx context.Context, d *WebhookDelivery, code, latencyMS int) error
	// WebhookAttemptFailed records a failed attempt (code 0 when the
	// endpoint did not answer): retried at retryAt, or failed for good when
	// retryAt is nil. An endpoint failing for longer than disableAfter is
	// disabled, its pending deliveries failed, and its tenant's admins are
	// told by email.
	WebhookAttemptFailed(ctx context.Context, d *WebhookDelivery, code, latencyMS int, reason string, retryAt *time.Time, disableAfter time.Duration) error
}
