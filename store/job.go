package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// MaxJobAttempts is how many times a job may be interrupted (its worker
// died or its database went away) before it is failed for good.
const MaxJobAttempts = 5

// jobParams is what a bulk job does, as the jobs table keeps it.
type jobParams struct {
	Action string    `json:"action"`
	Role   string    `json:"role,omitempty"`
	Filter jobFilter `json:"filter"`
}

type jobFilter struct {
	Query           string     `json:"q,omitempty"`
	Email           string     `json:"email,omitempty"`
	Role            string     `json:"role,omitempty"`
	Active          *bool      `json:"active,omitempty"`
	MFA             *bool      `json:"mfa,omitempty"`
	MFAMethod       string     `json:"mfa_method,omitempty"`
	LastLoginBefore *time.Time `json:"last_login_before,omitempty"`
	NeverSignedIn   bool       `json:"never_signed_in,omitempty"`
	PendingApproval *bool      `json:"pending_approval,omitempty"`
	Team            string     `json:"team,omitempty"`
	// ScopeTeams are the teams whose subtrees bound the selection: a team
	// admin's job keeps their reach as it was asked.
	ScopeTeams []string `json:"scope_teams,omitempty"`
}

// newJobParams is what a job keeps of a bulk request: every key of its
// selection (TestJobKeepsTheWholeSelection).
func newJobParams(req roster.BulkRequest) jobParams {
	f := req.Filter
	return jobParams{Action: req.Action, Role: req.Role, Filter: jobFilter{
		Query: f.Query, Email: f.Email, Role: f.Role, Active: f.Active, MFA: f.MFA, MFAMethod: f.MFAMethod,
		LastLoginBefore: f.LastLoginBefore, NeverSignedIn: f.NeverSignedIn, PendingApproval: f.PendingApproval,
		Team: f.Team, ScopeTeams: req.Scope.Teams}}
}

func (p jobParams) request() roster.BulkRequest {
	scope := roster.UserScope{Teams: p.Filter.ScopeTeams}
	return roster.BulkRequest{Action: p.Action, Role: p.Role, Scope: scope, Filter: &roster.UserFilter{
		Query: p.Filter.Query, Email: p.Filter.Email, Role: p.Filter.Role, Active: p.Filter.Active, MFA: p.Filter.MFA, MFAMethod: p.Filter.MFAMethod,
		LastLoginBefore: p.Filter.LastLoginBefore, NeverSignedIn: p.Filter.NeverSignedIn, PendingApproval: p.Filter.PendingApproval,
		Team: p.Filter.Team, Scope: scope,
	}}
}

// jobRow is a row of the jobs table.
type jobRow struct {
	TenantID   string     `db:"tenant_id"`
	ID         string     `db:"id"`
	Kind       string     `db:"kind"`
	Params     []byte     `db:"params"`
	Actor      []byte     `db:"actor"`
	Status     string     `db:"status"`
	Total      *int64     `db:"total"`
	Processed  int64      `db:"processed"`
	Succeeded  int64      `db:"succeeded"`
	Skipped    int64      `db:"skipped"`
	Failed     int64      `db:"failed"`
	Failures   []byte     `db:"failures"`
	Cursor     string     `db:"cursor"`
	Attempts   int        `db:"attempts"`
	Error      *string    `db:"error"`
	CreatedAt  time.Time  `db:"created_at"`
	StartedAt  *time.Time `db:"started_at"`
	FinishedAt *time.Time `db:"finished_at"`
}

const jobColumns = `tenant_id, id, kind, params, actor, status, total, processed, succeeded, skipped, failed,
	failures, cursor, attempts, error, created_at, started_at, finished_at`

