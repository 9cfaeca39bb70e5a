package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// teamStatsSQL is UserStats over the distinct members of a team's subtree
// or a caller's scope, in one statement: the members are collected once
// (the list's own team condition) and every figure is counted from them.
// %[1]s is the users' WHERE clause; $first, $now and $since are the start
// of the sign-up series, the clock of lockouts, and 24 hours ago.
const teamStatsSQL = `WITH members AS MATERIALIZED (
		SELECT id, role, active, mfa_methods, created_at, locked_until, pending_approval FROM users WHERE %[1]s)
	SELECT u.total, u.active, u.mfa, u.totp, u.sms, u.email, u.passkey, u.locked, u.pending,
		(SELECT coalesce(json_object_agg(role, n), '{}') FROM (SELECT role, count(*) AS n FROM members GROUP BY role) r)::text,
		(SELECT coalesce(json_object_agg(day, n), '{}') FROM (
			SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM members
			WHERE created_at >= $first GROUP BY 1) d)::text,
		p.total, p.synced, p.device_bound,
		(SELECT count(*) FROM sign_ins s WHERE s.tenant_id = $tenant AND s.result = 'failure' AND s.at > $since
			AND s.user_id IN (SELECT id FROM members))
	FROM (SELECT count(*) AS total, count(*) FILTER (WHERE active) AS active,
			count(*) FILTER (WHERE cardinality(mfa_methods) > 0) AS mfa,
			count(*) FILTER (WHERE 'totp' = ANY (mfa_methods)) AS totp,
			count(*) FILTER (WHERE 'sms' = ANY (mfa_methods)) AS sms,
			count(*) FILTER (WHERE 'email' = ANY (mfa_methods)) AS email,
			count(*) FILTER (WHERE 'passkey' = ANY (mfa_methods)) AS passkey,
			count(*) FILTER (WHERE locked_until > $now) AS locked,
			count(*) FILTER (WHERE pending_approval) AS pending
		FROM members) u,
		(SELECT count(*) AS total, count(*) FILTER (WHERE backed_up) AS synced,
			count(*) FILTER (WHERE NOT backup_eligible) AS device_bound
		FROM passkeys WHERE tenant_id = $tenant AND user_id IN (SELECT id FROM members)) p`

// TeamStatsQuery is the SQL UserStats runs for a filter with a team or a
// bounded scope, and its arguments at now; exported for the benchmark's
// EXPLAIN. EINVALID for a malformed team.
func TeamStatsQuery(tenantID string, f roster.StatsFilter, now time.Time) (string, []any, error) {
	return teamStatsQuery(tenantID, f, now, nil)
}

// teamStatsQuery is TeamStatsQuery with the members checkTeam read when
// they are few.
func teamStatsQuery(tenantID string, f roster.StatsFilter, now time.Time, reach *teamReach) (string, []any, error) {
	b := &sqlBuilder{}
	where, err := userConds(b, tenantID, roster.UserFilter{Role: f.Role, Active: f.Active, Team: f.Team, Scope: f.Scope}, reach)
	if err != nil {
		return "", nil, err
	}
	first, _ := signupWindow(now)
	query := strings.NewReplacer("$tenant", "$1", "$first", b.arg(first), "$now", b.arg(now),
		"$since", b.arg(now.Add(-24*time.Hour))).Replace(fmt.Sprintf(teamStatsSQL, strings.Join(where, " AND ")))
	return query, b.args, nil
}

// teamStats is UserStats for a filter with a team or a bounded scope:
// counted live, because the counters have no teams, and a user in two
// teams of a subtree counts once. Invitations belong to no team: none is
// pending in one. EINVALID naming "team" for an unknown team, EFORBIDDEN
// for one outside the scope.
// A team of more than fewMembers memberships is counted at most once a
// teamStatsTTL (teamStatsCache).
func (s *StatsService) teamStats(ctx context.Context, tenantID string, f roster.StatsFilter) (*roster.UserStats, error) {
	reach, err := checkTeam(ctx, s.db, tenantID, "team", f.Team, f.Scope)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	if reach.few {
		return s.countTeamStats(ctx, tenantID, f, now, &reach)
	}
	return s.db.teamStats.get(ctx, teamStatsKey(tenantID, f), now, func(ctx context.Context) (*roster.UserStats, error) {
		return s.countTeamStats(ctx, tenantID, f, now, &reach)
	})
}

// countTeamStats counts teamStats' figures at now.
func (s *StatsService) countTeamStats(ctx context.Context, tenantID string, f roster.StatsFilter, now time.Time, reach *teamReach) (*roster.UserStats, error) {
	query, args, err := teamStatsQuery(tenantID, f, now, reach)
	if err != nil {
		return nil, err
	}
	st := &roster.UserStats{Roles: map[string]int64{}, AsOf: now}
	var totp, sms, email, passkey int64
	var roles, days string
	err = s.db.queryRow(ctx, query, args...).Scan(&st.TotalUsers, &st.ActiveUsers, &st.MFAEnabled, &totp, &sms, &email, &passkey,
		&st.LockedUsers, &st.PendingApproval, &roles, &days,
		&st.PasskeysTotal, &st.PasskeysSynced, &st.PasskeysDeviceBound, &st.FailedSignIns24h)
	if err != nil {
		return nil, translate(err)
	}
	st.InactiveUsers = st.TotalUsers - st.ActiveUsers
	st.MFADisabled = st.TotalUsers - st.MFAEnabled
	st.MFAMethods = map[string]int64{roster.MFATOTP: totp, roster.MFASMS: sms, roster.MFAEmail: email, roster.MFAPasskey: passkey}
	if err := json.Unmarshal([]byte(roles), &st.Roles); err != nil {
		return nil, fmt.Errorf("team stats roles: %w", err)
	}
	for _, r := range roster.BuiltInRoles() {
		st.Roles[r] += 0
	}
	var byDate map[string]int64
	if err := json.Unmarshal([]byte(days), &byDate); err != nil {
		return nil, fmt.Errorf("team stats days: %w", err)
	}
	byDay := make(map[time.Time]int64, len(byDate))
	for d, n := range byDate {
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return nil, fmt.Errorf("team stats day %q: %w", d, err)
		}
		byDay[day] = n
	}
	first, _ := signupWindow(now)
	setSignups(st, first, byDay)
	return st, nil
}
