package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.StatsService = (*StatsService)(nil)

// StatsService is the PostgreSQL implementation of roster.StatsService.
// Counts by role, status, MFA method, sign-up day and passkey kind come from
// the counters migrations/0009_stats.sql keeps; what depends on the clock
// (lockouts, open invitations) and the few waiting for approval from
// partial indexes.
type StatsService struct {
	db *DB
}

// NewStatsService returns a StatsService on db.
func NewStatsService(db *DB) *StatsService {
	return &StatsService{db: db}
}

// The filter is $2 (role, NULL for any) and $3 (active, NULL for any) in
// every query, so that each is one prepared shape.
const (
	statsUserCounts = `SELECT role, active, mfa_mask, sum(n) FROM user_counts
		WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::boolean IS NULL OR active = $3)
		GROUP BY role, active, mfa_mask`
	statsSignupDays = `SELECT day, sum(n) FROM user_signup_days
		WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::boolean IS NULL OR active = $3)
		  AND day >= $4 AND day <= $5
		GROUP BY day`
	statsPasskeyCounts = `SELECT backup_eligible, backed_up, sum(n) FROM passkey_counts
		WHERE tenant_id = $1 AND $2::text IS NULL AND $3::boolean IS NULL
		GROUP BY backup_eligible, backed_up`
	// A filtered passkey count joins the owners: its cost grows with the
	// tenant's passkeys, not its users.
	statsPasskeysOfUsers = `SELECT p.backup_eligible, p.backed_up, count(*) FROM passkeys p
		JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.user_id
		WHERE p.tenant_id = $1 AND ($2::text IS NULL OR u.role = $2) AND ($3::boolean IS NULL OR u.active = $3)
		GROUP BY p.backup_eligible, p.backed_up`
	statsLockedUsers = `SELECT count(*) FROM users
		WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::boolean IS NULL OR active = $3)
		  AND locked_until > $4`
	statsPendingApproval = `SELECT count(*) FROM users
		WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::boolean IS NULL OR active = $3)
		  AND pending_approval`
	statsPendingInvitations = `SELECT count(*) FROM invitations
		WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2)
		  AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3`
)

// mfaBits are the bits of roster_mfa_mask in migrations/0009_stats.sql.
var mfaBits = map[string]int{roster.MFATOTP: 1, roster.MFASMS: 2, roster.MFAEmail: 4, roster.MFAPasskey: 8}

