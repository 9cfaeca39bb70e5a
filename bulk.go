package roster

import (
	"context"
	"strings"
	"time"
)

// Bulk user actions.
const (
	BulkRemindMFA  = "remind_mfa" // email enrolment instructions to active users without MFA
	BulkDeactivate = "deactivate"
	BulkActivate   = "activate"
	BulkSetRole    = "set_role"
	BulkResetMFA   = "reset_mfa"
	BulkDelete     = "delete"
)

// BulkActions lists the bulk actions.
func BulkActions() []string {
	return []string{BulkRemindMFA, BulkDeactivate, BulkActivate, BulkSetRole, BulkResetMFA, BulkDelete}
}

// Limits of bulk actions.
const (
	// MaxBulkIDs is the most ids one request may name.
	MaxBulkIDs = 1000
	// MaxBulkSync is the largest selection applied within the request;
	// a larger one becomes a background job.
	MaxBulkSync = 1000
	// MaxBulkFailures is how many failures a result lists; the count goes on.
	MaxBulkFailures = 1000
)

// BulkRequest is one action over a selection of a tenant's users: exactly
// one of IDs and Filter is set. Role is the new role of BulkSetRole.
type BulkRequest struct {
	Action string
	IDs    []string
	Filter *UserFilter // the list's selection keys; no sort or page
	Role   string
	// Scope bounds the users the action reaches (Principal.BulkScope):
	// an id outside it fails as "not found", and a filter selects
	// within it.
	Scope UserScope
}

// BulkResult is what a bulk action did. Matched counts the users selected;
// each is then succeeded, skipped (remind_mfa to a user who needs no
// reminder) or failed. Failed lists at most MaxBulkFailures failures;
// FailedCount counts them all.
type BulkResult struct {
	Matched     int64         `json:"matched"`
	Succeeded   int64         `json:"succeeded"`
	Skipped     int64         `json:"skipped"`
	FailedCount int64         `json:"failed_count"`
	Failed      []BulkFailure `json:"failed"`
}

// BulkFailure is one user a bulk action could not change, and why. The
// error is the caller-safe message of the single-user operation; an id of
// another tenant is "not found", exactly like a missing one.
type BulkFailure struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// JobKindBulkUsers is a bulk action over a user filter.
const JobKindBulkUsers = "users.bulk"

// Job is a background job of a tenant and its progress.
type Job struct {
	ID         string
	TenantID   string
	Kind       string
	Status     string
	Action     string
	Total      *int64 // nil until the job starts and counts its selection
	Processed  int64
	Result     BulkResult
	Error      string // why a failed job failed
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// BulkService applies bulk actions to a tenant's users. Each user's change
// is its own audited transaction, made by the single-user operation, so its
// guards hold; one failure does not undo the others.
type BulkService interface {
	// BulkUsers applies req to its selection within the call and returns
	// the result when the selection has at most MaxBulkSync users; a larger
	// one is queued as a job, which it returns instead. EINVALID for a bad
	// request or filter.
	BulkUsers(ctx context.Context, tenantID string, by Actor, req BulkRequest) (*BulkResult, *Job, error)

	// FindJobByID returns one of the tenant's jobs. ENOTFOUND.
	FindJobByID(ctx context.Context, tenantID, id string) (*Job, error)
}

// JobRunner is what a background worker needs to run queued jobs.
type JobRunner interface {
	// ClaimJob takes the queued job that waited longest, or a running one
	// whose lease has expired (its worker died), for owner until lease has
	// passed. It returns nil when there is none.
	ClaimJob(ctx context.Context, owner string, lease time.Duration) (*Job, error)

	// RunJob works on a claimed job for at most budget users (0: no limit)
	// and extends the lease as it goes. It finishes the job when its
	// selection is exhausted and otherwise puts it back in the queue, so
	// that other tenants' jobs take turns. When ctx ends it puts the job
	// back and returns ctx's error. A lost lease stops it.
	RunJob(ctx context.Context, job *Job, owner string, lease time.Duration, budget int) error

	// QueueInactivityJobs queues today's inactivity job (JobKindInactivity)
	// of every tenant whose policy sets deactivate_after_days, once a day
	// however many workers call it, and returns how many it queued.
	QueueInactivityJobs(ctx context.Context) (int, error)
}

// Audit actions of bulk actions.
const (
	// ActionUsersBulk is one bulk request or job, when it ends: its
	// action, how many users matched, succeeded, were skipped and failed.
	ActionUsersBulk = "users.bulk_action"
	// ActionJobQueued is a bulk request large enough to become a job.
	ActionJobQueued = "job.queued"
	// ActionMFAReminderQueued is a reminder to enrol a second factor, put
	// in the outbox.
	ActionMFAReminderQueued = "mfa.reminder_queued"
)

// MFAReminderEmail is the reminder remind_mfa sends u: how to enrol a second
// factor, with a link to their account page at publicURL.
func MFAReminderEmail(publicURL string, u *User) Email {
	name := greetingName(u)
	account := strings.TrimRight(publicURL, "/") + "/account"
	return Email{
		To:      u.Email,
		Subject: "Action needed: set up two-step verification",
		Body: "Hello " + name + ",\n\n" +
			"Your administrator asks you to set up two-step verification (MFA) for your account.\n\n" +
			"1. Sign in at " + account + "\n" +
			"2. Open Security and choose a method: an authenticator app, a code by email, or a code by text message.\n" +
			"3. Follow the steps, and keep the recovery codes you are given somewhere safe.\n\n" +
			"Until you do, your sign-in is protected by your password alone.\n\n" +
			"If you did not expect this message, contact your administrator.\n",
	}
}
