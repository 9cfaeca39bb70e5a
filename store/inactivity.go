package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// QueueInactivityJobs queues today's (UTC) inactivity job of every tenant
// whose policy sets deactivate_after_days, and returns how many it queued.
// jobs_daily_key makes a tenant's job of a day one row however many
// replicas queue it at once.
func (s *JobRunner) QueueInactivityJobs(ctx context.Context) (int, error) {
	now := s.db.now()
	params, err := json.Marshal(map[string]string{"day": now.Format(time.DateOnly)})
	if err != nil {
		return 0, fmt.Errorf("encode inactivity job params: %w", err)
	}
	actor, err := json.Marshal(roster.InactivityActor())
	if err != nil {
		return 0, fmt.Errorf("encode inactivity job actor: %w", err)
	}
	res, err := s.db.db.ExecContext(ctx, `
		INSERT INTO jobs (tenant_id, id, kind, params, actor, status, created_at, updated_at)
		SELECT id, gen_random_uuid(), $1, $2, $3, 'queued', $4, $4 FROM tenants
		WHERE coalesce((settings -> '`+securityPolicyKey+`' ->> 'deactivate_after_days')::int, 0) > 0
		ON CONFLICT (tenant_id, kind, (params ->> 'day')) WHERE kind = 'inactivity' DO NOTHING`,
		roster.JobKindInactivity, string(params), string(actor), now)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

// inactiveUsers selects, after a key, the active users of a tenant last
// active (signed in, or created if they never did) at or before $3, the
// least recently active first: one range of users_inactive_since_idx.
const inactiveUsers = `SELECT id, coalesce(last_login_at, created_at) FROM users
	WHERE tenant_id = $1 AND active AND coalesce(last_login_at, created_at) <= $3
	  AND (coalesce(last_login_at, created_at), id) > ($4, $2)
	ORDER BY coalesce(last_login_at, created_at), id LIMIT $5`

// errActiveAgain is a user who signed in after the job selected them.
var errActiveAgain = errors.New("signed in since")

// runInactivity works on a claimed inactivity job: it walks the users the
// policy is about to deactivate and those past it, from where it stopped,
// warning the first and deactivating the second, each with its outcome and
// position committed together (as runUser does for bulk jobs).
func (s *JobRunner) runInactivity(ctx context.Context, r *jobRow, owner string, lease time.Duration, budget int, after userKey) error {
	policy, err := securityPolicy(ctx, s.db.db, r.TenantID, false)
	if err != nil {
		return s.releaseJob(ctx, r, owner, err)
	}
	days := policy.DeactivateAfterDays
	now := s.db.now()
	deactivateBy := now.AddDate(0, 0, -days)
	warnBy := deactivateBy.AddDate(0, 0, roster.InactivityWarningDays)
	if after.ID == "" {
		after.ID = "00000000-0000-0000-0000-000000000000"
	}
	for done := 0; days > 0; {
		rows, err := s.db.db.QueryContext(ctx, inactiveUsers, r.TenantID, after.ID, warnBy, after.CreatedAt, bulkBatch)
		if err != nil {
			return s.releaseJob(ctx, r, owner, translate(err))
		}
		var keys []userKey // CreatedAt holds when the user was last active
		for rows.Next() {
			var k userKey
			if err := rows.Scan(&k.ID, &k.CreatedAt); err != nil {
				rows.Close()
				return s.releaseJob(ctx, r, owner, translate(err))
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.releaseJob(ctx, r, owner, translate(err))
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			if budget > 0 && done >= budget {
				return s.releaseJob(ctx, r, owner, nil)
			}
			if err := ctx.Err(); err != nil {
				return s.releaseJob(ctx, r, owner, err)
			}
			err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
				if _, err := tx.ExecContext(ctx, `SAVEPOINT inactive_user`); err != nil {
					return err
				}
				o, err := s.inactiveUser(ctx, tx, r.TenantID, k, days, deactivateBy)
				if err != nil {
					return err
				}
				if o.failure != "" {
					if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT inactive_user`); err != nil {
						return err
					}
				}
				return s.checkpoint(ctx, tx, r, owner, lease, k, o)
			})
			if errors.Is(err, errLeaseLost) {
				return err
			} else if err != nil {
				return s.releaseJob(ctx, r, owner, err)
			}
			after = k
			done++
		}
	}
	_, err = s.db.db.ExecContext(ctx, `
		UPDATE jobs SET status = 'succeeded', finished_at = $4, updated_at = $4, lease_owner = NULL, lease_until = NULL
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND status = 'running'`, r.TenantID, r.ID, owner, s.db.now())
	return translate(err)
}

// inactiveUser deactivates the user of k when they were last active by
// deactivateBy, and otherwise warns them, once for that last activity.
// A user who signed in since they were selected is skipped; the last
// active admin is a failure, which updateUser's guard refuses.
func (s *JobRunner) inactiveUser(ctx context.Context, tx *sqlx.Tx, tenantID string, k userKey, days int, deactivateBy time.Time) (outcome, error) {
	now := s.db.now()
	by := roster.InactivityActor()
	if !k.CreatedAt.After(deactivateBy) {
		_, err := updateUser(ctx, tx, now, tenantID, by, k.ID, 0, func(u *roster.User) error {
			if lastActive(u).After(deactivateBy) {
				return errActiveAgain
			}
			u.Active = false
			return nil
		})
		if errors.Is(err, errActiveAgain) {
			return outcome{skipped: true}, nil
		}
		return userOutcome(err)
	}
	u, err := getUser(ctx, tx, tenantID, k.ID, true)
	if err != nil {
		return userOutcome(err)
	}
	if !u.Active || !lastActive(u).Equal(k.CreatedAt) {
		return outcome{skipped: true}, nil
	}
	on := k.CreatedAt.AddDate(0, 0, days)
	key := fmt.Sprintf("inactivity-warning:%s:%d", u.ID, k.CreatedAt.UnixMicro())
	emailID, err := enqueueEmail(ctx, tx, now, tenantID, key, roster.InactivityWarningEmail(u, on))
	if roster.ErrorCode(err) == roster.EINVALID {
		return outcome{failure: "the user's address cannot be mailed"}, nil
	} else if err != nil || emailID == "" {
		return outcome{skipped: emailID == ""}, err // "": warned already
	}
	return outcome{}, insertAudit(ctx, tx, now, tenantID, by, roster.ActionUserInactivityWarned, "user", u.ID,
		map[string]any{"email_id": emailID, "deactivate_on": on})
}

// lastActive is when u last signed in, or was created if they never did.
func lastActive(u *roster.User) time.Time {
	if u.LastLoginAt != nil {
		return *u.LastLoginAt
	}
	return u.CreatedAt
}
