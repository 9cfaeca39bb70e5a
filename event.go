package roster

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Event is what webhooks receive and the events feed lists: one audit
// event of a kind a receiver cares about, under its event type. Its id is
// the audit event's, so a receiver can use it to drop a repeated delivery
// and find the change in the audit trail.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	TenantID  string          `json:"tenant_id"`
	Data      json.RawMessage `json:"data"`
}

// EventData is an event's data: what changed, who changed it and the
// audit event's details.
type EventData struct {
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	Details    json.RawMessage `json:"details"`
}

// EventWebhookTest is the type of the event POST /webhooks/{id}/test
// sends; it goes to that webhook only and is in no feed.
const EventWebhookTest = "webhook.test"

// Audit actions of webhooks, and of changes other parts of Roster audit
// under names that are already their event types.
const (
	ActionWebhookCreated  = "webhook.created"
	ActionWebhookUpdated  = "webhook.updated"
	ActionWebhookDeleted  = "webhook.deleted"
	ActionWebhookTested   = "webhook.tested"
	ActionWebhookDisabled = "webhook.disabled"
	ActionDeliveryRetried = "webhook.delivery_retried"
	// ActionUserSignInFailed is a wrong password for an existing user.
	ActionUserSignInFailed = "user.sign_in_failed"
)

// eventCondition narrows an audit action to some of its events.
type eventCondition int

const (
	anyChange eventCondition = iota
	roleChanged
	roleUnchanged
)

// eventSource maps an audit action to an event type.
type eventSource struct {
	Type   string
	Action string
	When   eventCondition
}

// eventSources is the one table of which audit events are events and under
// which type. A user update that changes the role is user.role_changed
// (its details list every change), any other is user.updated. Actions
// named here that nothing writes yet (user.erased, session.revoked) become
// events once their changes audit them.
var eventSources = []eventSource{
	{"user.created", ActionUserCreated, anyChange},
	{"user.updated", ActionUserUpdated, roleUnchanged},
	{"user.role_changed", ActionUserUpdated, roleChanged},
	{"user.deleted", ActionUserDeleted, anyChange},
	{"user.activated", ActionUserActivated, anyChange},
	{"user.activated", ActionUserEmailVerified, anyChange},
	{"user.activated", ActionUserApproved, anyChange},
	{"user.deactivated", ActionUserDeactivated, anyChange},
	{"user.erased", "user.erased", anyChange},
	{"user.signed_in", ActionUserSignedIn, anyChange},
	{"user.sign_in_failed", ActionUserSignInFailed, anyChange},
	{"user.sign_in_failed", ActionMFAChallengeFailed, anyChange},
	{"user.locked", ActionUserLocked, anyChange},
	{"mfa.enrolled", ActionMFAEnabled, anyChange},
	{"mfa.removed", ActionMFARemoved, anyChange},
	{"mfa.removed", ActionMFAReset, anyChange},
	{"passkey.registered", ActionPasskeyRegistered, anyChange},
	{"passkey.revoked", ActionPasskeyRemoved, anyChange},
	{"invitation.created", ActionInvitationCreated, anyChange},
	{"invitation.accepted", ActionInvitationAccepted, anyChange},
	{"session.revoked", "session.revoked", anyChange},
	{"session.revoked", ActionSessionRefreshReplayed, anyChange},
	{"role.created", ActionRoleCreated, anyChange},
	{"role.updated", ActionRoleUpdated, anyChange},
	{"role.deleted", ActionRoleDeleted, anyChange},
	{"grant.created", ActionGrantCreated, anyChange},
	{"grant.revoked", ActionGrantRevoked, anyChange},
	{"grant.expired", ActionGrantExpired, anyChange},
	{"api_key.created", ActionAPIKeyCreated, anyChange},
	{"api_key.rotated", ActionAPIKeyRotated, anyChange},
	{"api_key.revoked", ActionAPIKeyRevoked, anyChange},
	{"team.created", ActionTeamCreated, anyChange},
	{"team.updated", ActionTeamUpdated, anyChange},
	{"team.deleted", ActionTeamDeleted, anyChange},
	{"team.member_added", ActionTeamMemberAdded, anyChange},
	{"team.member_changed", ActionTeamMemberChanged, anyChange},
	{"team.member_removed", ActionTeamMemberRemoved, anyChange},
}

// EventTypes lists the event types, sorted.
func EventTypes() []string {
	var types []string
	for _, s := range eventSources {
		types = append(types, s.Type)
	}
	slices.Sort(types)
	return slices.Compact(types)
}

// IsEventType reports whether t is an event type.
func IsEventType(t string) bool {
	return slices.ContainsFunc(eventSources, func(s eventSource) bool { return s.Type == t })
}

// EventTypeOf returns the event type of an audit event, "" for one that
// is no event.
func EventTypeOf(e *AuditEvent) string {
	for _, s := range eventSources {
		if s.Action == e.Action && s.When.holds(e.Details) {
			return s.Type
		}
	}
	return ""
}

func (c eventCondition) holds(details json.RawMessage) bool {
	if c == anyChange {
		return true
	}
	var d struct {
		Changes map[string]json.RawMessage `json:"changes"`
	}
	_ = json.Unmarshal(details, &d) // details that are not an object change no role
	_, changed := d.Changes["role"]
	return changed == (c == roleChanged)
}

// EventSourceSQL is a condition on audit_events rows (action, details)
// that selects the events of types, or all events when types is empty.
// The table above is the only place the mapping lives; the store builds
// its queries from this.
func EventSourceSQL(types []string) string {
	cond := ""
	for _, s := range eventSources {
		if len(types) > 0 && !slices.Contains(types, s.Type) {
			continue
		}
		if cond != "" {
			cond += " OR "
		}
		// Actions and types are constants of this file, never client text.
		cond += "(action = '" + s.Action + "'"
		switch s.When {
		case roleChanged:
			cond += " AND details->'changes' ? 'role'"
		case roleUnchanged:
			cond += " AND NOT coalesce(details->'changes' ? 'role', false)"
		}
		cond += ")"
	}
	return "(" + cond + ")"
}

// NewEvent makes the event of an audit event of type typ.
func NewEvent(e *AuditEvent, typ string) (*Event, error) {
	details := e.Details
	if len(details) == 0 {
		details = json.RawMessage(`{}`)
	}
	data, err := json.Marshal(EventData{TargetType: e.TargetType, TargetID: e.TargetID,
		ActorType: e.ActorType, ActorID: e.ActorID, Details: details})
	if err != nil {
		return nil, err
	}
	return &Event{ID: e.ID, Type: typ, CreatedAt: e.OccurredAt.UTC(), TenantID: e.TenantID, Data: data}, nil
}

// EventFilter selects a page of the events feed, oldest first: the events
// after the position After (from the start when ""), of Types (all when
// empty).
type EventFilter struct {
	After string
	Types []string
	Limit int
}

// EventPage is one page of the feed. NextCursor is always set: the
// position after the last event listed, or, on the last page, the position
// the next events will come after, for the client to ask from later.
type EventPage struct {
	Items      []*Event
	NextCursor string
}

// EventService reads the events feed.
type EventService interface {
	// FindEvents returns a page of the tenant's events in the order they
	// became final; an event appears only once every change that could
	// come before it has committed or rolled back. EINVALID for a bad
	// cursor, type or limit.
	FindEvents(ctx context.Context, tenantID string, f EventFilter) (*EventPage, error)
}