func (r *jobRow) job() (*roster.Job, error) {
	var p jobParams
	if err := json.Unmarshal(r.Params, &p); err != nil {
		return nil, fmt.Errorf("job %s params: %w", r.ID, err)
	}
	j := &roster.Job{ID: r.ID, TenantID: r.TenantID, Kind: r.Kind, Status: r.Status, Action: p.Action,
		Total: r.Total, Processed: r.Processed, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Result: roster.BulkResult{Matched: r.Processed, Succeeded: r.Succeeded, Skipped: r.Skipped, FailedCount: r.Failed}}
	if r.Error != nil {
		j.Error = *r.Error
	}
	if err := json.Unmarshal(r.Failures, &j.Result.Failed); err != nil {
		return nil, fmt.Errorf("job %s failures: %w", r.ID, err)
	}
	return j, nil
}

// queueJob stores a bulk request as a queued job, with its audit event.
func (s *BulkService) queueJob(ctx context.Context, tenantID string, by roster.Actor, req roster.BulkRequest) (*roster.Job, error) {
	params, err := json.Marshal(newJobParams(req))
	if err != nil {
		return nil, fmt.Errorf("encode job params: %w", err)
	}
	actor, err := json.Marshal(by)
	if err != nil {
		return nil, fmt.Errorf("encode job actor: %w", err)
	}
	now := s.db.now()
	j := &roster.Job{ID: newID(), TenantID: tenantID, Kind: roster.JobKindBulkUsers, Status: roster.JobQueued,
		Action: req.Action, CreatedAt: now, Result: roster.BulkResult{Failed: []roster.BulkFailure{}}}
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO jobs (tenant_id, id, kind, params, actor, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
			tenantID, j.ID, j.Kind, params, actor, j.Status, now)
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionJobQueued, "job", j.ID,
			map[string]any{"kind": j.Kind, "action": req.Action, "role": req.Role, "filter": req.Filter.Params()})
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// FindJobByID returns one of the tenant's jobs. ENOTFOUND.
func (s *BulkService) FindJobByID(ctx context.Context, tenantID, id string) (*roster.Job, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "job not found")
	}
	var r jobRow
	err := sqlx.GetContext(ctx, s.db.db, &r, `SELECT `+jobColumns+` FROM jobs WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return nil, notFound(translate(err), "job")
	}
	return r.job()
}

var _ roster.JobRunner = (*JobRunner)(nil)

// JobRunner is the PostgreSQL implementation of roster.JobRunner: it runs
// the bulk jobs BulkService queues, each user through the same operation
// a request applies.
type JobRunner struct {
	db   *DB
	bulk *BulkService
}

// NewJobRunner returns a JobRunner on db; publicURL is the base of the
// account link in MFA reminders.
func NewJobRunner(db *DB, publicURL string) *JobRunner {
	return &JobRunner{db: db, bulk: NewBulkService(db, publicURL)}
}

// ClaimJob takes the queued job that waited longest (a job that yielded
// after its slice waits behind the others), or a running one whose lease
// has expired, for owner. Taking over an expired lease counts an attempt.
func (s *JobRunner) ClaimJob(ctx context.Context, owner string, lease time.Duration) (*roster.Job, error) {
	now := s.db.now()
	var r jobRow
	err := sqlx.GetContext(ctx, s.db.db, &r, `
		WITH next AS (
			SELECT tenant_id, id FROM jobs
			WHERE status = 'queued' OR (status = 'running' AND lease_until < $1)
			ORDER BY updated_at LIMIT 1
			FOR UPDATE SKIP LOCKED
		)
		UPDATE jobs j SET
			attempts = j.attempts + CASE WHEN j.status = 'running' THEN 1 ELSE 0 END,
			status = 'running', lease_owner = $2, lease_until = $3,
			started_at = coalesce(j.started_at, $1), updated_at = $1
		FROM next WHERE j.tenant_id = next.tenant_id AND j.id = next.id
		RETURNING `+prefixed("j.", jobColumns), now, owner, now.Add(lease))
	if err != nil {
		if roster.ErrorCode(translate(err)) == roster.ENOTFOUND {
			return nil, nil
		}
		return nil, translate(err)
	}
	return r.job()
}

// RunJob works on a claimed bulk job: it walks the job's selection in
// keyset pages from where it stopped, and after each user records the
// outcome, the user's position and a longer lease in one statement, so a
// job taken over after a crash resumes after the last user it finished.
func (s *JobRunner) RunJob(ctx context.Context, job *roster.Job, owner string, lease time.Duration, budget int) error {
	var r jobRow
	err := sqlx.GetContext(ctx, s.db.db, &r, `SELECT `+jobColumns+` FROM jobs
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running'`, job.TenantID, job.ID, owner)
	if roster.ErrorCode(translate(err)) == roster.ENOTFOUND {
		return errLeaseLost
	} else if err != nil {
		return translate(err)
	}
	var p jobParams
	var by roster.Actor
	if err := json.Unmarshal(r.Params, &p); err != nil {
		return s.failJob(ctx, &r, owner, "the job's parameters are unreadable")
	}
	if err := json.Unmarshal(r.Actor, &by); err != nil {
		return s.failJob(ctx, &r, owner, "the job's actor is unreadable")
	}
	if r.Attempts >= MaxJobAttempts {
		return s.failJob(ctx, &r, owner, fmt.Sprintf("interrupted %d times", r.Attempts))
	}
	after, err := parseUserKey(r.Cursor)
	if err != nil {
		return s.failJob(ctx, &r, owner, "the job's position is unreadable")
	}
	if r.Kind == roster.JobKindInactivity {
		return s.runInactivity(ctx, &r, owner, lease, budget, after)
	}
	req := p.request()
	if r.Total == nil {
		total, err := s.bulk.countUsers(ctx, r.TenantID, *req.Filter)
		if err != nil {
			return s.releaseJob(ctx, &r, owner, err)
		}
		if _, err := s.db.db.ExecContext(ctx, `UPDATE jobs SET total = $3 WHERE tenant_id = $1 AND id = $2`,
			r.TenantID, r.ID, total); err != nil {
			return s.releaseJob(ctx, &r, owner, err)
		}
	}
	for done := 0; ; {
		keys, err := s.bulk.selectUserKeys(ctx, r.TenantID, *req.Filter, after, bulkBatch)
		if err != nil {
			return s.releaseJob(ctx, &r, owner, err)
		}
		if len(keys) == 0 {
			return s.finishJob(ctx, &r, owner, req, by)
		}
		for _, k := range keys {
			if budget > 0 && done >= budget {
				return s.releaseJob(ctx, &r, owner, nil)
			}
			if err := ctx.Err(); err != nil {
				return s.releaseJob(ctx, &r, owner, err)
			}
			if err := s.runUser(ctx, &r, owner, lease, req, by, k); errors.Is(err, errLeaseLost) {
				return err
			} else if err != nil {
				return s.releaseJob(ctx, &r, owner, err)
			}
			after = k
			done++
		}
	}
}