// UserStats returns the tenant's statistics, read in one snapshot, or
// with a team or a bounded scope those of its members (teamStats).
// EINVALID naming "role" for an unknown role or "team" for an unknown
// team, EFORBIDDEN for a team outside the scope.
func (s *StatsService) UserStats(ctx context.Context, tenantID string, f roster.StatsFilter) (*roster.UserStats, error) {
	role, err := statsRole(ctx, s.db.db, tenantID, f)
	if err != nil {
		return nil, err
	}
	if f.Team != "" || !f.Scope.All() {
		return s.teamStats(ctx, tenantID, f)
	}
	now := s.db.now()
	first, today := signupWindow(now)
	st := &roster.UserStats{Roles: map[string]int64{}, MFAMethods: map[string]int64{}, AsOf: now}
	for _, r := range roster.BuiltInRoles() {
		st.Roles[r] = 0
	}
	for _, m := range roster.MFAMethods() {
		st.MFAMethods[m] = 0
	}
	tx, err := s.db.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	filter := []any{tenantID, role, f.Active}

	if err := s.scanEach(ctx, tx, statsUserCounts, filter, func(rows *sql.Rows) error {
		var r string
		var active bool
		var mask int
		var n int64
		if err := rows.Scan(&r, &active, &mask, &n); err != nil {
			return err
		}
		st.TotalUsers += n
		if active {
			st.ActiveUsers += n
		} else {
			st.InactiveUsers += n
		}
		st.Roles[r] += n
		if mask != 0 {
			st.MFAEnabled += n
		}
		for m, bit := range mfaBits {
			if mask&bit != 0 {
				st.MFAMethods[m] += n
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	st.MFADisabled = st.TotalUsers - st.MFAEnabled

	byDay := map[time.Time]int64{}
	if err := s.scanEach(ctx, tx, statsSignupDays, append(filter, first, today), func(rows *sql.Rows) error {
		var day time.Time
		var n int64
		if err := rows.Scan(&day, &n); err != nil {
			return err
		}
		byDay[day.UTC()] = n
		return nil
	}); err != nil {
		return nil, err
	}
	setSignups(st, first, byDay)

	passkeys := statsPasskeyCounts
	if role != nil || f.Active != nil {
		passkeys = statsPasskeysOfUsers
	}
	if err := s.scanEach(ctx, tx, passkeys, filter, func(rows *sql.Rows) error {
		var eligible, backedUp bool
		var n int64
		if err := rows.Scan(&eligible, &backedUp, &n); err != nil {
			return err
		}
		st.PasskeysTotal += n
		if backedUp {
			st.PasskeysSynced += n
		}
		if !eligible {
			st.PasskeysDeviceBound += n
		}
		return nil
	}); err != nil {
		return nil, err
	}

	if err := s.scanEach(ctx, tx, statsLockedUsers, append(filter, now), func(rows *sql.Rows) error {
		return rows.Scan(&st.LockedUsers)
	}); err != nil {
		return nil, err
	}
	if err := s.scanEach(ctx, tx, statsPendingApproval, filter, func(rows *sql.Rows) error {
		return rows.Scan(&st.PendingApproval)
	}); err != nil {
		return nil, err
	}
	if err := s.scanEach(ctx, tx, statsPendingInvitations, []any{tenantID, role, now}, func(rows *sql.Rows) error {
		return rows.Scan(&st.PendingInvitations)
	}); err != nil {
		return nil, err
	}
	if err := s.scanEach(ctx, tx, statsFailedSignIns, []any{tenantID, now.Add(-24 * time.Hour)}, func(rows *sql.Rows) error {
		return rows.Scan(&st.FailedSignIns24h)
	}); err != nil {
		return nil, err
	}
	return st, translate(tx.Commit())
}

// statsRole is the role filter as a query parameter, nil for any.
// EINVALID naming "role" for an unknown role.
func statsRole(ctx context.Context, q sqlx.QueryerContext, tenantID string, f roster.StatsFilter) (*string, error) {
	if f.Role == "" {
		return nil, nil
	}
	if err := knownRole(ctx, q, tenantID, f.Role); err != nil {
		return nil, err
	}
	return &f.Role, nil
}

// signupWindow is the first and last UTC day of the sign-up series ending
// on now's day.
func signupWindow(now time.Time) (first, today time.Time) {
	today = now.UTC().Truncate(24 * time.Hour)
	return today.AddDate(0, 0, -(roster.SignupDays - 1)), today
}

// setSignups fills the daily series from first, with zeros for days
// without sign-ups, and its 7- and 30-day sums.
func setSignups(st *roster.UserStats, first time.Time, byDay map[time.Time]int64) {
	st.Daily = make([]roster.DayCount, roster.SignupDays)
	for i := range st.Daily {
		day := first.AddDate(0, 0, i)
		st.Daily[i] = roster.DayCount{Date: day, Count: byDay[day]}
		st.SignupsLast30Days += byDay[day]
		if i >= roster.SignupDays-7 {
			st.SignupsLast7Days += byDay[day]
		}
	}
}

// scanEach runs query on tx and calls scan for each row. The queries are
// prepared once per connection: every one is a parameterised shape whose
// best plan does not depend on its values, and a dashboard read is then
// one round trip per query.
func (s *StatsService) scanEach(ctx context.Context, tx *sqlx.Tx, query string, args []any, scan func(*sql.Rows) error) error {
	stmt, err := s.db.prepared(ctx, query)
	if err != nil {
		return err
	}
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return translate(err)
		}
	}
	return translate(rows.Err())
}
