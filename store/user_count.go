package store

import (
	"strings"

	"context"

	"github.com/rosterhq/roster"
)

// userCountFromCounters sums the counters of migrations/0009_stats.sql:
// role, status and MFA methods are their groups, so a filter without q is
// counted exactly from at most a few thousand rows at any tenant size.
// $4 is whether a second factor is wanted (NULL: either), $5 the mask bit
// of a method (NULL: any).
const userCountFromCounters = `SELECT coalesce(sum(n), 0) FROM user_counts
	WHERE tenant_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::boolean IS NULL OR active = $3)
	  AND ($4::boolean IS NULL OR (mfa_mask <> 0) = $4) AND ($5::smallint IS NULL OR mfa_mask & $5 <> 0)`

// CountUsers counts the users f selects. Without q the answer is exact,
// from the stats counters; with q it is a count of matching rows that
// stops after roster.UserCountCap, and says so. EINVALID for a bad filter.
func (s *UserService) CountUsers(ctx context.Context, tenantID string, f roster.UserFilter) (roster.UserCount, error) {
	if err := knownRole(ctx, s.db.db, tenantID, f.Role); err != nil {
		return roster.UserCount{}, err
	}
	reach, err := checkTeam(ctx, s.db, tenantID, "team", f.Team, f.Scope)
	if err != nil {
		return roster.UserCount{}, err
	}
	query, args, err := userCountQuery(tenantID, f, &reach)
	if err != nil || !isUUID(tenantID) {
		return roster.UserCount{}, err
	}
	var n int64
	if err := s.db.queryRow(ctx, query, args...).Scan(&n); err != nil {
		return roster.UserCount{}, translate(err)
	}
	if !countedByCounters(f) && n > roster.UserCountCap {
		return roster.UserCount{Count: roster.UserCountCap, Capped: true}, nil
	}
	return roster.UserCount{Count: n}, nil
}

// countedByCounters reports whether the stats counters can count what f
// selects: role, status and second factors are their groups; a search, a
// sign-in time or a team is not.
func countedByCounters(f roster.UserFilter) bool {
	return !isSearch(f.Query) && f.Email == "" && f.LastLoginBefore == nil && !f.NeverSignedIn && f.PendingApproval == nil &&
		f.Team == "" && f.Scope.All()
}

// UserCountQuery is the SQL CountUsers runs for a filter: a sum of the
// counters without q, else a count of the matching rows stopped one past
// the cap. It is exported for the benchmark's EXPLAIN. EINVALID for a bad
// filter.
func UserCountQuery(tenantID string, f roster.UserFilter) (string, []any, error) {
	return userCountQuery(tenantID, f, nil)
}

// userCountQuery is UserCountQuery with what checkTeam found of the
// filter's teams.
func userCountQuery(tenantID string, f roster.UserFilter, reach *teamReach) (string, []any, error) {
	q := &sqlBuilder{}
	where, err := userConds(q, tenantID, f, reach)
	if err != nil {
		return "", nil, err
	}
	if !countedByCounters(f) {
		return `SELECT count(*) FROM (SELECT 1 FROM users WHERE ` + strings.Join(where, " AND ") + ` LIMIT ` +
			q.arg(roster.UserCountCap+1) + `) AS matching`, q.args, nil
	}
	var role, bit any
	if f.Role != "" {
		role = f.Role
	}
	mfa := f.MFA
	if f.MFAMethod != "" {
		bit = mfaBits[f.MFAMethod]
		if mfa == nil {
			enabled := true
			mfa = &enabled
		}
	}
	return userCountFromCounters, []any{tenantID, role, f.Active, mfa, bit}, nil
}

// UserMatchCountQuery is the SQL of the exact number of users a filter
// selects, with no cap: the benchmark's measure of a scenario's matches.
// EINVALID for a bad filter.
func UserMatchCountQuery(tenantID string, f roster.UserFilter) (string, []any, error) {
	q := &sqlBuilder{}
	where, err := userFilterConds(q, tenantID, f)
	if err != nil {
		return "", nil, err
	}
	return `SELECT count(*) FROM users WHERE ` + strings.Join(where, " AND "), q.args, nil
}