// runUser applies the job's action to one user and records the outcome and
// the user's position. Where the action's operation runs on a transaction
// (updates and reminders) both commit together, so a job resumed after a
// crash neither redoes nor skips a user; a refusal is rolled back to a
// savepoint and recorded. Deletion and MFA resets commit on their own, and
// a crash between the two commits redoes that one user (a deleted user is
// no longer selected; a reset is harmless to repeat).
func (s *JobRunner) runUser(ctx context.Context, r *jobRow, owner string, lease time.Duration, req roster.BulkRequest, by roster.Actor, k userKey) error {
	dedupeKey := "job:" + r.ID + ":" + k.ID
	if !onTx(req.Action) {
		o, err := s.bulk.applyOne(ctx, r.TenantID, by, req, k.ID, dedupeKey)
		if err != nil {
			return err
		}
		return s.checkpoint(ctx, s.db.db, r, owner, lease, k, o)
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT bulk_user`); err != nil {
			return err
		}
		o, err := s.bulk.applyOneOn(ctx, tx, r.TenantID, by, req, k.ID, dedupeKey)
		if err != nil {
			return err
		}
		if o.failure != "" {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT bulk_user`); err != nil {
				return err
			}
		}
		return s.checkpoint(ctx, tx, r, owner, lease, k, o)
	})
}

// checkpoint records one user's outcome and position on q, and extends the
// lease. errLeaseLost when another worker holds the job now, which also
// rolls back a change made on the same transaction.
func (s *JobRunner) checkpoint(ctx context.Context, q sqlx.ExecerContext, r *jobRow, owner string, lease time.Duration, k userKey, o outcome) error {
	var succeeded, skipped, failed int
	var failure []byte
	switch {
	case o.failure != "":
		failed = 1
		failure, _ = json.Marshal([]roster.BulkFailure{{ID: k.ID, Error: o.failure}})
	case o.skipped:
		skipped = 1
	default:
		succeeded = 1
	}
	now := s.db.now()
	res, err := q.ExecContext(ctx, `
		UPDATE jobs SET processed = processed + 1, succeeded = succeeded + $4, skipped = skipped + $5,
			failed = failed + $6,
			failures = CASE WHEN $7::jsonb IS NOT NULL AND jsonb_array_length(failures) < $8
				THEN failures || $7::jsonb ELSE failures END,
			cursor = $9, lease_until = $10, updated_at = $11
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running'`,
		r.TenantID, r.ID, owner, succeeded, skipped, failed, nullJSON(failure), roster.MaxBulkFailures,
		k.String(), now.Add(lease), now)
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errLeaseLost
	}
	return nil
}

// finishJob marks the job succeeded and writes its users.bulk_action event.
func (s *JobRunner) finishJob(ctx context.Context, r *jobRow, owner string, req roster.BulkRequest, by roster.Actor) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var done jobRow
		err := sqlx.GetContext(ctx, tx, &done, `
			UPDATE jobs SET status = 'succeeded', finished_at = $4, updated_at = $4, lease_owner = NULL, lease_until = NULL
			WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running'
			RETURNING `+jobColumns, r.TenantID, r.ID, owner, now)
		if roster.ErrorCode(translate(err)) == roster.ENOTFOUND {
			return errLeaseLost
		} else if err != nil {
			return err
		}
		res := &roster.BulkResult{Matched: done.Processed, Succeeded: done.Succeeded, Skipped: done.Skipped, FailedCount: done.Failed}
		details := bulkAuditDetails(req, res)
		details["job_id"] = r.ID
		details["filter"] = req.Filter.Params()
		return insertAudit(ctx, tx, now, r.TenantID, by, roster.ActionUsersBulk, "job", r.ID, details)
	})
}

// failJob ends a job that cannot go on.
func (s *JobRunner) failJob(ctx context.Context, r *jobRow, owner, reason string) error {
	now := s.db.now()
	_, err := s.db.db.ExecContext(context.WithoutCancel(ctx), `
		UPDATE jobs SET status = 'failed', error = $4, finished_at = $5, updated_at = $5, lease_owner = NULL, lease_until = NULL
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3`, r.TenantID, r.ID, owner, reason, now)
	return translate(err)
}

// releaseJob puts a job back in the queue for any worker to go on with,
// and returns cause. A job released because of an error counts an attempt.
func (s *JobRunner) releaseJob(ctx context.Context, r *jobRow, owner string, cause error) error {
	attempt := 0
	if cause != nil && !errors.Is(cause, context.Canceled) {
		attempt = 1
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := s.db.db.ExecContext(ctx, `
		UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, attempts = attempts + $4, updated_at = $5
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running'`,
		r.TenantID, r.ID, owner, attempt, s.db.now())
	if cause != nil {
		return cause
	}
	return translate(err)
}

// nullJSON is raw as a jsonb parameter, NULL when empty.
func nullJSON(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
